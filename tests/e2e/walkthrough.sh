#!/usr/bin/env bash
# The walkthrough, command for command (kvcsi on PATH, KVCSI_HOME set by the caller).
set -euo pipefail
POD_YAML=$1
kvcsi up -d
kvcsi az group create --name MyResourceGroup --location eastus
kvcsi az aks create --resource-group MyResourceGroup --name MyAKSCluster
kvcsi az keyvault create --name MyKeyVault --resource-group MyResourceGroup --location eastus
kvcsi az keyvault secret set --vault-name MyKeyVault --name MySecret --value "SuperSecretValue"
AKS_IDENTITY=$(kvcsi az aks show --resource-group MyResourceGroup --name MyAKSCluster --query "identityProfile.kubeletidentity.clientId" -o tsv)
SUB=$(kvcsi az account show --query id -o tsv)
kvcsi az role assignment create --role "Key Vault Secrets User" --assignee $AKS_IDENTITY --scope /subscriptions/$SUB/resourceGroups/MyResourceGroup/providers/Microsoft.KeyVault/vaults/MyKeyVault
kvcsi kubectl apply -f https://raw.githubusercontent.com/Azure/secrets-store-csi-driver-provider-azure/master/deploy/secrets-store-csi-driver.yaml
kvcsi kubectl apply -f https://raw.githubusercontent.com/Azure/secrets-store-csi-driver-provider-azure/master/deploy/provider-azure-installer.yaml
TENANT=$(kvcsi az account show --query tenantId -o tsv)
sed "s/<azure-tenant-id>/$TENANT/" "$POD_YAML" > "$KVCSI_HOME/pod.yaml"
kvcsi kubectl apply -f "$KVCSI_HOME/pod.yaml"
kvcsi kubectl wait --for=condition=Ready pod/mypod --timeout=60s
echo "MOUNTED=$(kvcsi kubectl exec mypod -- cat /mnt/secrets/MySecret)"
kvcsi kubectl exec mypod -- stat -L -c '%a %s' /mnt/secrets/MySecret
kvcsi kubectl exec mypod -- stat -f -c '%T' /mnt/secrets
kvcsi down
