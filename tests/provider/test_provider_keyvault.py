"""AzureKeyVault over the real SDKs against tiny local fakes: values, versions, error texts.

A TLS fake Key Vault (self-signed certificate made here) answers the SDK's challenge with a
401, then serves or refuses the secret; a plain-HTTP fake IMDS answers token requests. The
error texts must carry the real cause and never the token or a secret value.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kvcsi.provider.auth import AuthConfig
from kvcsi.provider.azure_errors import redact
from kvcsi.provider.clouds import BUILTIN_CLOUDS, CloudEnvironment
from kvcsi.provider.keyvault import (
    SYNC_CLIENTS_ENV,
    AzureKeyVault,
    KeyVaultFetchError,
    VaultClients,
    _use_async_clients,
)
from kvcsi.provider.keyvault_async import AsyncVaultClients

TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL3ZhdWx0In0.c2lnbmF0dXJl"
SECRET_VALUE = "never-in-an-error"


@dataclass
class FakeAzure:
    """State shared by the fake IMDS and the fake Key Vault."""

    imds_status: int = 200
    imds_body: dict[str, Any] = field(default_factory=dict)
    vault_status: int = 200
    imds_queries: list[str] = field(default_factory=list)
    vault_auth: list[str] = field(default_factory=list)


def _send_json(handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any],
               headers: dict[str, str] | None = None) -> None:
    raw = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json; charset=utf-8")
    handler.send_header("Content-Length", str(len(raw)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(raw)


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName("*.vault.localhost"),
                 x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp / "tls.pem", tmp / "tls-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def _serve(server: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    return thread


@pytest.fixture
def fake_azure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeAzure, str]]:
    state = FakeAzure(imds_body={"access_token": TOKEN, "expires_in": "86399",
                                 "expires_on": "4102444800", "resource": "https://vault.azure.net",
                                 "token_type": "Bearer"})

    class Imds(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            state.imds_queries.append(self.path)
            _send_json(self, state.imds_status, state.imds_body)

        def log_message(self, *args: Any) -> None:
            pass

    class Vault(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            auth = self.headers.get("Authorization", "")
            if not auth:
                _send_json(self, 401, {"error": {"code": "Unauthorized",
                                                 "message": "AKV10000: Request is missing a "
                                                            "Bearer or PoP token."}},
                           {"WWW-Authenticate": 'Bearer authorization="https://login.'
                            'microsoftonline.com/tid", resource="https://vault.localhost:'
                            f'{self.server.server_port}"'})
                return
            state.vault_auth.append(auth)
            if state.vault_status == 403:
                _send_json(self, 403, {"error": {
                    "code": "Forbidden", "message": "Caller is not authorized to perform "
                    "action on resource.", "innererror": {"code": "ForbiddenByRbac"}}})
                return
            name = self.path.split("?")[0].strip("/").split("/")[1]
            _send_json(self, 200, {
                "value": SECRET_VALUE, "attributes": {"enabled": True},
                "id": f"https://kvname.vault.localhost/secrets/{name}/7a2b9c4d5e6f40718293a4b5c6d7e8f9"})

        def log_message(self, *args: Any) -> None:
            pass

    imds = ThreadingHTTPServer(("127.0.0.1", 0), Imds)
    vault = ThreadingHTTPServer(("127.0.0.1", 0), Vault)
    cert, key = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    vault.socket = context.wrap_socket(vault.socket, server_side=True)
    _serve(imds)
    _serve(vault)
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", f"http://127.0.0.1:{imds.server_port}")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    try:
        yield state, f"https://kvname.vault.localhost:{vault.server_port}/"
    finally:
        for server in (imds, vault):
            server.shutdown()
            server.server_close()


PUBLIC: CloudEnvironment = BUILTIN_CLOUDS["AZUREPUBLICCLOUD"]


def test_fetch_through_imds_and_cache(fake_azure: tuple[FakeAzure, str]) -> None:
    state, url = fake_azure
    vault = AzureKeyVault()
    auth = AuthConfig("managed-identity", "tid", client_id="cid-1")
    bundle = vault.get_secret(url, auth, PUBLIC, "db-password", "")
    assert (bundle.value, bundle.version) == (SECRET_VALUE, "7a2b9c4d5e6f40718293a4b5c6d7e8f9")
    assert not bundle.certificate_backed
    vault.get_secret(url, auth, PUBLIC, "db-password", "")
    assert len(state.imds_queries) == 1  # one credential per identity; its token is reused
    path, _, query = state.imds_queries[0].partition("?")
    assert path == "/metadata/identity/oauth2/token"
    port = url.rsplit(":", 1)[1].rstrip("/")
    assert dict(parse_qsl(query)) == {"api-version": "2018-02-01", "client_id": "cid-1",
                                      "resource": f"https://vault.localhost:{port}"}
    assert state.vault_auth == [f"Bearer {TOKEN}"] * 2


def test_system_assigned_identity_sends_no_client_id(fake_azure: tuple[FakeAzure, str]) -> None:
    state, url = fake_azure
    AzureKeyVault().get_secret(url, AuthConfig("managed-identity", "tid"), PUBLIC, "s", "")
    assert "client_id" not in state.imds_queries[0]


def test_forbidden_by_rbac_carries_status_code_and_body(fake_azure: tuple[FakeAzure, str]) -> None:
    state, url = fake_azure
    state.vault_status = 403
    with pytest.raises(KeyVaultFetchError) as caught:
        AzureKeyVault().get_secret(url, AuthConfig("managed-identity", "tid"), PUBLIC, "s1", "")
    text = str(caught.value)
    rule = "-" * 80
    assert text.startswith(f"GET {url}secrets/s1/\n{rule}\nRESPONSE 403: 403 Forbidden\n"
                           f"ERROR CODE: Forbidden\n{rule}\n")
    assert '"code": "ForbiddenByRbac"' in text
    assert "Caller is not authorized to perform action on resource." in text
    assert TOKEN not in text and SECRET_VALUE not in text


def test_imds_identity_not_found(fake_azure: tuple[FakeAzure, str]) -> None:
    state, url = fake_azure
    state.imds_status = 400
    state.imds_body = {"error": "invalid_request", "error_description": "Identity not found"}
    with pytest.raises(KeyVaultFetchError) as caught:
        AzureKeyVault().get_secret(url, AuthConfig("managed-identity", "tid", client_id="nope"),
                                   PUBLIC, "s1", "")
    assert str(caught.value).startswith("ManagedIdentityCredential authentication failed: "
                                        "IMDS endpoint http://127.0.0.1:")
    assert str(caught.value).endswith(" answered: (invalid_request) Identity not found")


@pytest.fixture(params=["async", "sync"])
def client_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with the async SDK clients (the default) and with the sync ones."""
    if request.param == "sync":
        monkeypatch.setenv(SYNC_CLIENTS_ENV, "1")
    else:
        monkeypatch.delenv(SYNC_CLIENTS_ENV, raising=False)
    return str(request.param)


