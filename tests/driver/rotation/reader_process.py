"""A pod's reader: reads two mounted files in a tight loop and reports what it saw.

Run as ``python reader_process.py <target> <stop-file> <counter-file>``; after every loop the
reader stores its loop count (8 bytes, native order) in the counter file, which the rotating
side watches. Each file must always be present,
non-empty and one whole version (``<name>:<n>:`` followed by ``<n>`` repeated to the full
size); two files read while ``..data`` did not move must carry the same version. Prints one
JSON line: reads, pairs checked, versions seen, and the first problems.
"""

from __future__ import annotations

import json
import mmap
import os
import re
import struct
import sys

VERSION = re.compile(rb"^(?P<name>[ab]):(?P<n>\d+):")


def check(name: str, content: bytes) -> tuple[int | None, str | None]:
    if not content:
        return None, f"{name}: empty"
    match = VERSION.match(content)
    if match is None or match["name"].decode() != name:
        return None, f"{name}: bad header {content[:20]!r}"
    n = match["n"]
    body = content[match.end():]
    if not body or body != (n * (len(body) // len(n) + 1))[: len(body)]:
        return None, f"{name}: mixed content in version {int(n)}"
    return int(n), None


def main() -> int:
    target, stop_file, counter_file = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(counter_file, "r+b") as handle:
        counter = mmap.mmap(handle.fileno(), 8)
    data_link = os.path.join(target, "..data")
    loops = reads = pairs = 0
    seen: set[int] = set()
    problems: list[str] = []
    print("ready", flush=True)
    while not os.path.exists(stop_file):
        generation = os.readlink(data_link)
        versions = []
        for name in ("a", "b"):
            try:
                with open(os.path.join(target, name), "rb") as handle:
                    content = handle.read()
            except OSError as error:
                problems.append(f"{name}: {error.strerror}")
                versions.append(None)
                continue
            reads += 1
            version, problem = check(name, content)
            if problem:
                problems.append(problem)
            versions.append(version)
        if os.readlink(data_link) == generation and None not in versions:
            pairs += 1
            if versions[0] != versions[1]:
                problems.append(f"pair mismatch: a={versions[0]} b={versions[1]}")
        seen.update(v for v in versions if v is not None)
        loops += 1
        struct.pack_into("Q", counter, 0, loops)
    print(json.dumps({"reads": reads, "pairs": pairs, "versions": len(seen),
                      "problems": problems[:10], "problem_count": len(problems)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
