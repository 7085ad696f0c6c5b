"""HTTP front of the local AKS identity endpoints, mounted on the Entra host.

``GET /oidc/{tenant}/{uid}/.well-known/openid-configuration`` and
``GET /oidc/{tenant}/{uid}/openid/v1/jwks`` (the cluster's issuer, 404 unless the cluster
exists with its OIDC issuer enabled) and
``POST /hcp/{uid}/api/v1/namespaces/{ns}/serviceaccounts/{sa}/token`` (TokenRequest; bearer
= an Entra token for the AKS server application whose ``xms_mirid`` is the cluster's kubelet
identity). Errors of the API server path are Kubernetes ``Status`` bodies.
"""

from __future__ import annotations

import json
import logging

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from kvcsi.cloud.aks_oidc import token_requests
from kvcsi.cloud.aks_oidc.cluster_urls import discovery_document
from kvcsi.cloud.aks_oidc.signing_keys import ClusterSigner, signer_for_uid
from kvcsi.cloud.aks_oidc.token_requests import KubeStatusError
from kvcsi.cloud.context import CloudContext

log = logging.getLogger(__name__)


def _not_found() -> Response:
    return PlainTextResponse("404 page not found\n", status_code=404)


def _status(error: KubeStatusError) -> Response:
    return JSONResponse(error.body(), status_code=error.code)


async def _issuer_signer(ctx: CloudContext, request: Request) -> ClusterSigner | None:
    signer = await run_in_threadpool(signer_for_uid, ctx.store, request.path_params["uid"])
    if signer is None or signer.issuer is None:
        return None
    if f"/{request.path_params['tenant']}/".lower() not in signer.issuer.lower():
        return None
    return signer


def aks_oidc_app(ctx: CloudContext) -> Starlette:
    async def discovery(request: Request) -> Response:
        signer = await _issuer_signer(ctx, request)
        if signer is None or signer.issuer is None:
            return _not_found()
        return JSONResponse(discovery_document(signer.issuer))

    async def jwks(request: Request) -> Response:
        signer = await _issuer_signer(ctx, request)
        if signer is None:
            return _not_found()
        return JSONResponse(signer.jwks())

    async def token_request(request: Request) -> Response:
        namespace = request.path_params["namespace"]
        name = request.path_params["name"]
        try:
            signer = await run_in_threadpool(signer_for_uid, ctx.store,
                                             request.path_params["uid"])
            if signer is None:
                return _not_found()
            header = request.headers.get("authorization", "")
            if not header.lower().startswith("bearer "):
                raise token_requests.unauthorized()
            try:
                claims = await run_in_threadpool(ctx.issuer.validate, header[7:].strip(),
                                                 [token_requests.AKS_SERVER_APP_ID])
            except Exception as failure:  # noqa: BLE001 - any invalid token is a 401
                log.info("TokenRequest bearer rejected: %s", type(failure).__name__)
                raise token_requests.unauthorized() from None
            if not token_requests.is_kubelet(signer, claims):
                raise token_requests.forbidden(str(claims.get("oid", "")), namespace, name)
            try:
                body = json.loads(await request.body() or b"{}")
            except ValueError:
                raise KubeStatusError(400, "BadRequest",
                                      "the body of the request was in an unknown format"
                                      ) from None
            if not isinstance(body, dict):
                raise KubeStatusError(400, "BadRequest",
                                      "the body of the request was in an unknown format")
            answer = token_requests.create_token(signer, namespace, name, body)
        except KubeStatusError as error:
            return _status(error)
        return JSONResponse(answer, status_code=201)

    return Starlette(routes=[
        Route("/oidc/{tenant}/{uid}/.well-known/openid-configuration", discovery,
              methods=["GET"]),
        Route("/oidc/{tenant}/{uid}/openid/v1/jwks", jwks, methods=["GET"]),
        Route("/hcp/{uid}/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
              token_request, methods=["POST"]),
    ])
