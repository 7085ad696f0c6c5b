"""Human text for ``kvcsi explain``: one answer of the cloud's explain endpoint, as lines.

The document rendered is the one ``POST /providers/kvcsi/explain`` returns
(``kvcsi.cloud.arm.explain_query``); ``-o json`` prints it as it is instead.
"""

from __future__ import annotations

from typing import Any


def _object_label(check: dict[str, Any]) -> str:
    obj = check.get("object")
    return f"{obj['type']} '{obj['name']}'" if obj else "the vault"


def _identity_label(identity: dict[str, Any]) -> str:
    role = f", {identity['role']}" if identity.get("role") else ""
    return (f"identity '{identity['displayName']}' (client id {identity['clientId']}, "
            f"object id {identity['objectId']}{role})")


def _grant_lines(grant: dict[str, Any]) -> list[str]:
    if grant["kind"] == "roleAssignment":
        return [f"granted by role '{grant['roleName']}' assigned at scope '{grant['scope']}'",
                f"role assignment: {grant['assignmentId']}"]
    return [f"granted by the vault's access policy for object id '{grant['objectId']}' "
            f"({', '.join(grant['permissions'])})"]


def check_lines(answer: dict[str, Any], check: dict[str, Any], indent: str = "  "
                ) -> list[str]:
    """The lines of one object's decision, with the grant or the nearest misses."""
    vault = answer["vault"]["name"]
    verdict = "ALLOWED" if check["allowed"] else "DENIED"
    lines = [f"{indent}{verdict}: {check['action']} on {_object_label(check)} in vault "
             f"'{vault}' ({check['dataAction']})"]
    if check["allowed"]:
        return lines + [f"{indent}  {line}" for line in _grant_lines(check["grantedBy"])]
    expected = check["expectedResponse"]
    lines.append(f"{indent}  Key Vault answers {expected['status']} {expected['code']} "
                 f"({expected['innerCode']}) for resource '{check['resource']}'")
    lines.append(f"{indent}  nearest miss{'es' if len(check['nearestMisses']) > 1 else ''}:")
    lines += [f"{indent}    - [{miss['kind']}] {miss['message']}"
              for miss in check["nearestMisses"]]
    return lines


def answer_lines(answer: dict[str, Any], indent: str = "") -> list[str]:
    """Every line of one explain answer (identity selection steps, then each object)."""
    lines = [f"{indent}{step}" for step in answer.get("steps", [])]
    if answer.get("identity") is None:
        error = answer.get("identityError") or {}
        lines.append(f"{indent}DENIED: no token: IMDS answers {error.get('status')} "
                     f"{error.get('error')}: {error.get('error_description')}")
        usable = [c for c in answer.get("vmIdentities", []) if c.get("wouldBeAllowed")]
        for candidate in usable:
            lines.append(f"{indent}  {candidate['name']} would be allowed: set "
                         f"userAssignedIdentityID to '{candidate['clientId']}'")
        return lines
    model = answer["vault"]["permissionModel"]
    lines.append(f"{indent}{_identity_label(answer['identity'])}; vault "
                 f"'{answer['vault']['name']}' uses "
                 f"{'Azure RBAC' if model == 'rbac' else 'access policies'}")
    for check in answer["checks"]:
        lines += check_lines(answer, check, indent + "  ")
    return lines
