"""``kvcsi az``: the Azure CLI commands of the seed walkthrough, against the local cloud.

Each module owns one command group and translates arguments into ARM, Graph or Key Vault
calls made the way az makes them; output goes through :mod:`kvcsi.cli.output`.
"""
