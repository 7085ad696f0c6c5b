"""The unmodified azure-keyvault-certificates CertificateClient (with -secrets and -keys for
the backing objects) against the local Key Vault, configured only by endpoint and CA bundle."""

from __future__ import annotations

import base64
import hashlib

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.core.pipeline.transport import RequestsTransport
from azure.keyvault.certificates import (
    CertificateContentType,
    CertificatePolicy,
    KeyCurveName,
    KeyType,
    KeyUsageType,
    WellKnownIssuerNames,
)
from azure.keyvault.secrets import ContentType
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

# EC keys are made in microseconds; RSA only where RSA is the point
EC_POLICY = CertificatePolicy(issuer_name="Self", subject="CN=DefaultPolicy", key_type=KeyType.ec)


def _pem_blocks(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("-----BEGIN ")]


def test_create_self_signed_rsa_with_the_default_policy(cert_vault, monkeypatch):
    client = cert_vault.certificates()
    sleeps: list[float] = []
    monkeypatch.setattr(RequestsTransport, "sleep", lambda self, seconds: sleeps.append(seconds))

    certificate = client.begin_create_certificate(
        "web", CertificatePolicy.get_default(), tags={"env": "dev"}).result()

    assert sleeps == []  # the poller found the operation completed on its first read
    version = certificate.properties.version
    assert certificate.id == f"{cert_vault.url}/certificates/web/{version}"
    assert certificate.key_id == f"{cert_vault.url}/keys/web/{version}"
    assert certificate.secret_id == f"{cert_vault.url}/secrets/web/{version}"
    leaf = x509.load_der_x509_certificate(certificate.cer)
    assert leaf.subject.rfc4514_string() == "CN=DefaultPolicy"
    assert certificate.properties.x509_thumbprint == hashlib.sha1(certificate.cer).digest()
    assert certificate.properties.not_before == leaf.not_valid_before_utc
    assert certificate.properties.expires_on == leaf.not_valid_after_utc
    assert certificate.properties.tags == {"env": "dev"}
    assert certificate.policy.issuer_name == "Self"
    assert certificate.policy.key_type == KeyType.rsa and certificate.policy.key_size == 2048
    assert certificate.policy.content_type == CertificateContentType.pkcs12
    assert certificate.policy.validity_in_months == 12
    assert isinstance(leaf.public_key(), rsa.RSAPublicKey)

    operation = client.get_certificate_operation("web")
    assert operation.status == "completed"
    assert operation.target == f"{cert_vault.url}/certificates/web"
    assert x509.load_der_x509_csr(operation.csr).subject == leaf.subject


def test_backing_secret_is_a_passwordless_pfx_and_the_key_is_public(cert_vault):
    certificate = cert_vault.certificates().begin_create_certificate(
        "pfx-backed", CertificatePolicy.get_default()).result()

    secret = cert_vault.secrets().get_secret("pfx-backed")
    key = cert_vault.keys().get_key("pfx-backed")

    assert secret.properties.version == key.properties.version == (
        certificate.properties.version)
    assert secret.properties.content_type == "application/x-pkcs12"
    assert secret.properties.managed is True
    assert secret.properties.key_id == certificate.key_id
    private_key, leaf, extra = pkcs12.load_key_and_certificates(
        base64.b64decode(secret.value), None)
    assert leaf.public_bytes(serialization.Encoding.DER) == certificate.cer
    assert extra == []
    assert key.properties.managed is True
    assert key.key_type == "RSA"
    assert int.from_bytes(key.key.n, "big") == private_key.public_key().public_numbers().n
    assert key.key.d is None


def test_create_ec_pem_with_sans_ekus_and_key_usage(cert_vault):
    policy = CertificatePolicy(
        issuer_name=WellKnownIssuerNames.self, subject="CN=api.contoso.com, O=Contoso",
        san_dns_names=["api.contoso.com", "api2.contoso.com"],
        san_ip_addresses=["10.1.2.3"], key_type=KeyType.ec, key_curve_name=KeyCurveName.p_384,
        content_type=CertificateContentType.pem, validity_in_months=6,
        key_usage=[KeyUsageType.digital_signature],
        enhanced_key_usage=["1.3.6.1.5.5.7.3.2"])

    certificate = cert_vault.certificates().begin_create_certificate("ec-pem", policy).result()
    secret = cert_vault.secrets().get_secret("ec-pem")

    leaf = x509.load_der_x509_certificate(certificate.cer)
    assert isinstance(leaf.public_key(), ec.EllipticCurvePublicKey)
    assert leaf.public_key().curve.name == "secp384r1"
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["api.contoso.com", "api2.contoso.com"]
    assert certificate.policy.san_dns_names == ["api.contoso.com", "api2.contoso.com"]
    assert certificate.policy.san_ip_addresses == ["10.1.2.3"]
    assert certificate.policy.key_curve_name == KeyCurveName.p_384
    assert certificate.policy.enhanced_key_usage == ["1.3.6.1.5.5.7.3.2"]
    assert certificate.policy.key_usage == [KeyUsageType.digital_signature]
    assert secret.properties.content_type == "application/x-pem-file"
    assert _pem_blocks(secret.value) == ["-----BEGIN PRIVATE KEY-----",
                                         "-----BEGIN CERTIFICATE-----"]
    assert x509.load_pem_x509_certificate(secret.value.encode()) == leaf
    assert cert_vault.keys().get_key("ec-pem").key.crv == "P-384"


