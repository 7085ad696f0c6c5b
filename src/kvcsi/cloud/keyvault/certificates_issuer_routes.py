"""Key Vault's ``/certificates/issuers`` and ``/certificates/contacts`` as Starlette routes.

Thin adapters over :class:`~.certificates_issuers.IssuerStore`; authorization at vault scope
with the ``certificatecas/*`` and ``certificatecontacts/write`` data actions (access
policies: ``getissuers``, ``listissuers``, ``setissuers``, ``deleteissuers``,
``managecontacts``). Listing issuers pages like every Key Vault list.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kvcsi.cloud.keyvault import operations, paging
from kvcsi.cloud.keyvault.certificates_issuers import (
    IssuerStore,
    contacts_body,
    issuer_bundle,
    issuer_item,
)
from kvcsi.cloud.keyvault.vault_call import json_response, vault_call


class IssuerHandlers:
    def __init__(self, issuers: IssuerStore) -> None:
        self.issuers = issuers

    async def get_issuer(self, request: Request) -> Response:
        call = vault_call(request)
        call.authorize(operations.GET_CERTIFICATE_ISSUER)
        doc = self.issuers.get_issuer(call.vault_name, request.path_params["issuer"])
        return json_response(issuer_bundle(doc, call.base_url))

    async def set_issuer(self, request: Request) -> Response:
        call = vault_call(request)
        call.authorize(operations.SET_CERTIFICATE_ISSUER)
        doc = self.issuers.set_issuer(call.vault_name, request.path_params["issuer"],
                                      await call.json_body(), merge=request.method == "PATCH")
        return json_response(issuer_bundle(doc, call.base_url))

    async def delete_issuer(self, request: Request) -> Response:
        call = vault_call(request)
        call.authorize(operations.DELETE_CERTIFICATE_ISSUER)
        doc = self.issuers.delete_issuer(call.vault_name, request.path_params["issuer"])
        return json_response(issuer_bundle(doc, call.base_url))

    async def list_issuers(self, request: Request) -> Response:
        call = vault_call(request)
        call.authorize(operations.LIST_CERTIFICATE_ISSUERS)
        size = paging.max_results(request.query_params)
        start = int(paging.skip_position(request.query_params) or 0)
        issuers = self.issuers.issuers(call.vault_name)
        items = [issuer_item(doc, call.base_url) for doc in issuers[start:start + size]]
        next_position = str(start + size) if start + size < len(issuers) else None
        return json_response(paging.page(items, next_position, call.base_url,
                                         "/certificates/issuers", call.api_version, size))

    async def get_contacts(self, request: Request) -> Response:
        call = vault_call(request)
        call.authorize(operations.SET_CERTIFICATE_CONTACTS)
        return json_response(contacts_body(self.issuers.contacts(call.vault_name),
                                           call.base_url))

    async def set_contacts(self, request: Request) -> Response:
        call = vault_call(request)
        call.authorize(operations.SET_CERTIFICATE_CONTACTS)
        contacts = self.issuers.set_contacts(call.vault_name, await call.json_body())
        return json_response(contacts_body(contacts, call.base_url))

    async def delete_contacts(self, request: Request) -> Response:
        call = vault_call(request)
        call.authorize(operations.SET_CERTIFICATE_CONTACTS)
        return json_response(contacts_body(self.issuers.delete_contacts(call.vault_name),
                                           call.base_url))


def issuer_routes(issuers: IssuerStore) -> list[Route]:
    """Issuer and contact routes (to be matched before ``/certificates/{name}``)."""
    h = IssuerHandlers(issuers)
    return [
        Route("/certificates/issuers", h.list_issuers, methods=["GET"]),
        Route("/certificates/issuers/{issuer}", h.get_issuer, methods=["GET"]),
        Route("/certificates/issuers/{issuer}", h.set_issuer, methods=["PUT", "PATCH"]),
        Route("/certificates/issuers/{issuer}", h.delete_issuer, methods=["DELETE"]),
        Route("/certificates/contacts", h.get_contacts, methods=["GET"]),
        Route("/certificates/contacts", h.set_contacts, methods=["PUT"]),
        Route("/certificates/contacts", h.delete_contacts, methods=["DELETE"]),
    ]
