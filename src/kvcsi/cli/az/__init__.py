"""``kvcsi az``: the Azure CLI commands of the seed's world, against the local cloud.

Each module owns one command group and translates arguments into the ARM, Graph or Key Vault
calls az makes (data-plane commands through the official SDK clients over HTTPS with the
signed-in account's token); output goes through :mod:`kvcsi.cli.output`, errors and exit
codes through :mod:`kvcsi.cli.az.command`.

- ``groups``: ``group create|show|list|delete|exists``
- ``account``: ``account show|list|set``, ``account alias create`` (another subscription)
- ``aks``: ``aks create|show|list|delete|enable-addons|disable-addons|get-credentials``,
  ``aks nodepool scale|list``
- ``vmss``: ``vmss list|show``, ``vmss identity assign|remove|show``
- ``identity``: ``identity create|show|list|delete``,
  ``identity federated-credential create|show|list|delete``
- ``ad``: ``ad sp create-for-rbac``, ``ad app federated-credential create|list|delete``
- ``keyvault``: ``keyvault create|show|list|update|delete|purge|recover|list-deleted|
  set-policy|delete-policy``
- ``secrets``: ``keyvault secret set|show|list|list-versions|list-deleted|set-attributes|
  delete|recover|purge|download``
- ``keys``: ``keyvault key create|import|show|list|delete``
- ``certificates``: ``keyvault certificate create|import|show|list|download|
  get-default-policy``
- ``roles``: ``role assignment create|list|delete``, ``role definition list``
"""
