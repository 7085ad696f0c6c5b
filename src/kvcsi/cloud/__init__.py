"""The local Azure: Entra-like token service and IMDS (``identity``), the management plane
with RBAC (``arm``), Key Vault (``keyvault``), one store (``store``), served by
``kvcsi-cloud`` (``main``). Other packages talk to it only over HTTP(S); see
``docs/design/local-wiring.md`` §3.
"""
