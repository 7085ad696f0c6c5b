"""Without root, containers run in user namespaces and missing mountPaths are made there."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kvcsi.node import containers


def _userns_available() -> bool:
    return shutil.which("unshare") is not None and containers._user_namespaces_work()


pytestmark = pytest.mark.skipif(not _userns_available(),
                                reason="unprivileged user namespaces are not available here")


def _run_init(tmp_path: Path, source: Path, target: Path, *argv: str) -> str:
    command = containers.launch_argv(list(argv), [containers.BindMount(source, str(target), True)],
                                     None, containers.NamespaceMode.USER)
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_missing_mount_path_is_made_inside_the_namespace_only(tmp_path: Path) -> None:
    volume = tmp_path / "volume"
    volume.mkdir()
    (volume / "MySecret").write_bytes(b"SuperSecretValue")
    parent = tmp_path / "mnt"
    parent.mkdir()
    (parent / "existing.txt").write_text("still here")
    (parent / "link").symlink_to("existing.txt")
    target = parent / "secrets"

    out = _run_init(tmp_path, volume, target, "sh", "-c",
                    f"cat {target}/MySecret; echo; cat {parent}/existing.txt; echo; "
                    f"cat {parent}/link; echo; touch {target}/x 2>/dev/null || echo read-only")
    assert out.splitlines() == ["SuperSecretValue", "still here", "still here", "read-only"]
    assert not target.exists()  # the host never saw the mount point
    assert sorted(p.name for p in parent.iterdir()) == ["existing.txt", "link"]


def test_a_mount_path_directly_under_root_is_refused_clearly(tmp_path: Path) -> None:
    volume = tmp_path / "volume"
    volume.mkdir()
    command = containers.launch_argv(
        ["true"], [containers.BindMount(volume, "/kvcsi-does-not-exist-xyz", False)], None,
        containers.NamespaceMode.USER)
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 126
    assert "cannot create mountPath /kvcsi-does-not-exist-xyz without root" in done.stderr


def test_launch_argv_per_mode() -> None:
    mounts = [containers.BindMount(Path("/v"), "/mnt/s", True)]
    init = [sys.executable, "-I", "-m", "kvcsi.node.container_init", "--ro-bind", "/v", "/mnt/s"]
    assert containers.launch_argv(["sleep", "1"], mounts, None, containers.NamespaceMode.NONE) \
        == ["sleep", "1"]
    assert containers.launch_argv(["sleep", "1"], mounts, None, containers.NamespaceMode.ROOT) \
        == ["unshare", "--mount", "--propagation", "private", "--", *init, "--", "sleep", "1"]
    assert containers.launch_argv(["sleep", "1"], mounts, None, containers.NamespaceMode.USER) \
        == ["unshare", "--user", "--map-root-user", "--mount", "--propagation", "private", "--",
            *init, "--", "sleep", "1"]
