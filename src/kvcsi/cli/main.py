"""``kvcsi`` command line: dispatch to up/down/status/env/demo and the az/kubectl subsets."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from kvcsi.cli.home import Home, NotRunning


def _port(env_name: str, default: int) -> int:
    return int(os.environ.get(env_name, default))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kvcsi",
        description="Azure Key Vault secrets as files in pods, with a local Azure and cluster.",
        epilog="kvcsi az ... and kvcsi kubectl ... take the az/kubectl arguments of the "
               "walkthrough (kvcsi az --help, kvcsi kubectl --help).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start the local cloud and node runtime")
    up.add_argument("-d", "--detach", action="store_true", help="run in the background")
    up.add_argument("--https-port", type=int, default=_port("KVCSI_HTTPS_PORT", 8443))
    up.add_argument("--imds-port", type=int, default=_port("KVCSI_IMDS_PORT", 8480))
    commands.add_parser("down", help="stop everything kvcsi up started")
    commands.add_parser("status", help="what is running, where")
    env = commands.add_parser("env", help="shell exports for apps using the Azure SDKs")
    env.add_argument("--node", help="use this node's IMDS (default: the first node)")
    demo = commands.add_parser("demo", help="run the seed walkthrough end to end")
    demo.add_argument("--keep", action="store_true", help="keep the throwaway state dir")
    commands.add_parser("az", help="az-shaped commands against the local cloud",
                        add_help=False)
    commands.add_parser("kubectl", help="kubectl-shaped commands against the local cluster",
                        add_help=False)
    commands.add_parser("explain", add_help=False,
                        help="why an identity or pod may (not) read a Key Vault object "
                             "(kvcsi explain --help, kvcsi explain pod --help)")
    commands.add_parser("audit", add_help=False,
                        help="the local Key Vault's audit log (kvcsi audit --help)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] == "az":
        from kvcsi.cli.az.command import run as run_az

        return run_az(args_list[1:])
    if args_list and args_list[0] == "kubectl":
        from kvcsi.cli.kubectl.command import run as run_kubectl

        return run_kubectl(args_list[1:])
    if args_list and args_list[0] in ("explain", "audit"):
        from kvcsi.cli import audit, explain

        return (explain.run if args_list[0] == "explain" else audit.run)(args_list[1:])
    args = build_parser().parse_args(args_list)
    home = Home.from_environment()
    from kvcsi.cli import supervisor

    if args.command == "up":
        return supervisor.up(home, args.https_port, args.imds_port, args.detach)
    if args.command == "down":
        return supervisor.down(home)
    if args.command == "status":
        return supervisor.status(home)
    if args.command == "env":
        from kvcsi.cli import environment

        try:
            print(environment.render(home, args.node))
        except NotRunning as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        return 0
    if args.command == "demo":
        from kvcsi.cli import walkthrough

        return walkthrough.run(keep=args.keep)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
