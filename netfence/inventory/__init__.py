"""The inventory side: the inventory reader, cluster variables, rendering, validation, the lab model, the mistake checks, the workload manifests, predictions and the one plan."""
