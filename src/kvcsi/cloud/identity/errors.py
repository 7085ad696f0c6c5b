"""Entra's OAuth2 error responses (``{"error", "error_description", "error_codes", ...}``).

Each error names its AADSTS code and text as Entra words them; ``entra_error_response``
adds the ``Trace ID`` / ``Correlation ID`` / ``Timestamp`` trailer and fields Entra sends.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

from starlette.responses import JSONResponse


@dataclass
class EntraError(Exception):
    status: int
    error: str
    code: int
    text: str


def unknown_tenant(tenant: str) -> EntraError:
    return EntraError(400, "invalid_request", 90002,
                      f"AADSTS90002: Tenant '{tenant}' not found. Check to make sure you have "
                      "the correct tenant ID and are signing into the correct cloud. Check with "
                      "your subscription administrator, this may happen if there are no active "
                      "subscriptions for the tenant.")


def unknown_application(app_id: str, tenant: str) -> EntraError:
    return EntraError(400, "unauthorized_client", 700016,
                      f"AADSTS700016: Application with identifier '{app_id}' was not found in "
                      f"the directory '{tenant}'. This can happen if the application has not "
                      "been installed by the administrator of the tenant or consented to by any "
                      "user in the tenant. You may have sent your authentication request to the "
                      "wrong tenant.")


def invalid_client_secret(app_id: str) -> EntraError:
    return EntraError(401, "invalid_client", 7000215,
                      "AADSTS7000215: Invalid client secret provided. Ensure the secret being "
                      "sent in the request is the client secret value, not the client secret "
                      f"ID, for a secret added to app '{app_id}'.")


def unknown_resource(resource: str, tenant: str) -> EntraError:
    return EntraError(400, "invalid_resource", 500011,
                      f"AADSTS500011: The resource principal named {resource} was not found in "
                      f"the tenant named {tenant}. This can happen if the application has not "
                      "been installed by the administrator of the tenant or consented to by any "
                      "user in the tenant. You might have sent your authentication request to "
                      "the wrong tenant.")


def missing_parameter(name: str) -> EntraError:
    return EntraError(400, "invalid_request", 900144,
                      "AADSTS900144: The request body must contain the following parameter: "
                      f"'{name}'.")


def invalid_scope(scope: str) -> EntraError:
    return EntraError(400, "invalid_scope", 1002012,
                      f"AADSTS1002012: The provided value for scope {scope} is not valid. Client "
                      "credential flows must have a scope value with /.default suffixed to the "
                      "resource identifier (application ID URI).")


def unsupported_grant_type(grant_type: str) -> EntraError:
    return EntraError(400, "unsupported_grant_type", 70003,
                      f"AADSTS70003: The app requested an unsupported grant type '{grant_type}'.")


WORKLOAD_IDENTITY_DOCS = ("https://docs.microsoft.com/en-us/azure/active-directory/develop/"
                          "workload-identity-federation")


def no_federated_credential(issuer: str, subject: str, audience: str) -> EntraError:
    return EntraError(400, "invalid_request", 70021,
                      "AADSTS70021: No matching federated identity record found for presented "
                      f"assertion. Assertion Issuer: '{issuer}'. Assertion Subject: "
                      f"'{subject}'. Assertion Audience: '{audience}'. "
                      f"{WORKLOAD_IDENTITY_DOCS}")


def malformed_assertion() -> EntraError:
    return EntraError(400, "invalid_request", 50027,
                      "AADSTS50027: JWT token is invalid or malformed.")


def unsupported_assertion_type(assertion_type: str) -> EntraError:
    return EntraError(400, "invalid_request", 50027,
                      f"AADSTS50027: JWT token is invalid or malformed. The client assertion "
                      f"type '{assertion_type}' is not supported; use "
                      "'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.")


def assertion_time_range(now: str, not_before: str, expires: str) -> EntraError:
    return EntraError(401, "invalid_client", 700024,
                      "AADSTS700024: Client assertion is not within its valid time range. "
                      f"Current time: {now}, assertion valid from {not_before}, expiry time of "
                      f"assertion {expires}. Review the documentation at "
                      "https://learn.microsoft.com/entra/identity-platform/certificate-credentials"
                      " .")


def external_oidc_failed() -> EntraError:
    return EntraError(400, "invalid_request", 50166,
                      "AADSTS50166: Request to External OIDC endpoint failed.")


def assertion_signature_invalid() -> EntraError:
    return EntraError(401, "invalid_client", 700027,
                      "AADSTS700027: Client assertion failed signature validation.")


def entra_error_response(error: EntraError, correlation_id: str | None = None) -> JSONResponse:
    trace_id = str(uuid.uuid4())
    correlation_id = correlation_id or str(uuid.uuid4())
    timestamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    body = {
        "error": error.error,
        "error_description": f"{error.text} Trace ID: {trace_id} Correlation ID: "
                             f"{correlation_id} Timestamp: {timestamp}",
        "error_codes": [error.code],
        "timestamp": timestamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": f"https://login.microsoftonline.com/error?code={error.code}",
    }
    return JSONResponse(body, status_code=error.status,
                        headers={"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"})
