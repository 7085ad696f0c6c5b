"""Key Vault's secrets REST operations (``/secrets``, ``/deletedsecrets``) as Starlette routes.

Thin adapters: each handler authorizes its operation (:mod:`.operations`), calls
:class:`~kvcsi.cloud.keyvault.secrets.SecretRepository` and shapes the answer with
:mod:`.secret_bundles`. Paths and answers follow ``azure-protocols.md`` §1.2: the latest
version is ``/secrets/{name}`` or ``/secrets/{name}/`` (what the Python SDK sends), updates
and recoveries answer without ``value``, purge answers 204, deleted secrets are visible at
once (so the SDK's delete poller finishes on its first poll).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kvcsi.cloud.keyvault import backup, managed_rules, operations, paging
from kvcsi.cloud.keyvault.secret_bundles import (
    deleted_secret_bundle,
    deleted_secret_item,
    secret_bundle,
    secret_item,
)
from kvcsi.cloud.keyvault.secrets import SecretRepository, SetSecretRequest, UpdateSecretRequest
from kvcsi.cloud.keyvault.vault_call import empty_response, json_response, vault_call

BACKUP_TYPE = "secret"


class SecretHandlers:
    """The handlers of every secrets operation, bound to one repository."""

    def __init__(self, secrets: SecretRepository) -> None:
        self.secrets = secrets

    async def get_secret(self, request: Request) -> Response:
        call = vault_call(request)
        name = request.path_params["name"]
        version = request.path_params.get("version")
        call.authorize(operations.GET_SECRET, name)
        secret = self.secrets.get_enabled(call.vault_name, name, version)
        value = self.secrets.reveal(secret)
        if "outContentType" in call.query:
            secret, value = managed_rules.converted_secret(secret, value, call.query,
                                                           call.api_version)
        return json_response(secret_bundle(secret, value, call.base_url))

    async def set_secret(self, request: Request) -> Response:
        call = vault_call(request)
        name = request.path_params["name"]
        call.authorize(operations.SET_SECRET, name)
        managed_rules.refuse_managed_secret(self.secrets.objects, call.vault_name, name, "set")
        parsed = SetSecretRequest.parse(await call.json_body())
        secret = self.secrets.set(call.vault_name, name, parsed)
        return json_response(secret_bundle(secret, parsed.value, call.base_url))

    async def update_secret(self, request: Request) -> Response:
        call = vault_call(request)
        name = request.path_params["name"]
        call.authorize(operations.UPDATE_SECRET, name)
        parsed = UpdateSecretRequest.parse(await call.json_body())
        secret = self.secrets.update(call.vault_name, name, request.path_params.get("version"),
                                     parsed)
        return json_response(secret_bundle(secret, None, call.base_url))

    async def list_secrets(self, request: Request) -> Response:
        call = vault_call(request)
        call.authorize(operations.LIST_SECRETS)
        return json_response(self._names_page(call.vault_name, request, "/secrets",
                                              deleted=False))

    async def list_deleted_secrets(self, request: Request) -> Response:
        call = vault_call(request)
        call.authorize(operations.LIST_DELETED_SECRETS)
        return json_response(self._names_page(call.vault_name, request, "/deletedsecrets",
                                              deleted=True))

    def _names_page(self, vault: str, request: Request, path: str, *, deleted: bool) -> dict:
        call = vault_call(request)
        size = paging.max_results(call.query)
        after = paging.skip_position(call.query)
        heads = self.secrets.objects.heads_page(vault, after, size + 1, deleted=deleted)
        more = len(heads) > size
        heads = heads[:size]
        if deleted:
            items = [deleted_secret_item(head, call.base_url) for head in heads]
        else:
            items = [secret_item(head["current"], call.base_url, with_version=False)
                     for head in heads]
        next_position = heads[-1]["name"].lower() if more else None
        return paging.page(items, next_position, call.base_url, path, call.api_version, size)

    async def list_versions(self, request: Request) -> Response:
        call = vault_call(request)
        name = request.path_params["name"]
        call.authorize(operations.LIST_SECRET_VERSIONS, name)
        size = paging.max_results(call.query)
        start = paging.skip_offset(call.query)
        versions = self.secrets.versions(call.vault_name, name)
        if self.secrets.objects.live_head(call.vault_name, name) is None:
            versions = []
        items = [secret_item(doc, call.base_url, with_version=True)
                 for doc in versions[start:start + size]]
        next_position = str(start + size) if start + size < len(versions) else None
        return json_response(paging.page(items, next_position, call.base_url,
                                         f"/secrets/{name}/versions", call.api_version, size))

    async def delete_secret(self, request: Request) -> Response:
        call = vault_call(request)
        name = request.path_params["name"]
        call.authorize(operations.DELETE_SECRET, name)
        managed_rules.refuse_managed_secret(self.secrets.objects, call.vault_name, name,
                                            "delete")
        head = self.secrets.objects.delete(call.vault_name, name)
        return json_response(deleted_secret_bundle(head, call.base_url))

    async def get_deleted_secret(self, request: Request) -> Response:
        call = vault_call(request)
        name = request.path_params["name"]
        call.authorize(operations.GET_DELETED_SECRET, name)
        head = self.secrets.objects.deleted_head(call.vault_name, name)
        return json_response(deleted_secret_bundle(head, call.base_url))

    async def recover_deleted_secret(self, request: Request) -> Response:
        call = vault_call(request)
        name = request.path_params["name"]
        call.authorize(operations.RECOVER_SECRET, name)
        secret = self.secrets.objects.recover(call.vault_name, name)
        return json_response(secret_bundle(secret, None, call.base_url))

    async def purge_deleted_secret(self, request: Request) -> Response:
        call = vault_call(request)
        name = request.path_params["name"]
        call.authorize(operations.PURGE_SECRET, name)
        self.secrets.objects.purge(call.vault_name, name)
        return empty_response(204)

    async def backup_secret(self, request: Request) -> Response:
        call = vault_call(request)
        name = request.path_params["name"]
        call.authorize(operations.BACKUP_SECRET, name)
        stored_name, versions = self.secrets.backup_versions(call.vault_name, name)
        blob = backup.make_blob(self.secrets.cipher, BACKUP_TYPE, stored_name, versions)
        return json_response({"value": blob})

    async def restore_secret(self, request: Request) -> Response:
        call = vault_call(request)
        call.authorize(operations.RESTORE_SECRET)
        document = backup.read_blob(self.secrets.cipher, BACKUP_TYPE,
                                    (await call.json_body()).get("value"))
        secret = self.secrets.restore_versions(call.vault_name, document["name"],
                                               document["versions"])
        return json_response(secret_bundle(secret, None, call.base_url))


def secret_routes(secrets: SecretRepository) -> list[Route]:
    """Every secrets route; the latest-version GET comes first (the hot path)."""
    h = SecretHandlers(secrets)
    return [
        Route("/secrets/{name}/", h.get_secret, methods=["GET"]),
        Route("/secrets/{name}", h.get_secret, methods=["GET"]),
        Route("/secrets", h.list_secrets, methods=["GET"]),
        Route("/secrets/restore", h.restore_secret, methods=["POST"]),
        Route("/secrets/{name}/versions", h.list_versions, methods=["GET"]),
        Route("/secrets/{name}/backup", h.backup_secret, methods=["POST"]),
        Route("/secrets/{name}/{version}", h.get_secret, methods=["GET"]),
        Route("/secrets/{name}", h.set_secret, methods=["PUT"]),
        Route("/secrets/{name}/", h.update_secret, methods=["PATCH"]),
        Route("/secrets/{name}", h.update_secret, methods=["PATCH"]),
        Route("/secrets/{name}/{version}", h.update_secret, methods=["PATCH"]),
        Route("/secrets/{name}", h.delete_secret, methods=["DELETE"]),
        Route("/deletedsecrets", h.list_deleted_secrets, methods=["GET"]),
        Route("/deletedsecrets/{name}", h.get_deleted_secret, methods=["GET"]),
        Route("/deletedsecrets/{name}", h.purge_deleted_secret, methods=["DELETE"]),
        Route("/deletedsecrets/{name}/recover", h.recover_deleted_secret, methods=["POST"]),
    ]
