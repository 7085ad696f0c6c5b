"""The first program of a container: bind its volumes at their mountPaths, then exec.

Runs inside ``unshare --mount --propagation private`` (util-linux), so the binds exist only
in the container's private mount namespace and vanish with its last process. As root the
node creates missing mountPath directories on the host beforehand. Without root it runs in
an unprivileged user namespace and cannot touch the host, so a missing mountPath is made
inside the namespace: the deepest existing ancestor (``/mnt`` for ``/mnt/secrets``) is
covered by a tmpfs that re-binds each of its entries, plus the new directory. Invoked as::

    python -m kvcsi.node.container_init [--bind SRC DST | --ro-bind SRC DST]... \
        [--workdir DIR] -- ARGV...

The environment is already the container's; it is passed on unchanged to ARGV.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path


def _mount(args: Sequence[str]) -> None:
    result = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.stderr.write(f"kvcsi container init: mount {' '.join(args)}: "
                         f"{result.stderr.strip()}\n")
        raise SystemExit(126)


def _deepest_existing(path: Path) -> Path:
    for candidate in path.parents:
        if candidate.exists():
            return candidate
    return Path("/")


def make_mount_point(target: Path, directory: bool) -> None:
    """Create ``target`` in this mount namespace only, keeping its parent's entries visible."""
    if target.exists() or target.is_symlink():
        return
    ancestor = _deepest_existing(target)
    if ancestor == Path("/"):
        sys.stderr.write(f"kvcsi container init: cannot create mountPath {target} without root "
                         "(it would need a new root directory); use a path under an existing "
                         "directory such as /mnt\n")
        raise SystemExit(126)
    staging = Path(tempfile.mkdtemp(prefix="kvcsi-mountpoint-"))
    _mount(["-t", "tmpfs", "-o", "mode=0755", "tmpfs", str(staging)])
    for entry in ancestor.iterdir():
        placeholder = staging / entry.name
        if entry.is_symlink():
            placeholder.symlink_to(os.readlink(entry))
            continue
        if entry.is_dir():
            placeholder.mkdir()
        else:
            placeholder.touch()
        _mount(["--rbind", str(entry), str(placeholder)])
    inside = staging / target.relative_to(ancestor)
    if directory:
        inside.mkdir(parents=True, exist_ok=True)
    else:
        inside.parent.mkdir(parents=True, exist_ok=True)
        inside.touch()
    _mount(["--rbind", str(staging), str(ancestor)])


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    workdir: str | None = None
    while args and args[0] != "--":
        option = args.pop(0)
        if option in ("--bind", "--ro-bind"):
            source, target = args.pop(0), args.pop(0)
            make_mount_point(Path(target), Path(source).is_dir())
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