def test_import_pfx_with_password_keeps_the_chain(cert_vault, pki):
    chain = pki.chain(leaf_kind="rsa")
    value = pki.pfx(chain.leaf, [chain.intermediate.certificate, chain.root.certificate],
                    password="import-me")

    certificate = cert_vault.certificates().import_certificate(
        "imported", base64.b64decode(value), password="import-me", enabled=True,
        tags={"source": "pfx"})

    assert certificate.cer == chain.leaf.der
    assert certificate.policy.issuer_name == "Unknown"
    assert certificate.policy.subject == "CN=leaf.example.com"
    assert certificate.policy.san_dns_names == ["leaf.example.com", "www.example.com"]
    assert certificate.properties.not_before == chain.leaf.certificate.not_valid_before_utc
    assert certificate.properties.tags == {"source": "pfx"}
    secret = cert_vault.secrets().get_secret("imported")
    key, leaf, extra = pkcs12.load_key_and_certificates(base64.b64decode(secret.value), None)
    assert leaf == chain.leaf.certificate
    assert extra == [chain.intermediate.certificate, chain.root.certificate]
    assert key.private_numbers() == chain.leaf.key.private_numbers()


def test_import_pfx_without_password(cert_vault, pki):
    issued = pki.issue("nopass.example.com")
    certificate = cert_vault.certificates().import_certificate(
        "nopass", base64.b64decode(pki.pfx(issued)))
    assert certificate.cer == issued.der
    assert certificate.policy.content_type == CertificateContentType.pkcs12


def test_import_pem_chain_in_any_order_with_preserved_order(cert_vault, pki):
    chain = pki.chain()
    text = chain.root.pem + chain.leaf.key_pem + chain.intermediate.pem + chain.leaf.pem
    policy = CertificatePolicy(issuer_name="Unknown", content_type=CertificateContentType.pem)
    client = cert_vault.certificates()

    preserved = client.import_certificate("pem-kept", text.encode(), policy=policy,
                                          preserve_order=True)
    reordered = client.import_certificate("pem-leaf-first", text.encode(), policy=policy)

    assert preserved.cer == reordered.cer == chain.leaf.der
    assert preserved.properties.preserve_order is True
    assert reordered.properties.preserve_order is False
    assert cert_vault.secrets().get_secret("pem-kept").value == (
        chain.leaf.key_pem + chain.root.pem + chain.intermediate.pem + chain.leaf.pem)
    assert cert_vault.secrets().get_secret("pem-leaf-first").value == (
        chain.leaf.key_pem + chain.leaf.pem + chain.root.pem + chain.intermediate.pem)


def test_import_without_private_key_is_refused(cert_vault, pki):
    with pytest.raises(HttpResponseError) as refused:
        cert_vault.certificates().import_certificate(
            "no-key", pki.issue("x").pem.encode(),
            policy=CertificatePolicy(issuer_name="Unknown",
                                     content_type=CertificateContentType.pem))
    assert refused.value.status_code == 400
    assert refused.value.error.code == "BadParameter"
    assert refused.value.error.message.startswith("Private key is not specified")


