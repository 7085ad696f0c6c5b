"""The first program of a container: bind its volumes at their mountPaths, then exec.

Runs inside ``unshare --mount --propagation private`` (util-linux), so the binds exist only
in the container's private mount namespace and vanish with its last process. Invoked as::

    python -m kvcsi.node.container_init [--bind SRC DST | --ro-bind SRC DST]... \
        [--workdir DIR] -- ARGV...

The environment is already the container's; it is passed on unchanged to ARGV.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence


def _mount(args: Sequence[str]) -> None:
    result = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.stderr.write(f"kvcsi container init: mount {' '.join(args)}: "
                         f"{result.stderr.strip()}\n")
        raise SystemExit(126)


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    workdir: str | None = None
    while args and args[0] != "--":
        option = args.pop(0)
        if option in ("--bind", "--ro-bind"):
            source, target = args.pop(0), args.pop(0)
            _mount(["--bind", source, target])
            if option == "--ro-bind":
                _mount(["-o", "remount,bind,ro", target])
        elif option == "--workdir":
            workdir = args.pop(0)
        else:
            sys.stderr.write(f"kvcsi container init: unknown option {option}\n")
            raise SystemExit(126)
    command = args[1:]
    if not command:
        sys.stderr.write("kvcsi container init: nothing to run\n")
        raise SystemExit(126)
    if workdir:
        os.chdir(workdir)
    try:
        os.execvp(command[0], command)
    except OSError as error:
        sys.stderr.write(f"kvcsi container init: exec {command[0]}: {error.strerror}\n")
        raise SystemExit(127) from None


if __name__ == "__main__":
    main()
