"""Identity services of the local cloud: the Entra-like token endpoint with OIDC discovery and
JWKS (``entra``), IMDS per VM (``imds``), and the tokens both issue (``tokens``).
"""
