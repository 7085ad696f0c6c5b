"""Output formats: certificate and public-key PEM, PKCS#12 → PEM, chain order, split files."""

from __future__ import annotations

import base64
import itertools

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from support.pki import certificate, make_chain, public_pem

from kvcsi.provider.chain import INCOMPLETE, order_chain
from kvcsi.provider.formats import (
    FormatError,
    JsonWebKey,
    certificate_pem,
    pem_blocks,
    pkcs12_to_pem,
    public_key_pem,
    split_certificate_and_key,
)

CHAIN = make_chain()
PARTS = ("leaf", "intermediate", "root")


def block_kinds(pem: bytes) -> list[str]:
    return [block.kind for block in pem_blocks(pem)]


def subjects(pem: bytes) -> list[str]:
    return [x509.load_der_x509_certificate(block.der).subject.rfc4514_string()
            for block in pem_blocks(pem) if block.kind == "CERTIFICATE"]


def test_certificate_pem_is_one_go_style_block() -> None:
    der = CHAIN.leaf.public_bytes(serialization.Encoding.DER)
    pem = certificate_pem(der)
    assert pem == CHAIN.pem("leaf")
    lines = pem.decode().splitlines()
    assert lines[0] == "-----BEGIN CERTIFICATE-----" and lines[-1] == "-----END CERTIFICATE-----"
    assert all(len(line) == 64 for line in lines[1:-2]) and pem.endswith(b"-----\n")


