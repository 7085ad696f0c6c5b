"""Each managed cluster's service-account signing key, kept in the cloud's state.

Upstream: the API server's ``--service-account-signing-key-file``; its public half is served
as the issuer's JWKS (``kid`` = base64url SHA-256 of the DER public key, as kube-apiserver
computes it). A cluster gets a fresh RSA-2048 key when it is created (a re-created cluster
with the same id gets a new key, so old tokens stop verifying). Documents: kind
``aks-sa-key``, key = cluster uid, body ``{"clusterId", "generation", "kid", "key"}`` where
``generation`` is the cluster's system-assigned principal id (new per creation) and ``key``
is the PKCS#8 PEM encrypted with Fernet (key file ``cloud/service-account-keys.key``, 0600).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from kvcsi.cloud.aks_oidc.cluster_urls import cluster_uid
from kvcsi.cloud.statefiles import write_private
from kvcsi.cloud.store import CloudStore

KIND = "aks-sa-key"
KEY_FILE = "service-account-keys.key"
CLUSTER_TYPE = "microsoft.containerservice/managedclusters"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _fernet(store: CloudStore) -> Fernet:
    path = store.path.parent / KEY_FILE
    if not path.exists():
        write_private(path, Fernet.generate_key())
    return Fernet(path.read_bytes().strip())


def _generation(cluster: dict[str, Any]) -> str:
    return str((cluster.get("identity") or {}).get("principalId") or cluster["id"].lower())


def key_id(public_key: rsa.RSAPublicKey) -> str:
    der = public_key.public_bytes(serialization.Encoding.DER,
                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    return _b64url(hashlib.sha256(der).digest())


@dataclass(frozen=True)
class ClusterSigner:
    """One cluster's key: signs its service-account tokens, publishes its JWKS."""

    cluster: dict[str, Any]
    private_key: rsa.RSAPrivateKey
    kid: str

    @property
    def issuer(self) -> str | None:
        profile = self.cluster.get("properties", {}).get("oidcIssuerProfile") or {}
        return profile.get("issuerURL") if profile.get("enabled") else None

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": self.kid})

    def jwks(self) -> dict[str, Any]:
        numbers = self.private_key.public_key().public_numbers()

        def encode(number: int) -> str:
            return _b64url(number.to_bytes((number.bit_length() + 7) // 8, "big"))
        return {"keys": [{"use": "sig", "kty": "RSA", "kid": self.kid, "alg": "RS256",
                          "n": encode(numbers.n), "e": encode(numbers.e)}]}


def create_cluster_key(store: CloudStore, cluster: dict[str, Any]) -> ClusterSigner:
    """A new signing key for a (newly created) cluster, replacing any earlier one."""
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private_key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    kid = key_id(private_key.public_key())
    store.put(KIND, cluster_uid(cluster["id"]), {
        "clusterId": cluster["id"], "generation": _generation(cluster), "kid": kid,
        "key": _fernet(store).encrypt(pem).decode("ascii")})
    return ClusterSigner(cluster, private_key, kid)


def _cluster_by_uid(store: CloudStore, uid: str) -> dict[str, Any] | None:
    for resource in store.scan("arm", "/subscriptions/"):
        if str(resource.get("type", "")).lower() == CLUSTER_TYPE \
                and cluster_uid(resource["id"]) == uid.lower():
            return resource
    return None


def signer_for_uid(store: CloudStore, uid: str) -> ClusterSigner | None:
    """The signer of the live cluster with this uid, or None (no such cluster any more).

    A cluster created before clusters had keys gets its key on first use.
    """
    document = store.get(KIND, uid.lower())
    if document is None:
        cluster = _cluster_by_uid(store, uid)
        return create_cluster_key(store, cluster) if cluster is not None else None
    cluster = store.get("arm", document["clusterId"].rstrip("/").lower())
    if cluster is None or str(cluster.get("type", "")).lower() != CLUSTER_TYPE \
            or _generation(cluster) != document["generation"]:
        return None
    pem = _fernet(store).decrypt(document["key"].encode("ascii"))
    private_key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(private_key, rsa.RSAPrivateKey):
        return None
    return ClusterSigner(cluster, private_key, document["kid"])


def signer_for_issuer(store: CloudStore, issuer: str) -> ClusterSigner | None:
    """The signer whose cluster publishes exactly ``issuer`` (``.../{tenant}/{uid}/``)."""
    parts = [part for part in issuer.rstrip("/").split("/") if part]
    if not parts:
        return None
    signer = signer_for_uid(store, parts[-1])
    if signer is None or signer.issuer != issuer:
        return None
    return signer
