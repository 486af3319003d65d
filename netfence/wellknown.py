"""Names every Kubernetes cluster shares by convention, kept apart so that the engine can use
them without importing the inventory layer (and its start-up cost)."""

from __future__ import annotations

#: Where cluster DNS runs, and how its pods are labelled (kube-dns and CoreDNS alike).
DEFAULT_DNS_NAMESPACE = "kube-system"
DEFAULT_DNS_LABELS = {"k8s-app": "kube-dns"}
#: The container ports of the DNS pods, as CoreDNS's Deployment names them: a policy may name them.
DNS_PORTS = (
    {"name": "dns", "containerPort": 53, "protocol": "UDP"},
    {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
    {"name": "metrics", "containerPort": 9153, "protocol": "TCP"},
)
