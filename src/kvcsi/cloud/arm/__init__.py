"""The local management plane: Azure Resource Manager and the directory behind it.

Subscriptions, resource groups, key vaults, managed identities, AKS clusters with their scale
sets and VMs, role definitions and assignments (``rbac`` evaluates them for ARM and Key
Vault), service principals and the Graph lookups ``az`` makes. ``routes`` is the HTTP front;
every other module is plain and unit-tested. Contract: ``docs/design/local-wiring.md`` §3.
"""
