"""Which cluster ``kvcsi kubectl`` talks to, and how resource words map to kinds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kvcsi.cli.home import Home
from kvcsi.cluster import connect
from kvcsi.cluster.errors import ClusterUnavailable
from kvcsi.cluster.kinds import KindInfo


class KubectlError(Exception):
    """An error kubectl prints verbatim (``error: ...`` or ``Error from server ...``)."""

    def __init__(self, text: str, exit_code: int = 1) -> None:
        super().__init__(text)
        self.text = text
        self.exit_code = exit_code


@dataclass
class KubeContext:
    home: Home
    cluster: str
    store: Any

    @classmethod
    def current(cls, home: Home) -> KubeContext:
        cluster = home.current_cluster()
        if cluster is None:
            raise KubectlError(
                "error: no cluster selected: create one with `kvcsi az aks create` or pick one "
                "with `kvcsi az aks get-credentials -g <group> -n <cluster>`")
        try:
            store = connect(str(home.cluster_store(cluster)))
        except ClusterUnavailable as error:
            raise KubectlError(f"error: {error}") from None
        return cls(home, cluster, store)

    def kind(self, word: str) -> KindInfo:
        found = self.store.find_resource(word)
        if not found:
            raise KubectlError(
                f'error: the server doesn\'t have a resource type "{word}"')
        return found[0]


def split_reference(reference: str, kind_word: str | None) -> tuple[str, str | None]:
    """``pod/mypod`` → (``pod``, ``mypod``); ``pods`` with a separate name → as given."""
    if kind_word is None and "/" in reference:
        word, name = reference.split("/", 1)
        return word, name
    return (kind_word or reference), (reference if kind_word else None)
