"""``az aks``: managed clusters, whose VMSS instances become local nodes."""

from __future__ import annotations

import argparse
from typing import Any

from kvcsi.cli import clusters
from kvcsi.cli.az.groups import get_group
from kvcsi.cli.az.ids import flatten, provider_id
from kvcsi.cli.session import ARM_API_VERSIONS, AzError, Session

_AKS_API = ARM_API_VERSIONS["Microsoft.ContainerService"]
_AKS_TYPE = "Microsoft.ContainerService/managedClusters"


def _cluster_id(session: Session, args: argparse.Namespace) -> str:
    return provider_id(session.subscription_id, args.resource_group, _AKS_TYPE, args.name)


def aks_create(session: Session, args: argparse.Namespace) -> Any:
    location = args.location or get_group(session, args.resource_group)["location"]
    body = {
        "location": location,
        "identity": {"type": "SystemAssigned"},
        "properties": {
            "dnsPrefix": f"{args.name[:10]}-{args.resource_group[:16]}",
            "agentPoolProfiles": [{
                "name": args.nodepool_name, "count": args.node_count,
                "vmSize": args.node_vm_size, "mode": "System", "osType": "Linux",
                "type": "VirtualMachineScaleSets",
            }],
        },
    }
    cluster = session.arm_call("PUT", _cluster_id(session, args), _AKS_API, body)
    clusters.register(session, cluster)
    session.home.set_current_cluster(cluster["name"])
    return flatten(cluster)


def aks_show(session: Session, args: argparse.Namespace) -> Any:
    return flatten(session.arm_call("GET", _cluster_id(session, args), _AKS_API))


def aks_list(session: Session, args: argparse.Namespace) -> Any:
    scope = f"/subscriptions/{session.subscription_id}"
    if args.resource_group:
        scope += f"/resourceGroups/{args.resource_group}"
    page = session.arm_call("GET", f"{scope}/providers/{_AKS_TYPE}", _AKS_API)
    return [flatten(cluster) for cluster in page.get("value", [])]


def aks_delete(session: Session, args: argparse.Namespace) -> Any:
    session.arm_call("DELETE", _cluster_id(session, args), _AKS_API)
    clusters.unregister(session.home, args.name)
    return None


def aks_get_credentials(session: Session, args: argparse.Namespace) -> Any:
    cluster = session.arm_call("GET", _cluster_id(session, args), _AKS_API)
    name = cluster["name"]
    if name not in clusters.registered(session.home):
        clusters.register(session, cluster)
    session.home.set_current_cluster(name)
    print(f'Merged "{name}" as current context in {session.home.current_cluster_file} '
          "(no kubeconfig is written: kvcsi kubectl now talks to this local cluster)")
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
    for flag in ("--generate-ssh-keys", "--enable-managed-identity", "--no-ssh-key"):
        create.add_argument(flag, action="store_true", help="accepted for compatibility")
    cluster_parser("show", aks_show)
    delete = cluster_parser("delete", aks_delete)
    delete.add_argument("--yes", "-y", action="store_true")
    credentials = cluster_parser("get-credentials", aks_get_credentials)
    credentials.add_argument("--overwrite-existing", action="store_true")
    credentials.add_argument("--admin", action="store_true")
    listing = aks.add_parser("list", parents=[common])
    listing.add_argument("--resource-group", "-g")
    listing.set_defaults(handler=aks_list)


__all__ = ["register", "AzError"]
