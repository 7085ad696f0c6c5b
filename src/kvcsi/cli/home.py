"""The state directory ``$KVCSI_HOME`` (default ``~/.kvcsi``) and the paths inside it.

The layout is the contract in ``docs/design/local-wiring.md`` §2.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HOME_ENV = "KVCSI_HOME"


class NotRunning(RuntimeError):
    """The local cloud is not running in this state directory."""


@dataclass(frozen=True)
class Home:
    root: Path

    @classmethod
    def from_environment(cls) -> Home:
        configured = os.environ.get(HOME_ENV)
        root = Path(configured).expanduser() if configured else Path.home() / ".kvcsi"
        return cls(root.resolve())

    @property
    def cloud(self) -> Path:
        return self.root / "cloud"

    @property
    def endpoints_file(self) -> Path:
        return self.cloud / "endpoints.json"

    @property
    def credential_file(self) -> Path:
        return self.cloud / "cli-credential.json"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def clusters(self) -> Path:
        return self.root / "clusters"

    def cluster_dir(self, name: str) -> Path:
        return self.clusters / name

    def cluster_store(self, name: str) -> Path:
        return self.cluster_dir(name) / "store.db"

    def endpoints(self) -> dict[str, Any]:
        try:
            return json.loads(self.endpoints_file.read_text())
        except FileNotFoundError:
            raise NotRunning(
                f"the local cloud is not running (no {self.endpoints_file}); "
                "start it with: kvcsi up -d"
            ) from None

    def cli_credential(self) -> dict[str, str]:
        return json.loads(self.credential_file.read_text())

    @property
    def current_cluster_file(self) -> Path:
        return self.root / "current-cluster"

    def current_cluster(self) -> str | None:
        try:
            name = self.current_cluster_file.read_text().strip()
        except FileNotFoundError:
            return None
        return name or None

    def set_current_cluster(self, name: str) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.current_cluster_file.write_text(name + "\n")

    def ensure(self) -> None:
        for path in (self.root, self.logs, self.run, self.clusters):
            path.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)
