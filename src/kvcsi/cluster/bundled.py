"""Packaged copies of the upstream install manifests the seed applies by URL.

``kubectl apply -f https://raw.githubusercontent.com/Azure/secrets-store-csi-driver-provider-
azure/master/deploy/<file>.yaml`` works offline in kvcsi: :func:`known_manifest` maps those
URLs to files in ``kvcsi/cluster/install_manifests`` (written for kvcsi in the shape of the
upstream ones). Any other URL is not fetched.
"""

from __future__ import annotations

from pathlib import Path

INSTALL_MANIFESTS_DIR = Path(__file__).parent / "install_manifests"
DRIVER_MANIFEST = INSTALL_MANIFESTS_DIR / "secrets-store-csi-driver.yaml"
PROVIDER_MANIFEST = INSTALL_MANIFESTS_DIR / "provider-azure-installer.yaml"

_UPSTREAM_DEPLOY = (
    "https://raw.githubusercontent.com/Azure/secrets-store-csi-driver-provider-azure/{branch}"
    "/deploy/{file}"
)
KNOWN_URLS: dict[str, Path] = {
    _UPSTREAM_DEPLOY.format(branch=branch, file=path.name): path
    for branch in ("master", "main")
    for path in (DRIVER_MANIFEST, PROVIDER_MANIFEST)
}


def known_manifest(url: str) -> Path | None:
    """The packaged file for an upstream install-manifest URL, or None."""
    return KNOWN_URLS.get(url.strip())
