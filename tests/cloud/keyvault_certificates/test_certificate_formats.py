"""PKCS#12 and PEM in and out: import parsing, chain order, backing secret values, x5t/cer."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12

from kvcsi.cloud.keyvault import certificates_formats as formats
from kvcsi.cloud.keyvault.errors import BadParameter


def _subjects(item: formats.CertificateMaterial) -> list[str]:
    return [c.subject.rfc4514_string() for c in item.chain]


def test_pem_import_in_any_order_puts_the_leaf_first_and_keeps_the_rest(pki):
    chain = pki.chain()
    text = chain.root.pem + chain.leaf.key_pem + chain.intermediate.pem + chain.leaf.pem

    item, _ = formats.parse_import(text, None, None, preserve_order=False)

    assert item.leaf == chain.leaf.certificate
    assert _subjects(item) == ["CN=leaf.example.com", "CN=Test Root", "CN=Test Intermediate"]


def test_pem_import_with_preserved_order_keeps_the_order_exactly(pki):
    chain = pki.chain()
    text = chain.root.pem + chain.intermediate.pem + chain.leaf.pem + chain.leaf.key_pem

    item, _ = formats.parse_import(text, None, formats.PEM, preserve_order=True)

    assert _subjects(item) == ["CN=Test Root", "CN=Test Intermediate", "CN=leaf.example.com"]
    pem = formats.pem_text(item)
    assert pem == chain.leaf.key_pem + chain.root.pem + chain.intermediate.pem + chain.leaf.pem


def test_pfx_with_password_round_trips_to_a_pfx_without_password(pki):
    chain = pki.chain(leaf_kind="rsa")
    value = pki.pfx(chain.leaf, [chain.intermediate.certificate, chain.root.certificate],
                    password="s3cret")

    item, _ = formats.parse_import(value, "s3cret", None, preserve_order=False)
    out = base64.b64decode(formats.secret_value(item, formats.PKCS12))
    key, leaf, others = pkcs12.load_key_and_certificates(out, None)

    assert leaf == chain.leaf.certificate
    assert others == [chain.intermediate.certificate, chain.root.certificate]
    assert key.private_numbers() == chain.leaf.key.private_numbers()
    assert pkcs12.load_key_and_certificates(out, b"")[1] == leaf


def test_wrong_pfx_password_is_a_bad_parameter(pki):
    value = pki.pfx(pki.issue("x"), password="right")
    with pytest.raises(BadParameter, match="can not be read"):
        formats.parse_import(value, "wrong", None, preserve_order=False)


def test_pem_value_has_the_pkcs8_key_then_the_chain(pki):
    chain = pki.chain()
    value = pki.pfx(chain.leaf, [chain.intermediate.certificate, chain.root.certificate])
    item, _ = formats.parse_import(value, None, None, preserve_order=False)

    assert formats.secret_value(item, formats.PEM) == (
        chain.leaf.key_pem + chain.leaf.pem + chain.intermediate.pem + chain.root.pem)


def test_convert_between_pfx_and_pem_both_ways(pki):
    chain = pki.chain()
    pem = chain.leaf.key_pem + chain.leaf.pem + chain.intermediate.pem
    pfx = formats.convert_secret_value(pem, formats.PEM, formats.PKCS12)

    assert formats.convert_secret_value(pfx, formats.PKCS12, formats.PEM) == pem
    assert formats.convert_secret_value(pem, formats.PEM, formats.PEM) == pem
    with pytest.raises(BadParameter, match=r"outContentType \(text/plain\) is not supported"):
        formats.convert_secret_value(pem, formats.PEM, "text/plain")


def test_key_that_matches_no_certificate_is_refused(pki):
    chain = pki.chain()
    with pytest.raises(BadParameter, match="does not match any certificate"):
        formats.parse_import(chain.root.key_pem + chain.leaf.pem, None, None,
                             preserve_order=False)


def test_garbage_is_refused_with_key_vault_texts():
    with pytest.raises(BadParameter, match="neither PEM text nor valid base64"):
        formats.parse_import("not base64!", None, None, preserve_order=False)
    with pytest.raises(BadParameter, match="does not contain any X.509 certificate"):
        formats.parse_import("-----BEGIN NOTHING-----\n-----END NOTHING-----\n", None, None,
                             preserve_order=False)


def test_thumbprint_and_cer(pki):
    issued = pki.issue("thumb")
    digest = hashlib.sha1(issued.der).digest()

    assert formats.x5t(issued.certificate) == (
        base64.urlsafe_b64encode(digest).decode().rstrip("="))
    assert formats.cer(issued.certificate) == base64.b64encode(issued.der).decode()
