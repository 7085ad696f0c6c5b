"""One Key Vault request after the common checks: the vault, the caller, the api-version.

Route handlers (secrets, keys, and certificates in their own modules) receive a Starlette
``Request`` and get this with :func:`vault_call`; they call :meth:`VaultCall.authorize` with
their :class:`~kvcsi.cloud.keyvault.operations.Operation` before touching anything (an
authorized caller gets 404 for a missing object, an unauthorized one 403), read the body
with :meth:`VaultCall.json_body` and query parameters from ``VaultCall.query``, raise
:mod:`kvcsi.cloud.keyvault.errors` for failures and return :func:`json_response` (the app
adds Key Vault's standard headers).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from kvcsi.cloud.keyvault.authentication import Caller
from kvcsi.cloud.keyvault.authorization import Authorizer
from kvcsi.cloud.keyvault.errors import BadParameter
from kvcsi.cloud.keyvault.operations import Operation

SCOPE_KEY = "kvcsi.keyvault.call"
JSON_UTF8 = "application/json; charset=utf-8"


@dataclass
class VaultCall:
    """What every handler needs about the request it serves."""

    request: Request
    vault: dict[str, Any]
    caller: Caller
    base_url: str
    api_version: str
    authorizer: Authorizer
    query: dict[str, str] = field(default_factory=dict)
    assignment_id: str | None = field(default=None)

    @property
    def vault_name(self) -> str:
        return str(self.vault["name"]).lower()

    def authorize(self, operation: Operation, object_name: str | None = None) -> None:
        """Raise 403 unless the caller may run ``operation`` (on ``object_name``)."""
        self.assignment_id = self.authorizer.authorize(self.vault, self.caller, operation,
                                                       object_name)

    async def json_body(self) -> dict[str, Any]:
        raw = await self.request.body()
        if not raw:
            raise BadParameter("The request body is required.")
        try:
            body = json.loads(raw)
        except ValueError:
            raise BadParameter("The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise BadParameter("The request body must be a JSON object.")
        return body


def vault_call(request: Request) -> VaultCall:
    """The :class:`VaultCall` the Key Vault app attached to this request."""
    return request.scope[SCOPE_KEY]


def json_response(body: dict[str, Any], status_code: int = 200) -> Response:
    return Response(json.dumps(body, separators=(",", ":")), status_code=status_code,
                    media_type=JSON_UTF8)


def empty_response(status_code: int = 204) -> Response:
    return Response(b"", status_code=status_code)
