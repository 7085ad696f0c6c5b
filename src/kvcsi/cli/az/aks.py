"""``az aks``: managed clusters, whose VMSS instances become local nodes.

Upstream counterpart: ``az aks create|show|list|delete|enable-addons|disable-addons|
get-credentials`` and ``az aks nodepool scale`` (the managed cluster and agent pool models
flatten ``properties``). Whenever the set of VMSS instances may change (create, scale, delete)
``clusters/<name>/cluster.json`` is rewritten so the node runtime starts or stops nodes.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from kvcsi.cli import clusters
from kvcsi.cli.az.groups import get_group
from kvcsi.cli.az.ids import flatten, provider_id
from kvcsi.cli.session import ARM_API_VERSIONS, AzError, Session

_AKS_API = ARM_API_VERSIONS["Microsoft.ContainerService"]
_AKS_TYPE = "Microsoft.ContainerService/managedClusters"
ADDONS = {"azure-keyvault-secrets-provider": "azureKeyvaultSecretsProvider"}
_POOL_RENAMES = {"type": "typePropertiesType"}


def _cluster_id(session: Session, resource_group: str, name: str) -> str:
    return provider_id(session.subscription_id, resource_group, _AKS_TYPE, name)


def _addon_profiles(names: str, enabled: bool,
                    args: argparse.Namespace | None = None) -> dict[str, Any]:
    profiles: dict[str, Any] = {}
    for name in [n.strip() for n in names.split(",") if n.strip()]:
        if name not in ADDONS:
            raise AzError("", f'The addon "{name}" is not a recognized addon option. '
                              f"Possible options: {', '.join(ADDONS)}", exit_code=2)
        config: dict[str, str] | None = None
        if enabled and args is not None:
            config = {"enableSecretRotation": str(bool(args.enable_secret_rotation)).lower(),
                      "rotationPollInterval": args.rotation_poll_interval or "2m"}
        profiles[ADDONS[name]] = {"enabled": enabled, "config": config}
    return profiles


def aks_create(session: Session, args: argparse.Namespace) -> Any:
    location = args.location or get_group(session, args.resource_group)["location"]
    properties: dict[str, Any] = {
        "dnsPrefix": args.dns_name_prefix or
        f"{args.name[:10]}-{args.resource_group[:16]}-{session.subscription_id[:6]}",
        "agentPoolProfiles": [{
            "name": args.nodepool_name, "count": args.node_count,
            "vmSize": args.node_vm_size, "mode": "System", "osType": "Linux",
            "type": "VirtualMachineScaleSets",
        }],
    }
    if args.enable_addons:
        properties["addonProfiles"] = _addon_profiles(args.enable_addons, True, args)
    if args.enable_oidc_issuer:
        properties["oidcIssuerProfile"] = {"enabled": True}
    if args.enable_workload_identity:
        properties["securityProfile"] = {"workloadIdentity": {"enabled": True}}
    body = {"location": location, "identity": {"type": "SystemAssigned"},
            "properties": properties}
    cluster = session.arm_call("PUT", _cluster_id(session, args.resource_group, args.name),
                               _AKS_API, body)
    clusters.register(session, cluster)
    session.home.set_current_cluster(cluster["name"])
    return flatten(cluster)


def _get(session: Session, resource_group: str, name: str) -> dict[str, Any]:
    return session.arm_call("GET", _cluster_id(session, resource_group, name), _AKS_API)


def aks_show(session: Session, args: argparse.Namespace) -> Any:
    return flatten(_get(session, args.resource_group, args.name))


def aks_list(session: Session, args: argparse.Namespace) -> Any:
    scope = f"/subscriptions/{session.subscription_id}"
    if args.resource_group:
        scope += f"/resourceGroups/{args.resource_group}"
    page = session.arm_call("GET", f"{scope}/providers/{_AKS_TYPE}", _AKS_API)
    return [flatten(cluster) for cluster in page.get("value", [])]


def aks_delete(session: Session, args: argparse.Namespace) -> Any:
    from kvcsi.cli.az.confirm import confirm

    confirm(args.yes)
    session.arm_call("DELETE", _cluster_id(session, args.resource_group, args.name), _AKS_API)
    clusters.unregister(session.home, args.name)
    return None


def _set_addons(session: Session, args: argparse.Namespace, enabled: bool) -> Any:
    cluster = _get(session, args.resource_group, args.name)
    requested = _addon_profiles(args.addons, enabled, args if enabled else None)
    current = cluster["properties"].get("addonProfiles") or {}
    if enabled:
        for addon, key in ADDONS.items():
            if key in requested and (current.get(key) or {}).get("enabled"):
                raise AzError("", f"The {addon} addon is already enabled for this managed "
                                  f"cluster.\nTo change {addon} configuration, run `az aks "
                                  f"disable-addons -a {addon}`before enabling it again.")
    body = {"location": cluster["location"], "identity": cluster.get("identity"),
            "properties": {"addonProfiles": requested}}
    updated = session.arm_call("PUT", cluster["id"], _AKS_API, body)
    return flatten(updated)


def aks_enable_addons(session: Session, args: argparse.Namespace) -> Any:
    return _set_addons(session, args, True)


def aks_disable_addons(session: Session, args: argparse.Namespace) -> Any:
    _set_addons(session, args, False)
    return None


def nodepool_scale(session: Session, args: argparse.Namespace) -> Any:
    cluster = _get(session, args.resource_group, args.cluster_name)
    pool_path = f"{cluster['id']}/agentPools/{args.name}"
    pool = session.arm_call("GET", pool_path, _AKS_API)
    if pool["properties"].get("enableAutoScaling"):
        raise AzError("", "Cannot scale cluster autoscaler enabled node pool.")
    properties = {**pool["properties"], "count": args.node_count}
    scaled = session.arm_call("PUT", pool_path, _AKS_API, {"properties": properties})
    clusters.register(session, _get(session, args.resource_group, args.cluster_name))
    return flatten(scaled, _POOL_RENAMES)


def nodepool_list(session: Session, args: argparse.Namespace) -> Any:
    cluster = _get(session, args.resource_group, args.cluster_name)
    pools = session.arm_call("GET", f"{cluster['id']}/agentPools", _AKS_API)
    return [flatten(pool, _POOL_RENAMES) for pool in pools.get("value", [])]


def aks_get_credentials(session: Session, args: argparse.Namespace) -> Any:
    cluster = _get(session, args.resource_group, args.name)
    name = cluster["name"]
    if name not in clusters.registered(session.home):
        clusters.register(session, cluster)
    session.home.set_current_cluster(name)
    sys.stderr.write(
        f'Merged "{name}" as current context in {session.home.current_cluster_file}\n'
        "(kvcsi writes no kubeconfig: `kvcsi kubectl` now talks to this local cluster)\n")
    return None


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    aks = commands.add_parser("aks", help="managed clusters").add_subparsers(
        dest="verb", required=True)

    def cluster_parser(verb: str, handler: Any) -> argparse.ArgumentParser:
        parser = aks.add_parser(verb, parents=[common])
        parser.add_argument("--resource-group", "-g", required=True)
        parser.add_argument("--name", "-n", required=True)
        parser.set_defaults(handler=handler)
        return parser

    create = cluster_parser("create", aks_create)
    create.add_argument("--location", "-l")
    create.add_argument("--node-count", "-c", type=int, default=3)
    create.add_argument("--nodepool-name", default="nodepool1")
    create.add_argument("--node-vm-size", "-s", default="Standard_DS2_v2")
    create.add_argument("--dns-name-prefix", "-p")
    create.add_argument("--enable-addons", "-a")
    create.add_argument("--enable-secret-rotation", action="store_true")
    create.add_argument("--rotation-poll-interval")
    create.add_argument("--enable-oidc-issuer", action="store_true")
    create.add_argument("--enable-workload-identity", action="store_true")
    for flag in ("--generate-ssh-keys", "--enable-managed-identity", "--no-ssh-key",
                 "--no-wait"):
        create.add_argument(flag, action="store_true", help="accepted for compatibility")
    cluster_parser("show", aks_show)
    delete = cluster_parser("delete", aks_delete)
    delete.add_argument("--yes", "-y", action="store_true")
    delete.add_argument("--no-wait", action="store_true")
    for verb, handler in (("enable-addons", aks_enable_addons),
                          ("disable-addons", aks_disable_addons)):
        parser = cluster_parser(verb, handler)
        parser.add_argument("--addons", "-a", required=True)
        parser.add_argument("--no-wait", action="store_true")
        if verb == "enable-addons":
            parser.add_argument("--enable-secret-rotation", action="store_true")
            parser.add_argument("--rotation-poll-interval")
    credentials = cluster_parser("get-credentials", aks_get_credentials)
    credentials.add_argument("--overwrite-existing", action="store_true")
    credentials.add_argument("--admin", action="store_true")
    credentials.add_argument("--file", "-f")
    listing = aks.add_parser("list", parents=[common])
    listing.add_argument("--resource-group", "-g")
    listing.set_defaults(handler=aks_list)

    nodepool = aks.add_parser("nodepool", help="node pools").add_subparsers(
        dest="nodepool_verb", required=True)
    scale = nodepool.add_parser("scale", parents=[common])
    scale.add_argument("--resource-group", "-g", required=True)
    scale.add_argument("--cluster-name", required=True)
    scale.add_argument("--name", "-n", required=True)
    scale.add_argument("--node-count", "-c", type=int, required=True)
    scale.add_argument("--no-wait", action="store_true")
    scale.set_defaults(handler=nodepool_scale)
    pools = nodepool.add_parser("list", parents=[common])
    pools.add_argument("--resource-group", "-g", required=True)
    pools.add_argument("--cluster-name", required=True)
    pools.set_defaults(handler=nodepool_list)
