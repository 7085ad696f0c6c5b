"""Parse ``kvcsi az ...`` and run it, with the Azure CLI's output, errors and exit codes.

Exit codes as az: 0 success; 1 an error (``ERROR: ...``); 2 a bad argument (argparse or
validation: ``ERROR: <message>`` plus where to find usage); 3 a missing resource (HTTP 404
from ARM, Graph or Key Vault). Service errors print as the SDKs format them:
``ERROR: (Code) Message`` then ``Code:`` and ``Message:`` lines.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ServiceRequestError,
)

from kvcsi.cli.az import (
    account,
    ad,
    aks,
    certificates,
    groups,
    identity,
    keys,
    keyvault,
    roles,
    secrets,
    vmss,
)
from kvcsi.cli.home import Home, NotRunning
from kvcsi.cli.output import FORMATS, render
from kvcsi.cli.session import AzError, Session


class _AzArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"ERROR: {message}\n\nRun '{self.prog} --help' to see the usage.\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--output", "-o", choices=FORMATS, default="json", type=str.lower)
    common.add_argument("--query")
    common.add_argument("--subscription")
    for flag in ("--only-show-errors", "--verbose", "--debug"):
        common.add_argument(flag, action="store_true")
    parser = _AzArgumentParser(prog="kvcsi az", description=__doc__)
    commands = parser.add_subparsers(dest="group", required=True,
                                     parser_class=_AzArgumentParser)
    for module in (groups, account, aks, vmss, identity, ad, roles):
        module.register(commands, common)
    vault_commands = keyvault.register(commands, common)
    for data_plane in (secrets, keys, certificates):
        data_plane.register(vault_commands, common)
    return parser


def _sdk_error(error: HttpResponseError) -> AzError:
    status = error.status_code
    failure = AzError("", str(error.message or error), status,
                      exit_code=3 if status == 404 else 1)
    return failure


def _fail(error: AzError) -> int:
    sys.stderr.write(error.render() + "\n")
    return error.exit_code


def run(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    session = Session(Home.from_environment(), subscription_override=args.subscription)
    try:
        result = args.handler(session, args)
    except NotRunning as error:
        sys.stderr.write(f"ERROR: {error}\n")
        return 1
    except AzError as error:
        return _fail(error)
    except ClientAuthenticationError as error:
        return _fail(_sdk_error(error))
    except HttpResponseError as error:
        return _fail(_sdk_error(error))
    except ServiceRequestError as error:
        return _fail(AzError("", f"Failed to connect: {error.message}"))
    text = render(result, args.output, args.query)
    if text:
        sys.stdout.write(text)
        sys.stdout.flush()
    return 0
