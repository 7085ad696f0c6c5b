"""A reader never sees a missing, empty or mixed file while rotation swaps content 1,000 times.

The reader is another process reading the mounted files (real tmpfs, as root) in a tight
loop; the driver rotates through kubelet-style republishes over its CSI socket, and swaps
happen while reads are in flight. Real rotations are minutes apart; here they are
milliseconds apart, so before each swap the rotating side waits until the reader finished
one more loop: a path lookup then never spans two swaps (the writer keeps the previous
generation for exactly that case), however the two processes are scheduled.
"""

from __future__ import annotations

import json
import mmap
import os
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kvcsi.driver.mounter import TmpfsMounter, filesystem_type

from .world import INTERVAL, make_world, spc

ROTATIONS = 1000
FILE_SIZE = 64 * 1024
READER = Path(__file__).with_name("reader_process.py")


def _content(name: str, version: int) -> bytes:
    header = f"{name}:{version}:".encode()
    digits = str(version).encode()
    return header + (digits * (FILE_SIZE // len(digits) + 1))[: FILE_SIZE - len(header)]


def _wait_for_one_more_loop(counter: mmap.mmap, reader: subprocess.Popen) -> None:
    start = struct.unpack_from("Q", counter, 0)[0]
    deadline = time.monotonic() + 10
    while struct.unpack_from("Q", counter, 0)[0] == start:
        assert reader.poll() is None, "the reader died"
        assert time.monotonic() < deadline, "the reader made no progress"
        time.sleep(0.0002)


@pytest.mark.requires_root
def test_reader_never_sees_missing_empty_or_mixed_files(tmp_path: Path) -> None:
    for world in make_world(tmp_path, mounter=TmpfsMounter(16 * 1024 * 1024)):
        world.store.create(spc())
        provider = world.driver.provider
        provider.files = [("a", 0o644, _content("a", 0)), ("b", 0o644, _content("b", 0))]
        app = world.add_pod("app")
        request = world.request(app)
        world.driver.node.NodePublishVolume(request)
        target = request.target_path
        assert filesystem_type(target) == "tmpfs"

        stop_file = tmp_path / "stop"
        counter_file = tmp_path / "loops"
        counter_file.write_bytes(bytes(8))
        reader = subprocess.Popen(
            [sys.executable, str(READER), target, str(stop_file), str(counter_file)],
            stdout=subprocess.PIPE, text=True)
        with open(counter_file, "r+b") as handle:
            counter = mmap.mmap(handle.fileno(), 8)
        try:
            assert reader.stdout is not None
            assert reader.stdout.readline().strip() == "ready"
            for version in range(1, ROTATIONS + 1):
                _wait_for_one_more_loop(counter, reader)
                provider.files = [("a", 0o644, _content("a", version)),
                                  ("b", 0o644, _content("b", version))]
                provider.versions = [("secret/a", str(version)), ("secret/b", str(version))]
                world.clock.advance(INTERVAL)
                world.driver.node.NodePublishVolume(request)
        finally:
            stop_file.touch()
            output, _ = reader.communicate(timeout=30)
        report = json.loads(output.strip().splitlines()[-1])

        assert report["problems"] == [] and report["problem_count"] == 0
        assert report["reads"] > ROTATIONS
        assert report["versions"] > 10  # the reader really ran alongside the rotations
        assert len(provider.requests) == ROTATIONS + 1
        with open(os.path.join(target, "a"), "rb") as handle:
            assert handle.read() == _content("a", ROTATIONS)
        entries = sorted(os.listdir(target))
        generations = [name for name in entries if name.startswith("..2")]
        assert len(generations) == 2  # the current one and the previous one, no more
        assert entries == sorted(["..data", *generations, "a", "b"])
