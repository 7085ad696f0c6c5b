"""``kvcsi kubectl``: the kubectl commands of the walkthrough, against the local cluster."""
