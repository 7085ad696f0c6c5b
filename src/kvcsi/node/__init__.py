"""The local kubelet: plays kubelet for every node of every locally registered AKS cluster.

Counterpart: kubelet (node registration, pod workers, the CSI volume plugin's
NodePublishVolume/NodeUnpublishVolume with kubelet's exact request, republish for rotation)
plus a tiny scheduler and a process-based container runtime. Talks to the driver only over
CSI gRPC and to the cluster only through :mod:`kvcsi.cluster`.

Modules: ``main`` (entry point), ``runtime`` (main loop), ``discovery`` (cluster.json),
``nodes`` (Node objects), ``plugins`` + ``supervisor`` (driver/provider processes),
``scheduler``, ``pod_worker`` (one pod's life), ``volumes`` + ``csi_client`` +
``registration`` (kubelet's CSI part), ``containers`` + ``container_init`` (processes in a
private mount namespace), ``pod_status``, ``events``, ``exec`` (CLI helpers), ``layout``.
"""
