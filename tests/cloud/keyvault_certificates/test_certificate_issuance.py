"""Policies (defaults, validation, updates) and the X.509 the ``Self`` issuer makes from them."""

from __future__ import annotations

import datetime
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kvcsi.cloud.keyvault import certificates_policy as policies
from kvcsi.cloud.keyvault import certificates_x509 as issuance
from kvcsi.cloud.keyvault.errors import BadParameter


def test_defaults_are_key_vaults():
    policy = policies.parse_policy({"x509_props": {"subject": "CN=DefaultPolicy"}})

    assert policy == {
        "key_props": {"exportable": True, "kty": "RSA", "key_size": 2048, "reuse_key": False},
        "secret_props": {"contentType": "application/x-pkcs12"},
        "x509_props": {"subject": "CN=DefaultPolicy",
                       "ekus": ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"],
                       "key_usage": ["digitalSignature", "keyEncipherment"],
                       "validity_months": 12, "basic_constraints": {"ca": False}},
        "lifetime_actions": [{"trigger": {"lifetime_percentage": 80},
                              "action": {"action_type": "AutoRenew"}}],
        "issuer": {"name": "Self"},
    }


@pytest.mark.parametrize("policy, message", [
    ({}, "Either subject or at least one subject alternative name is required"),
    ({"x509_props": {"subject": "CN=a"}, "key_props": {"kty": "oct"}}, "kty has invalid"),
    ({"x509_props": {"subject": "CN=a"}, "key_props": {"key_size": 1024}}, "key_size"),
    ({"x509_props": {"subject": "CN=a"}, "key_props": {"kty": "EC", "crv": "P-999"}}, "crv"),
    ({"x509_props": {"subject": "CN=a"}, "secret_props": {"contentType": "text/plain"}},
     "contentType has invalid value"),
    ({"x509_props": {"subject": "CN=a", "key_usage": ["everything"]}}, "key_usage"),
    ({"x509_props": {"subject": "CN=a", "validity_months": 0}}, "validity_months"),
])
def test_invalid_policies_are_bad_parameters(policy, message):
    with pytest.raises(BadParameter, match=message):
        policies.parse_policy(policy)


def test_update_merges_sections():
    current = policies.parse_policy({"x509_props": {"subject": "CN=a"}})
    updated = policies.update_policy(current, {"x509_props": {"validity_months": 24},
                                               "secret_props": {"contentType":
                                                                "application/x-pem-file"}})

    assert updated["x509_props"]["subject"] == "CN=a"
    assert updated["x509_props"]["validity_months"] == 24
    assert updated["secret_props"] == {"contentType": "application/x-pem-file"}


def test_self_signed_ec_certificate_carries_the_policy():
    policy = policies.parse_policy({
        "key_props": {"kty": "EC", "crv": "P-384"},
        "x509_props": {
            "subject": "CN=api.contoso.com, O=Contoso, C=US",
            "sans": {"dns_names": ["api.contoso.com"], "emails": ["ops@contoso.com"],
                     "ipAddresses": ["10.0.0.1"], "uris": ["https://contoso.com/x"],
                     "upns": ["svc@contoso.com"]},
            "ekus": ["1.3.6.1.5.5.7.3.1"], "key_usage": ["digitalSignature", "keyAgreement"],
            "validity_months": 3,
        },
    })
    key = issuance.generate_key(policies.key_spec(policy))
    now = datetime.datetime(2026, 1, 31, 12, 0, tzinfo=datetime.UTC)

    certificate = issuance.self_signed(policy, key, now)

    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp384r1"
    assert certificate.subject == certificate.issuer
    assert certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == (
        "Contoso")
    assert certificate.not_valid_before_utc == now
    assert certificate.not_valid_after_utc == datetime.datetime(2026, 4, 30, 12, 0,
                                                                tzinfo=datetime.UTC)
    sans = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["api.contoso.com"]
    assert sans.get_values_for_type(x509.RFC822Name) == ["ops@contoso.com"]
    assert sans.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("10.0.0.1")]
    assert sans.get_values_for_type(x509.UniformResourceIdentifier) == ["https://contoso.com/x"]
    assert len(sans.get_values_for_type(x509.OtherName)) == 1
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.key_agreement and not usage.key_encipherment
    ekus = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(ekus) == [ExtendedKeyUsageOID.SERVER_AUTH]


def test_rsa_key_size_follows_the_policy():
    spec = policies.key_spec(policies.parse_policy(
        {"x509_props": {"subject": "CN=a"}, "key_props": {"kty": "RSA", "key_size": 3072}}))
    key = issuance.generate_key(spec)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 3072


def test_bad_subject_is_refused():
    with pytest.raises(BadParameter, match="The subject name 'nonsense' is invalid."):
        issuance.parse_subject("nonsense")


def test_imported_policy_describes_the_certificate(pki):
    chain = pki.chain()
    policy = issuance.imported_policy(chain.leaf.certificate, None, "application/x-pem-file")

    assert policy["issuer"] == {"name": "Unknown"}
    assert policy["key_props"] == {"exportable": True, "kty": "EC", "crv": "P-256",
                                   "key_size": 256, "reuse_key": False}
    assert policy["secret_props"] == {"contentType": "application/x-pem-file"}
    assert policy["x509_props"]["subject"] == "CN=leaf.example.com"
    assert policy["x509_props"]["sans"] == {"dns_names": ["leaf.example.com",
                                                          "www.example.com"]}
    assert policy["x509_props"]["ekus"] == ["1.3.6.1.5.5.7.3.1"]
    assert policy["x509_props"]["validity_months"] == 1
