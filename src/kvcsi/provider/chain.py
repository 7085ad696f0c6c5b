"""Order a PKCS#12 bundle's certificates leaf → intermediates → root (construct-pem-chain).

Upstream counterpart: ``fetchCertChains`` in ``pkg/provider/provider.go`` (v1.7+). A cert's
parent is the first *other* cert whose Subject Key Identifier equals its Authority Key
Identifier (both must be present). The leaf is the first cert nobody points to; the chain is
the walk from the leaf through the parents.

kvcsi never fails here and never drops or repeats a certificate: when no leaf exists, the
walk loops, or it does not cover every certificate (missing AKI/SKI, an unrelated or
duplicated cert, a missing intermediate), the input order is kept and the caller gets the
reason to log (upstream errors ``no leaf found`` / ``constructing chain resulted in cycle``
for the first two). A self-signed certificate (subject = issuer, and its AKI, if any, equal to
its own SKI) never gets a parent, so a root always ends the chain.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509

INCOMPLETE = ("certificate chain is not complete due to missing intermediate/root "
              "certificates in the cert from key vault")


@dataclass(frozen=True)
class OrderedChain:
    certificates: list[x509.Certificate]
    problem: str | None  # why the input order was kept, or None when the chain was built


def _extension_bytes(cert: x509.Certificate, kind: type) -> bytes | None:
    try:
        value = cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None
    if isinstance(value, x509.SubjectKeyIdentifier):
        return value.digest or None
    if isinstance(value, x509.AuthorityKeyIdentifier):
        return value.key_identifier or None
    return None


def _is_self_signed(cert: x509.Certificate, aki: bytes | None, ski: bytes | None) -> bool:
    return cert.subject == cert.issuer and (aki is None or aki == ski)


def order_chain(certificates: list[x509.Certificate]) -> OrderedChain:
    """The certificates leaf first, or the input order with the reason it was kept."""
    count = len(certificates)
    if count <= 1:
        return OrderedChain(list(certificates), None)
    akis = [_extension_bytes(c, x509.AuthorityKeyIdentifier) for c in certificates]
    skis = [_extension_bytes(c, x509.SubjectKeyIdentifier) for c in certificates]
    parents: list[int | None] = [None] * count
    for i in range(count):
        if akis[i] is None or _is_self_signed(certificates[i], akis[i], skis[i]):
            continue
        for j in range(count):
            if i != j and skis[j] is not None and akis[i] == skis[j]:
                parents[i] = j
                break
    referenced = {parent for parent in parents if parent is not None}
    leaf = next((i for i in range(count) if i not in referenced), None)
    if leaf is None:
        return OrderedChain(list(certificates), "no leaf found")
    walk: list[int] = []
    current: int | None = leaf
    while current is not None:
        if len(walk) >= count:
            return OrderedChain(list(certificates), "constructing chain resulted in cycle")
        walk.append(current)
        current = parents[current]
    if len(walk) != count:
        return OrderedChain(list(certificates), INCOMPLETE)
    return OrderedChain([certificates[i] for i in walk], None)