def test_versions_list_update_and_policy(cert_vault):
    client = cert_vault.certificates()
    first = client.begin_create_certificate("rotated", EC_POLICY).result()
    second = client.begin_create_certificate("rotated", EC_POLICY).result()
    client.begin_create_certificate("other", EC_POLICY).result()

    assert client.get_certificate("rotated").properties.version == second.properties.version
    assert client.get_certificate_version("rotated", first.properties.version).cer == first.cer
    assert sorted(p.version for p in client.list_properties_of_certificate_versions(
        "rotated")) == sorted([first.properties.version, second.properties.version])
    assert [p.name for p in client.list_properties_of_certificates()] == ["other", "rotated"]

    updated = client.update_certificate_properties("rotated", enabled=False, tags={"a": "b"})
    assert updated.properties.enabled is False and updated.properties.tags == {"a": "b"}
    with pytest.raises(HttpResponseError) as disabled:
        cert_vault.secrets().get_secret("rotated")
    assert disabled.value.status_code == 403 and "SecretDisabled" in str(disabled.value)

    assert client.get_certificate_policy("rotated").validity_in_months == 12
    policy = CertificatePolicy(issuer_name="Self", subject="CN=DefaultPolicy",
                               key_type=KeyType.ec, validity_in_months=24)
    assert client.update_certificate_policy("rotated", policy).validity_in_months == 24
    third = client.begin_create_certificate("rotated", client.get_certificate_policy(
        "rotated")).result()
    leaf = x509.load_der_x509_certificate(third.cer)
    assert (leaf.not_valid_after_utc.year - leaf.not_valid_before_utc.year) == 2

    with pytest.raises(ResourceNotFoundError) as missing:
        client.get_certificate("missing")
    assert missing.value.error.code == "CertificateNotFound"
    assert missing.value.error.message.startswith(
        "A certificate with (name/id) missing was not found in this key vault.")


def test_delete_recover_purge_and_deleted_listing(cert_vault):
    client = cert_vault.certificates()
    client.begin_create_certificate("doomed", EC_POLICY).result()

    deleted = client.begin_delete_certificate("doomed").result()
    assert deleted.recovery_id == f"{cert_vault.url}/deletedcertificates/doomed"
    assert deleted.deleted_on is not None and deleted.scheduled_purge_date is not None
    assert [d.name for d in client.list_deleted_certificates()] == ["doomed"]
    assert client.get_deleted_certificate("doomed").name == "doomed"
    with pytest.raises(ResourceNotFoundError):
        cert_vault.secrets().get_secret("doomed")
    with pytest.raises(ResourceExistsError) as conflict:
        client.begin_create_certificate("doomed", EC_POLICY)
    assert conflict.value.error.message == (
        "Certificate doomed is currently in a deleted but recoverable state, and its name "
        "cannot be reused; in this state, the certificate can only be recovered or purged.")

    recovered = client.begin_recover_deleted_certificate("doomed").result()
    assert recovered.name == "doomed"
    assert cert_vault.secrets().get_secret("doomed").properties.managed is True

    client.begin_delete_certificate("doomed").wait()
    client.purge_deleted_certificate("doomed")
    assert list(client.list_deleted_certificates()) == []
    with pytest.raises(ResourceNotFoundError):
        cert_vault.keys().get_key("doomed")
    assert client.begin_create_certificate("doomed", EC_POLICY).result()


def test_backup_and_restore(cert_vault):
    client = cert_vault.certificates()
    original = client.begin_create_certificate("saved", EC_POLICY).result()
    blob = client.backup_certificate("saved")

    with pytest.raises(ResourceExistsError):
        client.restore_certificate_backup(blob)
    client.begin_delete_certificate("saved").wait()
    client.purge_deleted_certificate("saved")
    restored = client.restore_certificate_backup(blob)

    assert restored.properties.version == original.properties.version
    assert restored.cer == original.cer
    assert client.get_certificate_policy("saved").subject == "CN=DefaultPolicy"
    secret = cert_vault.secrets().get_secret("saved")
    assert secret.properties.key_id == original.key_id
    assert cert_vault.keys().get_key("saved").properties.version == original.properties.version


def test_unknown_issuer_leaves_a_pending_operation_until_merge(cert_vault, pki):
    client = cert_vault.certificates()
    policy = CertificatePolicy(issuer_name=WellKnownIssuerNames.unknown, subject="CN=merged",
                               key_type=KeyType.ec)

    operation = client.begin_create_certificate("to-merge", policy).result()

    assert operation.status == "inProgress"
    csr = x509.load_der_x509_csr(operation.csr)
    issuer = pki.issue("Merge CA", ca=True)
    signed = (x509.CertificateBuilder().subject_name(csr.subject)
              .issuer_name(issuer.certificate.subject).public_key(csr.public_key())
              .serial_number(7).not_valid_before(issuer.certificate.not_valid_before_utc)
              .not_valid_after(issuer.certificate.not_valid_after_utc)
              .sign(issuer.key, pki_hash()))
    merged = client.merge_certificate("to-merge", [
        signed.public_bytes(serialization.Encoding.DER), issuer.der])

    assert x509.load_der_x509_certificate(merged.cer) == signed
    assert client.get_certificate_operation("to-merge").status == "completed"
    key, leaf, extra = pkcs12.load_key_and_certificates(
        base64.b64decode(cert_vault.secrets().get_secret("to-merge").value), None)
    assert leaf == signed and extra == [issuer.certificate]


