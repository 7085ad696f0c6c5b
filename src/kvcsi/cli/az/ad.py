"""``az ad``: ``sp create-for-rbac`` and ``app federated-credential create|list|delete``.

Upstream counterpart: ``az ad`` over Microsoft Graph. ``create-for-rbac`` registers an
application, creates its service principal, adds a client secret and, with ``--role`` and
``--scopes``, assigns the role at each scope; it prints ``{appId, displayName, password,
tenant}`` and az's warning that the output holds a credential. Applications are given by
appId or object id (``--id``), resolved as az does.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kvcsi.cli.az.roles import resolve_role
from kvcsi.cli.session import ARM_API_VERSIONS, AzError, Session

CREDENTIAL_WARNING = (
    "WARNING: The output includes credentials that you must protect. Be sure that you do not "
    "include these credentials in your code or check the credentials into your source "
    "control. For more information, see https://aka.ms/azadsp-cli\n")


def _graph(session: Session, method: str, path: str, body: Any = None,
           params: dict[str, str] | None = None) -> Any:
    return session.graph.call(method, f"/v1.0{path}", body=body, params=params)


def sp_create_for_rbac(session: Session, args: argparse.Namespace) -> Any:
    if bool(args.role) != bool(args.scopes):
        raise AzError("", "usage error: To create role assignments, specify both --role and "
                          "--scopes.")
    name = args.display_name or "azure-cli-" + datetime.now(UTC).strftime("%Y-%m-%d-%H-%M-%S")
    application = _graph(session, "POST", "/applications", {"displayName": name})
    _graph(session, "POST", "/servicePrincipals", {"appId": application["appId"]})
    end = datetime.now(UTC) + timedelta(days=365 * args.years)
    password = _graph(session, "POST", f"/applications/{application['id']}/addPassword",
                      {"passwordCredential": {"displayName": "rbac",
                                              "endDateTime": end.strftime(
                                                  "%Y-%m-%dT%H:%M:%SZ")}})
    if args.role:
        principal = _graph(session, "GET", "/servicePrincipals",
                           params={"$filter": f"appId eq '{application['appId']}'"})["value"][0]
        api = ARM_API_VERSIONS["Microsoft.Authorization"]
        for scope in args.scopes:
            role = resolve_role(session, args.role, scope.rstrip("/"))
            session.arm_call(
                "PUT", f"{scope.rstrip('/')}/providers/Microsoft.Authorization/"
                       f"roleAssignments/{uuid.uuid4()}", api,
                {"properties": {"roleDefinitionId": role["id"],
                                "principalId": principal["id"],
                                "principalType": "ServicePrincipal"}})
    sys.stderr.write(CREDENTIAL_WARNING)
    return {"appId": application["appId"], "displayName": name,
            "password": password["secretText"], "tenant": session.tenant_id}


def resolve_application(session: Session, identifier: str) -> dict[str, Any]:
    """By appId first, then by object id, as az's ``_resolve_application``."""
    found = _graph(session, "GET", "/applications",
                   params={"$filter": f"appId eq '{identifier}'"}).get("value", [])
    if found:
        return dict(found[0])
    return dict(_graph(session, "GET", f"/applications/{identifier}"))


def _parameters(text: str) -> dict[str, Any]:
    if text.startswith("@"):
        text = Path(text[1:]).read_text()
    elif not text.lstrip().startswith("{") and Path(text).is_file():
        text = Path(text).read_text()
    try:
        parameters = json.loads(text)
    except ValueError as error:
        raise AzError("", f"argument --parameters: invalid JSON: {error}", exit_code=2) from None
    return dict(parameters)


def app_credential_create(session: Session, args: argparse.Namespace) -> Any:
    application = resolve_application(session, args.id)
    return _graph(session, "POST",
                  f"/applications/{application['id']}/federatedIdentityCredentials",
                  _parameters(args.parameters))


def app_credential_list(session: Session, args: argparse.Namespace) -> Any:
    application = resolve_application(session, args.id)
    return _graph(session, "GET",
                  f"/applications/{application['id']}/federatedIdentityCredentials"
                  ).get("value", [])


def app_credential_delete(session: Session, args: argparse.Namespace) -> Any:
    application = resolve_application(session, args.id)
    _graph(session, "DELETE", f"/applications/{application['id']}/"
                              f"federatedIdentityCredentials/{args.federated_credential_id}")
    return None


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    ad = commands.add_parser("ad", help="Microsoft Entra ID").add_subparsers(
        dest="verb", required=True)
    sp = ad.add_parser("sp", help="service principals").add_subparsers(
        dest="sp_verb", required=True)
    create = sp.add_parser("create-for-rbac", parents=[common])
    create.add_argument("--display-name", "--name", "-n", dest="display_name")
    create.add_argument("--role")
    create.add_argument("--scopes", nargs="+")
    create.add_argument("--years", type=int, default=1)
    create.set_defaults(handler=sp_create_for_rbac)

    app = ad.add_parser("app", help="applications").add_subparsers(
        dest="app_verb", required=True)
    federated = app.add_parser("federated-credential").add_subparsers(
        dest="credential_verb", required=True)
    for verb, handler in (("create", app_credential_create), ("list", app_credential_list),
                          ("delete", app_credential_delete)):
        parser = federated.add_parser(verb, parents=[common])
        parser.add_argument("--id", required=True)
        parser.set_defaults(handler=handler)
        if verb == "create":
            parser.add_argument("--parameters", required=True)
        if verb == "delete":
            parser.add_argument("--federated-credential-id", required=True)
