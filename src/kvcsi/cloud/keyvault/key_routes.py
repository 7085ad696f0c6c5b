"""Key Vault's keys REST operations (``/keys``, ``/deletedkeys``) as Starlette routes.

Thin adapters over :class:`~kvcsi.cloud.keyvault.keys.KeyRepository` and
:mod:`.key_crypto` (``azure-protocols.md`` §1.3): create (``POST /keys/{name}/create``),
import (``PUT /keys/{name}``), get/update/list/versions, soft delete/recover/purge,
backup/restore and ``POST /keys/{name}/{version}/{encrypt|decrypt|sign|verify|wrapkey|
unwrapkey}`` with ``{alg, value}`` → ``{kid, value}`` (verify: ``{alg, digest, value}`` →
``{value: bool}``).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kvcsi.cloud.keyvault import backup, key_crypto, managed_rules, operations, paging
from kvcsi.cloud.keyvault.errors import BadParameter
from kvcsi.cloud.keyvault.jwk import b64url, from_b64url
from kvcsi.cloud.keyvault.key_bundles import (
    deleted_key_bundle,
    deleted_key_item,
    key_bundle,
    key_id,
    key_item,
)
from kvcsi.cloud.keyvault.keys import KeyRepository, NewKey
from kvcsi.cloud.keyvault.operations import Operation
from kvcsi.cloud.keyvault.vault_call import VaultCall, empty_response, json_response, vault_call

BACKUP_TYPE = "key"
# path segment -> (operation, key_ops entry)
KEY_OPERATIONS: dict[str, tuple[Operation, str]] = {
    "encrypt": (operations.ENCRYPT, "encrypt"),
    "decrypt": (operations.DECRYPT, "decrypt"),
    "sign": (operations.SIGN, "sign"),
    "verify": (operations.VERIFY, "verify"),
    "wrapkey": (operations.WRAP_KEY, "wrapKey"),
    "unwrapkey": (operations.UNWRAP_KEY, "unwrapKey"),
}


def _algorithm(body: dict[str, Any]) -> str:
    algorithm = body.get("alg")
    if not isinstance(algorithm, str) or not algorithm:
        raise BadParameter("Property alg is required")
    return algorithm


class KeyHandlers:
    """The handlers of every keys operation, bound to one repository."""

    def __init__(self, keys: KeyRepository) -> None:
        self.keys = keys

    async def get_key(self, request: Request) -> Response:
        call = vault_call(request)
        name = request.path_params["name"]
        call.authorize(operations.GET_KEY, name)
        doc = self.keys.get(call.vault_name, name, request.path_params.get("version"))
        return json_response(key_bundle(doc, call.base_url))

    async def create_key(self, request: Request) -> Response:
        call = vault_call(request)
        name = request.path_params["name"]
        call.authorize(operations.CREATE_KEY, name)
        managed_rules.refuse_managed_key(self.keys.objects, call.vault_name, name, "create")
        new = NewKey.create(await call.json_body())
        return json_response(key_bundle(self.keys.add(call.vault_name, name, new),
                                        call.base_url))

    async def import_key(self, request: Request) -> Response:
        call = vault_call(request)
        name = request.path_params["name"]
        call.authorize(operations.IMPORT_KEY, name)
        managed_rules.refuse_managed_key(self.keys.objects, call.vault_name, name, "import")
        new = NewKey.import_(await call.json_body())
        return json_response(key_bundle(self.keys.add(call.vault_name, name, new),
                                        call.base_url))

    async def update_key(self, request: Request) -> Response:
        call = vault_call(request)
        name = request.path_params["name"]
        call.authorize(operations.UPDATE_KEY, name)
        doc = self.keys.update(call.vault_name, name, request.path_params.get("version"),
                               await call.json_body())
        return json_response(key_bundle(doc, call.base_url))

    async def list_keys(self, request: Request) -> Response:
        return json_response(self._names_page(request, "/keys", deleted=False))

    async def list_deleted_keys(self, request: Request) -> Response:
        return json_response(self._names_page(request, "/deletedkeys", deleted=True))

    def _names_page(self, request: Request, path: str, *, deleted: bool) -> dict[str, Any]:
        call = vault_call(request)
        call.authorize(operations.LIST_DELETED_KEYS if deleted else operations.LIST_KEYS)
        size = paging.max_results(call.query)
        after = paging.skip_position(call.query)
        heads = self.keys.objects.heads_page(call.vault_name, after, size + 1, deleted=deleted)
        more, heads = len(heads) > size, heads[:size]
        items = [deleted_key_item(head, call.base_url) if deleted
                 else key_item(head["current"], call.base_url, with_version=False)
                 for head in heads]
        next_position = heads[-1]["name"].lower() if more else None
        return paging.page(items, next_position, call.base_url, path, call.api_version, size)

    async def list_versions(self, request: Request) -> Response:
        call = vault_call(request)
        name = request.path_params["name"]
        call.authorize(operations.LIST_KEY_VERSIONS, name)
        size = paging.max_results(call.query)
        start = paging.skip_offset(call.query)
        versions = (self.keys.objects.versions(call.vault_name, name)
                    if self.keys.objects.live_head(call.vault_name, name) else [])
        items = [key_item(doc, call.base_url, with_version=True)
                 for doc in versions[start:start + size]]
        next_position = str(start + size) if start + size < len(versions) else None
        return json_response(paging.page(items, next_position, call.base_url,
                                         f"/keys/{name}/versions", call.api_version, size))

    async def delete_key(self, request: Request) -> Response:
        call = vault_call(request)
        name = request.path_params["name"]
        call.authorize(operations.DELETE_KEY, name)
        managed_rules.refuse_managed_key(self.keys.objects, call.vault_name, name, "delete")
        return json_response(deleted_key_bundle(self.keys.objects.delete(call.vault_name, name),
                                                call.base_url))

    async def get_deleted_key(self, request: Request) -> Response:
        call = vault_call(request)
        name = request.path_params["name"]
        call.authorize(operations.GET_DELETED_KEY, name)
        head = self.keys.objects.deleted_head(call.vault_name, name)
        return json_response(deleted_key_bundle(head, call.base_url))

    async def recover_deleted_key(self, request: Request) -> Response:
        call = vault_call(request)
        name = request.path_params["name"]
        call.authorize(operations.RECOVER_KEY, name)
        return json_response(key_bundle(self.keys.objects.recover(call.vault_name, name),
                                        call.base_url))

    async def purge_deleted_key(self, request: Request) -> Response:
        call = vault_call(request)
        name = request.path_params["name"]
        call.authorize(operations.PURGE_KEY, name)
        self.keys.objects.purge(call.vault_name, name)
        return empty_response(204)

    async def backup_key(self, request: Request) -> Response:
        call = vault_call(request)
        name = request.path_params["name"]
        call.authorize(operations.BACKUP_KEY, name)
        stored_name, versions = self.keys.backup_versions(call.vault_name, name)
        return json_response({"value": backup.make_blob(self.keys.cipher, BACKUP_TYPE,
                                                        stored_name, versions)})

    async def restore_key(self, request: Request) -> Response:
        call = vault_call(request)
        call.authorize(operations.RESTORE_KEY)
        document = backup.read_blob(self.keys.cipher, BACKUP_TYPE,
                                    (await call.json_body()).get("value"))
        doc = self.keys.restore_versions(call.vault_name, document["name"], document["versions"])
        return json_response(key_bundle(doc, call.base_url))

    async def key_operation(self, request: Request) -> Response:
        call = vault_call(request)
        name, version = request.path_params["name"], request.path_params["version"]
        operation, key_op = KEY_OPERATIONS[request.url.path.rsplit("/", 1)[1].lower()]
        call.authorize(operation, name)
        body = await call.json_body()
        doc = self.keys.usable(call.vault_name, name, version, key_op)
        return json_response(self._run(call, doc, key_op, body))

    def _run(self, call: VaultCall, doc: dict[str, Any], key_op: str,
             body: dict[str, Any]) -> dict[str, Any]:
        algorithm = _algorithm(body)
        key = self.keys.private_key(doc)
        value = from_b64url(body.get("value"), "value")
        if key_op == "verify":
            digest = from_b64url(body.get("digest"), "digest")
            return {"value": key_crypto.verify(key, algorithm, digest, value)}
        if key_op in ("encrypt", "wrapKey"):
            result = key_crypto.encrypt(key, algorithm, value)
        elif key_op in ("decrypt", "unwrapKey"):
            result = key_crypto.decrypt(key, algorithm, value)
        else:
            result = key_crypto.sign(key, algorithm, value)
        return {"kid": key_id(call.base_url, doc), "value": b64url(result)}


def key_routes(keys: KeyRepository) -> list[Route]:
    h = KeyHandlers(keys)
    return [
        Route("/keys/{name}/", h.get_key, methods=["GET"]),
        Route("/keys/{name}", h.get_key, methods=["GET"]),
        Route("/keys", h.list_keys, methods=["GET"]),
        Route("/keys/restore", h.restore_key, methods=["POST"]),
        Route("/keys/{name}/create", h.create_key, methods=["POST"]),
        Route("/keys/{name}/backup", h.backup_key, methods=["POST"]),
        Route("/keys/{name}/versions", h.list_versions, methods=["GET"]),
        Route("/keys/{name}/{version}", h.get_key, methods=["GET"]),
        Route("/keys/{name}", h.import_key, methods=["PUT"]),
        Route("/keys/{name}/", h.update_key, methods=["PATCH"]),
        Route("/keys/{name}", h.update_key, methods=["PATCH"]),
        Route("/keys/{name}/{version}", h.update_key, methods=["PATCH"]),
        Route("/keys/{name}", h.delete_key, methods=["DELETE"]),
        *[Route(f"/keys/{{name}}/{{version}}/{segment}", h.key_operation, methods=["POST"])
          for segment in KEY_OPERATIONS],
        Route("/deletedkeys", h.list_deleted_keys, methods=["GET"]),
        Route("/deletedkeys/{name}", h.get_deleted_key, methods=["GET"]),
        Route("/deletedkeys/{name}", h.purge_deleted_key, methods=["DELETE"]),
        Route("/deletedkeys/{name}/recover", h.recover_deleted_key, methods=["POST"]),
    ]