def test_async_and_sync_clients_fetch_alike(fake_azure: tuple[FakeAzure, str],
                                            client_kind: str) -> None:
    state, url = fake_azure
    vault = AzureKeyVault()
    auth = AuthConfig("managed-identity", "tid", client_id="cid-1")
    bundle = vault.get_secret(url, auth, PUBLIC, "db-password", "")
    assert (bundle.value, bundle.version) == (SECRET_VALUE, "7a2b9c4d5e6f40718293a4b5c6d7e8f9")
    expected = AsyncVaultClients if client_kind == "async" else VaultClients
    assert type(vault._vault(url, auth, PUBLIC)) is expected
    assert state.vault_auth == [f"Bearer {TOKEN}"]


def test_a_proxy_keeps_the_sync_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SYNC_CLIENTS_ENV, raising=False)
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY",
                 "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert _use_async_clients() is True
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    assert _use_async_clients() is False


def test_unreachable_vault_names_the_host(fake_azure: tuple[FakeAzure, str],
                                          client_kind: str) -> None:
    with pytest.raises(KeyVaultFetchError) as caught:
        AzureKeyVault().get_secret("https://127.0.0.1:1/", AuthConfig("managed-identity", "t"),
                                   PUBLIC, "s1", "")
    assert str(caught.value) == "failed to connect to 127.0.0.1:1: connection refused"


def test_unreachable_imds_names_the_address(fake_azure: tuple[FakeAzure, str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    _, url = fake_azure
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:1")
    with pytest.raises(KeyVaultFetchError) as caught:
        AzureKeyVault().get_secret(url, AuthConfig("managed-identity", "t", client_id="x"),
                                   PUBLIC, "s1", "")
    assert str(caught.value) == (
        "ManagedIdentityCredential authentication unavailable, no response from the IMDS "
        "endpoint http://127.0.0.1:1: connection refused")


def test_untrusted_certificate_names_the_host(fake_azure: tuple[FakeAzure, str],
                                              monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path, client_kind: str) -> None:
    _, url = fake_azure
    (tmp_path / "other").mkdir()
    other_ca, _ = _self_signed(tmp_path / "other")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other_ca))
    with pytest.raises(KeyVaultFetchError) as caught:
        AzureKeyVault().get_secret(url, AuthConfig("managed-identity", "t"), PUBLIC, "s1", "")
    host = url.removeprefix("https://").rstrip("/")
    assert str(caught.value) == (f"failed to connect to {host}: TLS certificate verification "
                                 "failed: self-signed certificate")


def test_redact_masks_tokens() -> None:
    text = f"Authorization: Bearer {TOKEN} and raw {TOKEN}; Bearer token authentication"
    assert redact(text) == ("Authorization: Bearer <redacted-token> and raw <redacted-token>; "
                            "Bearer token authentication")
