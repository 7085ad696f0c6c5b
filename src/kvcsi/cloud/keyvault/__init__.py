"""The local Key Vault data plane (secrets), routed by vault host name (``routes``)."""
