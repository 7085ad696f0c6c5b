"""Suite-wide guards: loopback-only networking in this process and in every child.

Every test and every process a test starts runs with ``KVCSI_LOOPBACK_ONLY=1``: a connect
to anything outside 127.0.0.0/8 or ::1 (the real IMDS address 169.254.169.254 included)
raises before a packet leaves. Children inherit the environment and append each refused
attempt to a shared file; the session fails if that file is not empty at the end, even
when the code under test swallowed the error.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

_violations = Path(tempfile.mkdtemp(prefix="kvcsi-netguard-")) / "violations.log"
os.environ["KVCSI_LOOPBACK_ONLY"] = "1"
os.environ["KVCSI_LOOPBACK_VIOLATIONS"] = str(_violations)
os.environ["KVCSI_RESOLVE_LOCALHOST"] = "1"
# Keep real Azure configuration of the developer's shell out of the tests.
for _name in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET",
              "AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST", "IDENTITY_ENDPOINT",
              "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT",
              "AZURE_POD_IDENTITY_AUTHORITY_HOST", "KVCSI_HOME", "KVCSI_CLUSTER_STORE"):
    os.environ.pop(_name, None)

from kvcsi import netrules  # noqa: E402

netrules.install_loopback_only()
netrules.install_localhost_resolution()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _violations.exists() and _violations.read_text().strip():
        session.exitstatus = 1
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                "FAILED network guard: non-loopback connection attempts were made:\n"
                + _violations.read_text(),
                red=True,
            )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason="needs root (tmpfs mounts, mount namespaces)")
    for item in items:
        if "requires_root" in item.keywords:
            item.add_marker(skip)
