"""``kvcsi env``: shell exports that point the official Azure SDKs at the local cloud.

An app "on a node" uses that node's IMDS address (``AZURE_POD_IDENTITY_AUTHORITY_HOST``,
read by azure-identity/MSAL for managed identity), trusts the local CA, and asks the
local Entra-like authority for other credential types. Vault host names live under the
reserved ``.localhost`` domain; the printed comments say how to make them resolve.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from kvcsi.cli.home import Home


def _nodes(home: Home) -> list[dict[str, Any]]:
    cluster = home.current_cluster()
    if cluster is None:
        return []
    try:
        return list(json.loads((home.cluster_dir(cluster) / "cluster.json").read_text())["nodes"])
    except FileNotFoundError:
        return []


def exports(home: Home, node_name: str | None = None) -> list[tuple[str, str]]:
    endpoints = home.endpoints()
    pairs = [
        ("KVCSI_HOME", str(home.root)),
        ("AZURE_TENANT_ID", str(endpoints["tenant_id"])),
        ("AZURE_AUTHORITY_HOST", str(endpoints["authority"])),
        ("REQUESTS_CA_BUNDLE", str(endpoints["ca_bundle"])),
        ("SSL_CERT_FILE", str(endpoints["ca_bundle"])),
        ("CURL_CA_BUNDLE", str(endpoints["ca_bundle"])),
        ("KVCSI_RESOLVE_LOCALHOST", "1"),
    ]
    nodes = _nodes(home)
    chosen = [n for n in nodes if node_name in (None, n["name"])]
    if node_name is not None and not chosen:
        raise SystemExit(f"error: node {node_name!r} is not a node of the current cluster")
    if chosen:
        pairs.append(("AZURE_POD_IDENTITY_AUTHORITY_HOST", str(chosen[0]["imdsEndpoint"])))
    return pairs


def render(home: Home, node_name: str | None = None) -> str:
    endpoints = home.endpoints()
    lines = [f"export {name}={shlex.quote(value)}" for name, value in exports(home, node_name)]
    nodes = _nodes(home)
    suffix = str(endpoints["keyvault_dns_suffix"])
    host_suffix = suffix.split(":", 1)[0]
    lines += [
        "# Key Vault:  https://<vault-name>." + suffix + "/  (Key Vault resource "
        + str(endpoints["keyvault_resource"]) + ")",
        "# ARM:        " + str(endpoints["resource_manager"]),
        "# Vault hosts are under the reserved .localhost domain. systemd-resolved and curl",
        "# resolve them to 127.0.0.1 by themselves; elsewhere add a hosts entry per vault:",
        f"#   echo '127.0.0.1 <vault-name>.{host_suffix}' >> /etc/hosts",
        "# Python apps can instead call kvcsi.netrules.install_localhost_resolution()",
        "# (kvcsi's own processes do so because KVCSI_RESOLVE_LOCALHOST=1).",
        "# For ClientSecretCredential pass disable_instance_discovery=True.",
    ]
    if nodes:
        lines.append("# IMDS of each node (AZURE_POD_IDENTITY_AUTHORITY_HOST): "
                     + ", ".join(f"{n['name']}={n['imdsEndpoint']}" for n in nodes))
    else:
        lines.append("# No cluster yet: AZURE_POD_IDENTITY_AUTHORITY_HOST is set once "
                     "`kvcsi az aks create` made nodes.")
    return "\n".join(lines)