def test_cancel_and_delete_a_pending_operation(cert_vault):
    client = cert_vault.certificates()
    client.begin_create_certificate(
        "cancelled", CertificatePolicy(issuer_name="Unknown", subject="CN=x",
                                       key_type=KeyType.ec)).result()

    assert client.cancel_certificate_operation("cancelled").cancellation_requested is True
    assert client.delete_certificate_operation("cancelled").status == "cancelled"
    with pytest.raises(ResourceNotFoundError):
        client.get_certificate_operation("cancelled")


def test_out_content_type_converts_the_backing_secret(cert_vault):
    cert_vault.certificates().begin_create_certificate(
        "convert", EC_POLICY).result()
    secrets = cert_vault.secrets()

    as_pem = secrets.get_secret("convert", out_content_type=ContentType.PEM)
    as_pfx = secrets.get_secret("convert", out_content_type=ContentType.PFX)

    assert _pem_blocks(as_pem.value) == ["-----BEGIN PRIVATE KEY-----",
                                         "-----BEGIN CERTIFICATE-----"]
    assert as_pfx.value == secrets.get_secret("convert").value


def test_managed_secret_cannot_be_set_or_deleted(cert_vault):
    cert_vault.certificates().begin_create_certificate(
        "guarded", EC_POLICY).result()
    secrets = cert_vault.secrets()

    with pytest.raises(HttpResponseError) as refused_set:
        secrets.set_secret("guarded", "overwrite")
    with pytest.raises(HttpResponseError) as refused_delete:
        secrets.begin_delete_secret("guarded")

    for refused, operation in ((refused_set, "set"), (refused_delete, "delete")):
        assert refused.value.status_code == 403
        assert refused.value.error.message == (
            f'Operation "{operation}" is not allowed as this object\'s lifetime is managed '
            "by Key Vault.")
    assert secrets.get_secret("guarded").properties.managed is True


def pki_hash():
    from cryptography.hazmat.primitives import hashes

    return hashes.SHA256()


def test_reuse_key_keeps_the_key_and_non_exportable_secrets_hold_no_key(cert_vault):
    client = cert_vault.certificates()
    policy = CertificatePolicy(issuer_name="Self", subject="CN=kept", key_type=KeyType.ec,
                               reuse_key=True, exportable=False,
                               content_type=CertificateContentType.pem)
    first = client.begin_create_certificate("kept", policy).result()
    second = client.begin_create_certificate("kept", policy).result()

    def public(certificate):
        return x509.load_der_x509_certificate(certificate.cer).public_key()

    assert first.properties.version != second.properties.version
    assert public(first) == public(second)
    assert _pem_blocks(cert_vault.secrets().get_secret("kept").value) == [
        "-----BEGIN CERTIFICATE-----"]
    assert cert_vault.keys().get_key("kept").properties.exportable is False


def test_issuers_and_contacts(cert_vault):
    from azure.keyvault.certificates import AdministratorContact, CertificateContact

    client = cert_vault.certificates()
    issuer = client.create_issuer(
        "corp-ca", "Test", account_id="acct", password="hidden", organization_id="org-1",
        admin_contacts=[AdministratorContact(first_name="Ada", last_name="L",
                                             email="ada@example.com", phone="1")])

    assert issuer.id == f"{cert_vault.url}/certificates/issuers/corp-ca"
    assert (issuer.provider, issuer.account_id, issuer.password) == ("Test", "acct", None)
    assert [c.email for c in issuer.admin_contacts] == ["ada@example.com"]
    assert client.update_issuer("corp-ca", enabled=False).enabled is False
    assert client.get_issuer("corp-ca").organization_id == "org-1"
    assert [i.name for i in client.list_properties_of_issuers()] == ["corp-ca"]
    assert client.delete_issuer("corp-ca").name == "corp-ca"
    with pytest.raises(ResourceNotFoundError) as missing:
        client.get_issuer("corp-ca")
    assert missing.value.error.message == "Issuer not found: corp-ca"

    with pytest.raises(ResourceNotFoundError):
        client.get_contacts()
    contacts = [CertificateContact(email="ops@example.com", name="Ops", phone="2")]
    assert [c.email for c in client.set_contacts(contacts)] == ["ops@example.com"]
    assert [c.name for c in client.get_contacts()] == ["Ops"]
    assert [c.phone for c in client.delete_contacts()] == ["2"]
