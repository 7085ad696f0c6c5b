"""The local AKS control plane's identity side: the cluster OIDC issuer and TokenRequest.

Upstream counterparts: an AKS cluster created with ``--enable-oidc-issuer`` publishes its
service-account issuer (``https://{region}.oic.prod-aks.azure.com/{tenant}/{uid}/``) with
``/.well-known/openid-configuration`` and ``/openid/v1/jwks``; its API server mints
service-account tokens (``POST /api/v1/namespaces/{ns}/serviceaccounts/{sa}/token``) that
kubelet requests for CSI drivers with ``tokenRequests``. Locally both are served by the
cloud on the Entra host (see ``docs/design/local-wiring.md`` §3.6).
"""
