"""netfence: prove Kubernetes network isolation instead of assuming it.

The package holds netfence's pure logic (model, semantics engine, rendering, validation,
evidence and reports). Ansible plugins under ``plugins/`` are thin adapters over it, so every
rule can be unit-tested without Ansible or a cluster.
"""

__version__ = "0.1.0"
