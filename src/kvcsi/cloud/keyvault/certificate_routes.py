"""Key Vault's certificates REST operations (``/certificates``, ``/deletedcertificates``) as
Starlette routes.

Thin adapters: each handler authorizes its operation (:mod:`.operations`), calls
:class:`~kvcsi.cloud.keyvault.certificates.CertificateService` and shapes the answer with
:mod:`.certificates_bundles`. Paths and answers follow ``azure-protocols.md`` §1.4: create
answers 202 with a ``CertificateOperation`` (already ``completed`` for issuer ``Self``), a
``Location`` of the pending operation and ``Retry-After: 0``; merge answers 201; purge 204;
the latest version is ``/certificates/{name}`` or ``/certificates/{name}/``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kvcsi.cloud.context import CloudContext
from kvcsi.cloud.keyvault import certificates_bundles as bundles
from kvcsi.cloud.keyvault import operations, paging
from kvcsi.cloud.keyvault.certificates import CertificateService
from kvcsi.cloud.keyvault.certificates_backing import CertificateBacking
from kvcsi.cloud.keyvault.certificates_issuer_routes import issuer_routes
from kvcsi.cloud.keyvault.certificates_issuers import IssuerStore
from kvcsi.cloud.keyvault.certificates_store import CertificateStore
from kvcsi.cloud.keyvault.cipher import SecretCipher
from kvcsi.cloud.keyvault.keys import KeyRepository
from kvcsi.cloud.keyvault.secrets import SecretRepository
from kvcsi.cloud.keyvault.vault_call import VaultCall, empty_response, json_response, vault_call


def _name(request: Request) -> str:
    return str(request.path_params["name"])


class CertificateHandlers:
    """The handlers of every certificates operation, bound to one service."""

    def __init__(self, service: CertificateService) -> None:
        self.service = service
        self.store = service.certificates

    def _bundle(self, call: VaultCall, doc: dict) -> dict:
        return bundles.certificate_bundle(doc, call.base_url,
                                          self.store.policy(call.vault_name, doc["name"]))

    async def create(self, request: Request) -> Response:
        call, name = vault_call(request), _name(request)
        call.authorize(operations.CREATE_CERTIFICATE, name)
        operation = self.service.create(call.vault_name, name, await call.json_body(),
                                        call.base_url)
        response = json_response(
            bundles.operation_body(operation, call.base_url, accepted=True), 202)
        response.headers["Location"] = (
            f"{bundles.operation_id(call.base_url, operation['name'])}"
            f"?api-version={call.api_version}&request_id={operation['requestId']}")
        response.headers["Retry-After"] = "0"
        return response

    async def import_certificate(self, request: Request) -> Response:
        call, name = vault_call(request), _name(request)
        call.authorize(operations.IMPORT_CERTIFICATE, name)
        doc = self.service.import_(call.vault_name, name, await call.json_body(), call.base_url)
        return json_response(self._bundle(call, doc))

    async def get(self, request: Request) -> Response:
        call, name = vault_call(request), _name(request)
        call.authorize(operations.GET_CERTIFICATE, name)
        doc = self.service.get(call.vault_name, name, request.path_params.get("version"))
        return json_response(self._bundle(call, doc))

    async def update(self, request: Request) -> Response:
        call, name = vault_call(request), _name(request)
        call.authorize(operations.UPDATE_CERTIFICATE, name)
        doc = self.service.update(call.vault_name, name, request.path_params.get("version"),
                                  await call.json_body())
        return json_response(self._bundle(call, doc))

    async def get_policy(self, request: Request) -> Response:
        call, name = vault_call(request), _name(request)
        call.authorize(operations.GET_CERTIFICATE_POLICY, name)
        policy_doc = self.service.policy(call.vault_name, name)
        stored = self.store.stored_name(call.vault_name, name)
        return json_response(bundles.policy_body(call.base_url, stored, policy_doc))

    async def update_policy(self, request: Request) -> Response:
        call, name = vault_call(request), _name(request)
        call.authorize(operations.UPDATE_CERTIFICATE_POLICY, name)
        policy_doc = self.service.update_policy(call.vault_name, name, await call.json_body())
        stored = self.store.stored_name(call.vault_name, name)
        return json_response(bundles.policy_body(call.base_url, stored, policy_doc))

    async def get_pending(self, request: Request) -> Response:
        call, name = vault_call(request), _name(request)
        call.authorize(operations.GET_CERTIFICATE_OPERATION, name)
        operation = self.service.pending(call.vault_name, name)
        return json_response(bundles.operation_body(operation, call.base_url))

    async def update_pending(self, request: Request) -> Response:
        call, name = vault_call(request), _name(request)
        call.authorize(operations.UPDATE_CERTIFICATE, name)
        operation = self.service.cancel_pending(call.vault_name, name, await call.json_body())
        return json_response(bundles.operation_body(operation, call.base_url))

    async def delete_pending(self, request: Request) -> Response:
        call, name = vault_call(request), _name(request)
        call.authorize(operations.DELETE_CERTIFICATE, name)
        operation = self.service.delete_pending(call.vault_name, name)
        return json_response(bundles.operation_body(operation, call.base_url))

    async def merge(self, request: Request) -> Response:
        call, name = vault_call(request), _name(request)
        call.authorize(operations.CREATE_CERTIFICATE, name)
        doc = self.service.merge(call.vault_name, name, await call.json_body(), call.base_url)
        return json_response(self._bundle(call, doc), 201)

    async def list_certificates(self, request: Request) -> Response:
        call = vault_call(request)
        call.authorize(operations.LIST_CERTIFICATES)
        return json_response(self._names_page(call, request, "/certificates", deleted=False))

    async def list_deleted(self, request: Request) -> Response:
        call = vault_call(request)
        call.authorize(operations.LIST_DELETED_CERTIFICATES)
        return json_response(self._names_page(call, request, "/deletedcertificates",
                                              deleted=True))

    def _names_page(self, call: VaultCall, request: Request, path: str, *,
                    deleted: bool) -> dict:
        size = paging.max_results(request.query_params)
        after = paging.skip_position(request.query_params)
        heads = self.store.heads_page(call.vault_name, after, size + 1, deleted=deleted)
        more = len(heads) > size
        heads = heads[:size]
        if deleted:
            items = [bundles.deleted_item(head, call.base_url) for head in heads]
        else:
            items = [bundles.certificate_item(head["current"], call.base_url,
                                              with_version=False) for head in heads]
        next_position = heads[-1]["name"].lower() if more else None
        return paging.page(items, next_position, call.base_url, path, call.api_version, size)

    async def list_versions(self, request: Request) -> Response:
        call, name = vault_call(request), _name(request)
        call.authorize(operations.LIST_CERTIFICATE_VERSIONS, name)
        size = paging.max_results(request.query_params)
        start = int(paging.skip_position(request.query_params) or 0)
        versions = self.store.versions(call.vault_name, name)
        if not self.store.exists(call.vault_name, name):
            versions = []
        items = [bundles.certificate_item(doc, call.base_url, with_version=True)
                 for doc in versions[start:start + size]]
        next_position = str(start + size) if start + size < len(versions) else None
        return json_response(paging.page(items, next_position, call.base_url,
                                         f"/certificates/{name}/versions", call.api_version,
                                         size))

    async def delete(self, request: Request) -> Response:
        call, name = vault_call(request), _name(request)
        call.authorize(operations.DELETE_CERTIFICATE, name)
        head = self.service.delete(call.vault_name, name)
        policy_doc = self.store.policy(call.vault_name, head["name"])
        return json_response(bundles.deleted_bundle(head, call.base_url, policy_doc))

    async def get_deleted(self, request: Request) -> Response:
        call, name = vault_call(request), _name(request)
        call.authorize(operations.GET_DELETED_CERTIFICATE, name)
        head = self.store.deleted_head(call.vault_name, name)
        policy_doc = self.store.policy(call.vault_name, head["name"])
        return json_response(bundles.deleted_bundle(head, call.base_url, policy_doc))

    async def recover(self, request: Request) -> Response:
        call, name = vault_call(request), _name(request)
        call.authorize(operations.RECOVER_CERTIFICATE, name)
        doc = self.service.recover(call.vault_name, name)
        return json_response(self._bundle(call, doc))

    async def purge(self, request: Request) -> Response:
        call, name = vault_call(request), _name(request)
        call.authorize(operations.PURGE_CERTIFICATE, name)
        self.service.purge(call.vault_name, name)
        return empty_response(204)

    async def backup(self, request: Request) -> Response:
        call, name = vault_call(request), _name(request)
        call.authorize(operations.BACKUP_CERTIFICATE, name)
        return json_response({"value": self.service.backup(call.vault_name, name)})

    async def restore(self, request: Request) -> Response:
        call = vault_call(request)
        call.authorize(operations.RESTORE_CERTIFICATE)
        body = await call.json_body()
        doc = self.service.restore(call.vault_name, body.get("value"), call.base_url)
        return json_response(self._bundle(call, doc))


def certificate_service(ctx: CloudContext) -> CertificateService:
    """The certificate service of a cloud, storing backing objects with the secrets and keys
    repositories (same store, same at-rest key)."""
    cipher = SecretCipher(ctx.home)
    backing = CertificateBacking(SecretRepository(ctx.store, cipher),
                                 KeyRepository(ctx.store, cipher))
    return CertificateService(CertificateStore(ctx.store), backing, cipher)


def certificate_routes(ctx: CloudContext) -> list[Route]:
    """Every certificates route, issuers and contacts included (fixed paths before
    ``{name}/{version}``)."""
    h = CertificateHandlers(certificate_service(ctx))
    return issuer_routes(IssuerStore(ctx.store, SecretCipher(ctx.home))) + [
        Route("/certificates", h.list_certificates, methods=["GET"]),
        Route("/certificates/restore", h.restore, methods=["POST"]),
        Route("/certificates/{name}/create", h.create, methods=["POST"]),
        Route("/certificates/{name}/import", h.import_certificate, methods=["POST"]),
        Route("/certificates/{name}/backup", h.backup, methods=["POST"]),
        Route("/certificates/{name}/versions", h.list_versions, methods=["GET"]),
        Route("/certificates/{name}/policy", h.get_policy, methods=["GET"]),
        Route("/certificates/{name}/policy", h.update_policy, methods=["PATCH"]),
        Route("/certificates/{name}/pending", h.get_pending, methods=["GET"]),
        Route("/certificates/{name}/pending", h.update_pending, methods=["PATCH"]),
        Route("/certificates/{name}/pending", h.delete_pending, methods=["DELETE"]),
        Route("/certificates/{name}/pending/merge", h.merge, methods=["POST"]),
        Route("/certificates/{name}/", h.get, methods=["GET"]),
        Route("/certificates/{name}", h.get, methods=["GET"]),
        Route("/certificates/{name}/{version}", h.get, methods=["GET"]),
        Route("/certificates/{name}/", h.update, methods=["PATCH"]),
        Route("/certificates/{name}/{version}", h.update, methods=["PATCH"]),
        Route("/certificates/{name}", h.delete, methods=["DELETE"]),
        Route("/deletedcertificates", h.list_deleted, methods=["GET"]),
        Route("/deletedcertificates/{name}", h.get_deleted, methods=["GET"]),
        Route("/deletedcertificates/{name}", h.purge, methods=["DELETE"]),
        Route("/deletedcertificates/{name}/recover", h.recover, methods=["POST"]),
    ]