def _int_bytes(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


@pytest.mark.parametrize("kty", ["RSA", "RSA-HSM"])
def test_rsa_public_key(kty: str) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = key.public_key().public_numbers()
    jwk = JsonWebKey(kty=kty, n=_int_bytes(numbers.n), e=_int_bytes(numbers.e))
    assert public_key_pem(jwk) == public_pem(key)


@pytest.mark.parametrize(("crv", "curve", "size"), [
    ("P-256", ec.SECP256R1(), 32), ("P-384", ec.SECP384R1(), 48), ("P-521", ec.SECP521R1(), 66)])
def test_ec_public_key(crv: str, curve: ec.EllipticCurve, size: int) -> None:
    key = ec.generate_private_key(curve)
    numbers = key.public_key().public_numbers()
    jwk = JsonWebKey(kty="EC-HSM", crv=crv, x=numbers.x.to_bytes(size, "big"),
                     y=numbers.y.to_bytes(size, "big"))
    assert public_key_pem(jwk) == public_pem(key)


@pytest.mark.parametrize(("jwk", "message"), [
    (JsonWebKey(kty="oct"), "failed to get key. key type 'oct' currently not supported"),
    (JsonWebKey(kty="oct-HSM"), "failed to get key. key type 'oct-HSM' currently not supported"),
    (JsonWebKey(kty="EC", crv="P-256K", x=b"\x01", y=b"\x02"), "curve P-256K is not supported"),
])
def test_unsupported_keys(jwk: JsonWebKey, message: str) -> None:
    with pytest.raises(FormatError) as caught:
        public_key_pem(jwk)
    assert str(caught.value) == message


@pytest.mark.parametrize("order", list(itertools.permutations(PARTS)))
def test_pkcs12_gives_key_then_leaf_to_root_for_every_bag_order(order: tuple[str, ...]) -> None:
    converted = pkcs12_to_pem(CHAIN.pfx_base64(order), construct_chain=True)
    assert converted.pem == CHAIN.key_pkcs8_pem() + CHAIN.pem(*PARTS)
    assert converted.chain_problem is None


@pytest.mark.parametrize("order", [("root", "intermediate", "leaf"),
                                   ("intermediate", "leaf", "root")])
def test_without_construct_pem_chain_the_pfx_order_is_kept(order: tuple[str, ...]) -> None:
    converted = pkcs12_to_pem(CHAIN.pfx_base64(order), construct_chain=False)
    assert converted.pem == CHAIN.key_pkcs8_pem() + CHAIN.pem(*order)


def test_chain_without_key_identifiers_falls_back_to_pfx_order() -> None:
    bare = make_chain(ski=False, aki=False)
    order = ("intermediate", "root", "leaf")
    converted = pkcs12_to_pem(bare.pfx_base64(order), construct_chain=True)
    assert converted.pem == bare.key_pkcs8_pem() + bare.pem(*order)
    assert converted.chain_problem == INCOMPLETE


def test_incomplete_chain_keeps_pfx_order_without_dropping_anything() -> None:
    pfx = CHAIN.pfx_base64(("root", "leaf"))  # intermediate missing
    converted = pkcs12_to_pem(pfx, construct_chain=True)
    assert converted.pem == CHAIN.key_pkcs8_pem() + CHAIN.pem("root", "leaf")
    assert converted.chain_problem == INCOMPLETE


def test_encrypted_pfx_is_read_with_leaf_first() -> None:
    data = CHAIN.pfx(("root", "intermediate", "leaf"), password=b"")
    converted = pkcs12_to_pem(base64.b64encode(data).decode(), construct_chain=True)
    assert subjects(converted.pem) == ["CN=app.example.test", "CN=Test Int", "CN=Test Root"]


def test_self_signed_root_ends_the_chain_even_when_a_cross_cert_shares_its_key() -> None:
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = certificate("Root", root_key, ca=True)
    other_key = ec.generate_private_key(ec.SECP256R1())
    other = certificate("Other", other_key, ca=True)
    cross = certificate("Root", root_key, other, other_key, ca=True)  # same SKI as root
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = certificate("leaf", leaf_key, root, root_key)
    ordered = order_chain([root, leaf, cross, other])
    # leaf → (first cert with SKI = its AKI: root) → root is self-signed: walk stops short.
    assert ordered.problem == INCOMPLETE
    assert ordered.certificates == [root, leaf, cross, other]


def test_cycle_and_no_leaf_fall_back() -> None:
    a_key, b_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(
        ec.SECP256R1())
    a_self = certificate("A", a_key, ca=True)
    b = certificate("B", b_key, a_self, a_key, ca=True)
    a = certificate("A2", a_key, b, b_key, ca=True)  # A2 (SKI a) issued by B, B issued by a
    ordered = order_chain([a, b])
    assert ordered.problem == "no leaf found"
    assert ordered.certificates == [a, b]


def test_duplicate_certificate_is_kept_once_per_occurrence() -> None:
    ordered = order_chain([CHAIN.leaf, CHAIN.root, CHAIN.leaf])
    assert ordered.certificates == [CHAIN.leaf, CHAIN.root, CHAIN.leaf]
    assert ordered.problem is not None


@pytest.mark.parametrize(("value", "message"), [
    ("not base64!", "illegal base64 data at input byte 3"),
    (base64.b64encode(b"garbage").decode(), "pkcs12: "),
])
def test_pkcs12_errors(value: str, message: str) -> None:
    with pytest.raises(FormatError) as caught:
        pkcs12_to_pem(value, construct_chain=True)
    assert str(caught.value).startswith(message)


def test_split_certificate_and_key() -> None:
    pem = CHAIN.key_pkcs8_pem() + CHAIN.pem(*PARTS)
    certificates, key = split_certificate_and_key(pem)
    assert certificates == CHAIN.pem(*PARTS)
    assert key == CHAIN.key_pkcs8_pem()


def test_split_reencodes_pem_with_headers_and_crlf() -> None:
    body = base64.b64encode(b"\x01" * 100).decode()
    stored = (f"-----BEGIN RSA PRIVATE KEY-----\r\nProc-Type: 4,ENCRYPTED\r\n\r\n{body}\r\n"
              f"-----END RSA PRIVATE KEY-----\r\n").encode()
    certificates, key = split_certificate_and_key(stored + CHAIN.pem("leaf"))
    assert certificates == CHAIN.pem("leaf")
    assert key == (b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\n"
                   + body[:64].encode() + b"\n" + body[64:128].encode() + b"\n"
                   + body[128:].encode() + b"\n-----END RSA PRIVATE KEY-----\n")
    assert block_kinds(stored) == ["RSA PRIVATE KEY"]
