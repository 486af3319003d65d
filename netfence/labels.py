"""The labels and annotations netfence puts on what it creates, and the ones Kubernetes sets.

Each is defined once here: rendering, probe planning, prediction and the ownership filter that
decides what teardown may delete all read these names, so "is this object netfence's?" means the
same thing everywhere. The roles take the same values as defaults (``*_managed_by``), which a user
may change for a whole run; docs/evidence.md and docs/inventory.md describe them.
"""

from __future__ import annotations

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "netfence"
MANAGED_BY = {MANAGED_BY_LABEL: MANAGED_BY_VALUE}
# The pod's workload name, on every workload pod (policies and probes may select it).
WORKLOAD_NAME_LABEL = "app.kubernetes.io/name"
# Which baseline profile rendered a NetworkPolicy.
PROFILE_LABEL = "netfence.io/profile"
# What a probe pod is for (source, rogue); rogue pods carry it as an annotation only, no labels.
ROLE_LABEL = "netfence.io/role"
# Which inventory created a namespace: teardown deletes only its own.
INSTANCE_ANNOTATION = "netfence.io/instance"
# On probe pods: the run, the probe round and the source they stand for.
RUN_ID_ANNOTATION = "netfence.io/run-id"
PHASE_ANNOTATION = "netfence.io/phase"
SOURCE_ANNOTATION = "netfence.io/source"
# Set by the API server on every namespace to its name (namespaceSelector matches it).
NS_NAME_LABEL = "kubernetes.io/metadata.name"
