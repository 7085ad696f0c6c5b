"""The local CA and server certificate: names, constraints, modes, reuse."""

from __future__ import annotations

import ipaddress
import stat

from cryptography import x509

from kvcsi.cloud.tls import SERVER_DNS_NAMES, ensure_tls


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_creates_ca_and_server_certificate_with_private_keys_0600(tmp_path):
    files = ensure_tls(tmp_path)

    assert files.ca_cert == tmp_path / "cloud" / "ca.pem"
    assert files.server_cert == tmp_path / "cloud" / "tls.pem"
    assert _mode(files.ca_key) == 0o600
    assert _mode(files.server_key) == 0o600
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    server = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert server.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert server.issuer == ca.subject
    server.verify_directly_issued_by(ca)
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == [
        "localhost", "*.localhost", "*.vault.localhost", "management.localhost",
        "graph.localhost"]
    assert list(SERVER_DNS_NAMES) == names.get_values_for_type(x509.DNSName)
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]


def test_second_start_keeps_the_same_ca_and_certificate(tmp_path):
    first = ensure_tls(tmp_path)
    ca_bytes, cert_bytes = first.ca_cert.read_bytes(), first.server_cert.read_bytes()

    second = ensure_tls(tmp_path)

    assert second.ca_cert.read_bytes() == ca_bytes
    assert second.server_cert.read_bytes() == cert_bytes


def test_missing_server_certificate_is_reissued_by_the_existing_ca(tmp_path):
    files = ensure_tls(tmp_path)
    ca_bytes = files.ca_cert.read_bytes()
    files.server_cert.unlink()

    ensure_tls(tmp_path)

    assert files.ca_cert.read_bytes() == ca_bytes
    server = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    server.verify_directly_issued_by(x509.load_pem_x509_certificate(ca_bytes))
