"""Azure Key Vault provider for the Secrets Store CSI driver (``v1alpha1.CSIDriverProvider``).

Upstream counterpart: ``Azure/secrets-store-csi-driver-provider-azure``. Modules:

- :mod:`~kvcsi.provider.params`, :mod:`~kvcsi.provider.objects` — parameters and ``objects``
- :mod:`~kvcsi.provider.param_warnings`, :mod:`~kvcsi.provider.suggestions` — warnings for
  keys that have no effect, with the nearest known key
- :mod:`~kvcsi.provider.clouds` — cloud environments, vault URL
- :mod:`~kvcsi.provider.auth`, :mod:`~kvcsi.provider.credentials` — identity, azure-identity,
  token cache per identity
- :mod:`~kvcsi.provider.keyvault`, :mod:`~kvcsi.provider.http_session` — the SDK clients per
  (vault, identity) and their connection pool
- :mod:`~kvcsi.provider.azure_errors`, :mod:`~kvcsi.provider.authority_errors` — error texts
- :mod:`~kvcsi.provider.fetch`, :mod:`~kvcsi.provider.formats`, :mod:`~kvcsi.provider.chain`,
  :mod:`~kvcsi.provider.content_encoding` — one object to its files
- :mod:`~kvcsi.provider.mount` — the core (no gRPC), objects fetched concurrently
- :mod:`~kvcsi.provider.server`, :mod:`~kvcsi.provider.healthz`, :mod:`~kvcsi.provider.metrics`,
  :mod:`~kvcsi.provider.endpoint`, :mod:`~kvcsi.provider.logs`, :mod:`~kvcsi.provider.main` —
  the process

It never imports :mod:`kvcsi.driver` or :mod:`kvcsi.cloud`: the driver reaches it over gRPC and
it reaches Azure (or kvcsi's local cloud) over HTTPS only.
"""
