"""Probing a live cluster: which source pods really reach which targets.

The package splits the job so each piece is testable without a cluster:
:mod:`.records` (the evidence schema), :mod:`.command` (the in-pod command and how its exit
status is read — pure), :mod:`.plan` (probes and probe pods from the inventory and the
engine's predicted matrix — pure), :mod:`.runner` (concurrency, timeouts, retries over any
:class:`~.runner.Transport`) and :mod:`.transport_k8s` (the one module that talks to the API).
"""
