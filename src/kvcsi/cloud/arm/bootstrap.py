"""First-start state of the local cloud, made idempotently by :func:`ensure_defaults`.

One tenant and one subscription (``kvcsi-local``, Enabled) with stable random GUIDs, the
built-in role definitions under the subscription, and the local signed-in account of
``local-wiring.md`` §3.4: an application plus service principal ``kvcsi-local-user`` with a
client secret (stored only as a salted hash; the secret itself goes to
``$KVCSI_HOME/cloud/cli-credential.json``, mode 0600) holding Owner and Key Vault
Administrator at subscription scope.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kvcsi.cloud.arm import (
    app_secrets,
    directory,
    ids,
    role_assignments,
    role_definitions,
    roles,
    subscriptions,
)
from kvcsi.cloud.store import CloudStore

LOCAL_ACCOUNT_NAME = "kvcsi-local-user"
SUBSCRIPTION_NAME = "kvcsi-local"
TENANT_NAME = "kvcsi local directory"
TENANT_DOMAIN = "kvcsi.localhost"
CREDENTIAL_FILE = "cli-credential.json"


@dataclass(frozen=True)
class CloudDefaults:
    tenant_id: str
    subscription_id: str
    local_app_id: str
    local_object_id: str


def credential_path(store: CloudStore) -> Path:
    """``$KVCSI_HOME/cloud/cli-credential.json`` (the store lives in ``$KVCSI_HOME/cloud``)."""
    return store.path.parent.parent / "cloud" / CREDENTIAL_FILE


def defaults(store: CloudStore) -> CloudDefaults | None:
    """The default tenant, subscription and local account, once :func:`ensure_defaults` ran."""
    tenants = subscriptions.tenants(store)
    subs = subscriptions.all_subscriptions(store)
    account = directory.principal_by_name(store, LOCAL_ACCOUNT_NAME)
    if not tenants or not subs or account is None:
        return None
    return CloudDefaults(tenants[0]["tenantId"], subs[0]["subscriptionId"], account["appId"],
                         account["id"])


def ensure_defaults(store: CloudStore, endpoints: dict[str, Any] | None = None) -> None:
    """Create whatever of the first-start state is missing; never changes what exists.

    ``endpoints`` (the endpoints.json fields) is accepted for symmetry with the other
    initialisers; nothing here depends on ports.
    """
    tenant_id = _ensure_tenant(store)
    subscription_id = _ensure_subscription(store, tenant_id)
    role_definitions.store_built_in_roles(store, subscription_id)
    account = _ensure_local_account(store, tenant_id)
    scope = ids.subscription_id_of(subscription_id)
    for role in (roles.OWNER, roles.KEY_VAULT_ADMINISTRATOR):
        _ensure_assignment(store, scope, role, account["id"])


def _ensure_tenant(store: CloudStore) -> str:
    existing = subscriptions.tenants(store)
    if existing:
        return existing[0]["tenantId"]
    return subscriptions.create_tenant(store, str(uuid.uuid4()), TENANT_NAME,
                                       TENANT_DOMAIN)["tenantId"]


def _ensure_subscription(store: CloudStore, tenant_id: str) -> str:
    existing = subscriptions.all_subscriptions(store)
    if existing:
        return existing[0]["subscriptionId"]
    return subscriptions.create_subscription(store, str(uuid.uuid4()), tenant_id,
                                             SUBSCRIPTION_NAME)["subscriptionId"]


def _ensure_local_account(store: CloudStore, tenant_id: str) -> dict[str, Any]:
    principal = directory.principal_by_name(store, LOCAL_ACCOUNT_NAME)
    if principal is None:
        application = directory.create_application(store, display_name=LOCAL_ACCOUNT_NAME)
        principal = directory.create_service_principal(
            store, display_name=LOCAL_ACCOUNT_NAME, tenant_id=tenant_id,
            app_id=application["appId"])
    path = credential_path(store)
    if not path.exists() or store.get(app_secrets.APP_SECRET, principal["appId"]) is None:
        _, secret = app_secrets.add_client_secret(store, principal["appId"], replace=True)
        _write_credential(path, {"tenantId": tenant_id, "clientId": principal["appId"],
                                 "clientSecret": secret, "objectId": principal["id"]})
    return principal


def _write_credential(path: Path, credential: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(credential, handle, indent=2)
        handle.write("\n")
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def _ensure_assignment(store: CloudStore, scope: str, role: roles.BuiltInRole,
                       principal_id: str) -> None:
    for assignment in role_assignments.list_for_scope(store, scope, principal_id=principal_id,
                                                      at_scope=True):
        if role_definitions.parse_id(assignment["properties"]["roleDefinitionId"])[1] \
                == role.guid:
            return
    subscription_id = ids.subscription_of(scope) or ""
    role_assignments.create(
        store, scope, str(uuid.uuid4()),
        {"roleDefinitionId": roles.role_definition_id(subscription_id, role.guid),
         "principalId": principal_id, "principalType": "ServicePrincipal"})
