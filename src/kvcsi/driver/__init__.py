"""Secrets Store CSI driver (upstream: kubernetes-sigs/secrets-store-csi-driver, v1.6.0).

CSI Identity and Node services for kubelet, provider discovery and the ``v1alpha1`` Mount
call, tmpfs mounting, path validation, the atomic ``..data`` writer and the
SecretProviderClassPodStatus record. Entry point: :func:`kvcsi.driver.main.main`.
It never imports the provider or the cloud; it reaches providers only over gRPC.
"""
