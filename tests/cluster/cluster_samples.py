"""Sample Kubernetes objects for the cluster tests."""

from __future__ import annotations


def pod(name: str = "mypod", namespace: str | None = None, image: str = "nginx") -> dict:
    metadata: dict = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": {"containers": [{"name": "mycontainer", "image": image}]},
    }


SEED_POD_AND_SPC = """\
apiVersion: v1
kind: Pod
metadata:
  name: mypod
spec:
  containers:
  - name: mycontainer
    image: nginx
    volumeMounts:
    - name: secrets-store01-inline
      mountPath: "/mnt/secrets"
      readOnly: true
  volumes:
  - name: secrets-store01-inline
    csi:
      driver: secrets-store.csi.k8s.io
      readOnly: true
      volumeAttributes:
        secretProviderClass: "azure-kvname"
---
apiVersion: secrets-store.csi.k8s.io/v1alpha1
kind: SecretProviderClass
metadata:
  name: azure-kvname
spec:
  provider: azure
  parameters:
    usePodIdentity: "false"
    useVMManagedIdentity: "true"
    userAssignedIdentityID: ""
    keyvaultName: "MyKeyVault"
    cloudName: ""
    objects: |
      array:
        - |
          objectName: MySecret
          objectType: secret        # object types: secret, key, or cert
    tenantId: "<azure-tenant-id>"
"""

DRIVER_URL = (
    "https://raw.githubusercontent.com/Azure/secrets-store-csi-driver-provider-azure/master/"
    "deploy/secrets-store-csi-driver.yaml"
)
PROVIDER_URL = (
    "https://raw.githubusercontent.com/Azure/secrets-store-csi-driver-provider-azure/master/"
    "deploy/provider-azure-installer.yaml"
)


def spc(api_version: str = "secrets-store.csi.x-k8s.io/v1", name: str = "azure-kvname") -> dict:
    return {
        "apiVersion": api_version,
        "kind": "SecretProviderClass",
        "metadata": {"name": name},
        "spec": {"provider": "azure", "parameters": {"keyvaultName": "MyKeyVault"}},
    }
