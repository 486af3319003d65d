"""playbooks/blast_radius.yml then playbooks/report.yml on the same run folder, against the API double.

The double has no exec, so every blast-radius probe is an ``error`` record: this proves discovery,
the rogue pod's lifecycle, the evidence files, the report and the seal, not reachability - and that
such a run, which measured nothing, never passes the report gate."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from cluster_support import failure_messages, task_results
from netfence.evidence import runs as evidence

pytestmark = pytest.mark.playbook

SERVICES = [
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "my-api", "namespace": "dev"},
     "spec": {"ports": [{"port": 80, "targetPort": 3000, "protocol": "TCP"}]}},
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "kube-dns", "namespace": "kube-system"},
     "spec": {"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}},
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "kubernetes", "namespace": "default"},
     "spec": {"ports": [{"port": 443, "protocol": "TCP"}]}},
]


def test_blast_radius_then_report_and_seal(api, playbook, run_dir):
    for svc in SERVICES:
        api.put("services", svc)
    rc, out, err = playbook.run("blast_radius.yml", {"netfence_run_dir": str(run_dir), "blast_radius_namespaces": ["dev"]})
    assert rc == 0, failure_messages(out) or err
    [created] = api.writes("POST", "pods")
    assert created["namespace"] == "dev"
    # the rogue pod stands for an unlabelled pod: netfence's marks are annotations, not labels
    assert created["body"]["metadata"]["labels"] == {}
    assert created["body"]["metadata"]["annotations"]["netfence.io/role"] == "rogue"
    assert created["body"]["metadata"]["annotations"]["app.kubernetes.io/managed-by"] == "netfence"
    assert [c["name"] for c in api.writes("DELETE", "pods")] == [created["body"]["metadata"]["name"]]
    assert api.names("pods") == []
    # the terminal gets counts, not the files: nothing reached (the double has no exec), no prediction here
    [shown] = task_results(out, "Show what the rogue pod still reaches")
    assert shown["msg"][0] == "rogue pods (labels {}) in 1 namespace reached 0 of 5 targets"
    assert shown["msg"][1].startswith("predicted: no predicted/blast-radius.json")
    doc = json.loads((run_dir / "blast-radius.json").read_text())
    assert sorted(r["name"] for r in doc["records"]) == [
        "blast from dev to cluster-dns:53/UDP", "blast from dev to dev/my-api:80", "blast from dev to internet 1.1.1.1:443",
        "blast from dev to kube-system/kube-dns:53", "blast from dev to kubernetes-api:443"]

    # The kubernetes Service's EndpointSlice (none in the double): recorded as found, for the report;
    # this run folder holds no plan, so nothing is predicted for them
    assert json.loads((run_dir / "api-server.json").read_text()) == {
        "schema_version": 1, "service": "default/kubernetes", "endpoints": [], "predicted": []}

    # The report is written and the run sealed; but every probe errored and the before/after rounds
    # are missing: the gate fails, and JUnit shows the missing rounds as failures, not as 0 tests.
    rc, out, err = playbook.run("report.yml", {"netfence_run_dir": str(run_dir), "report_fail_on_disagreement": True})
    assert rc != 0
    messages = failure_messages(out)
    assert "every probe in blast-radius.json errored" in messages and "probes/before.json is missing" in messages
    report = (run_dir / "report.md").read_text()
    assert (run_dir / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert "report.html" in (run_dir / "SHA256SUMS").read_text()  # sealed with the rest
    assert "## Blast radius" in report and "phases without evidence: before, after" in report
    suites = {s.get("name"): s for s in ET.parse(run_dir / "junit.xml").getroot().findall("testsuite")}
    assert list(suites) == ["netfence.before", "netfence.after", "netfence.blast-radius"]
    assert suites["netfence.blast-radius"].get("errors") == "5"
    assert suites["netfence.before"].get("failures") == suites["netfence.after"].get("failures") == "1"
    assert evidence.state(run_dir) == "sealed" and evidence.verify(run_dir) == []

    # A sealed run is never written again: report.yml on it verifies and writes nothing ...
    sums = (run_dir / "SHA256SUMS").read_bytes()
    rc, out, err = playbook.run("report.yml", {"netfence_run_dir": str(run_dir)})
    assert rc == 0, failure_messages(out) or err
    assert (run_dir / "SHA256SUMS").read_bytes() == sums
    # ... and refuses it, naming the files, once it was tampered with; nothing re-seals over the edit
    (run_dir / "blast-radius.json").write_text((run_dir / "blast-radius.json").read_text().replace('"error"', '"blocked"'))
    (run_dir / "extra.md").write_text("added later\n")
    rc, out, err = playbook.run("report.yml", {"netfence_run_dir": str(run_dir)})
    assert rc != 0
    messages = failure_messages(out)
    assert "blast-radius.json: checksum mismatch" in messages and "extra.md: not in SHA256SUMS" in messages
    assert (run_dir / "SHA256SUMS").read_bytes() == sums
    # and no later stage writes into it
    rc, out, err = playbook.run("blast_radius.yml", {"netfence_run_dir": str(run_dir), "blast_radius_namespaces": ["dev"]})
    assert rc != 0 and "a sealed run is never written again" in failure_messages(out)


def test_a_rogue_pod_lands_in_every_inventory_namespace_by_default(api, playbook, run_dir):
    # Securing one namespace says nothing about the next: one rogue pod each, probed in one round.
    api.put("services", SERVICES[0])
    rc, out, err = playbook.run("blast_radius.yml", {"netfence_run_dir": str(run_dir),
                                                      "netfence_namespaces": [{"name": "prod"}, {"name": "dev"}]})
    assert rc == 0, failure_messages(out) or err
    assert sorted(c["namespace"] for c in api.writes("POST", "pods")) == ["dev", "prod"]
    assert api.names("pods") == []
    doc = json.loads((run_dir / "blast-radius.json").read_text())
    assert {r["source"]["namespace"] for r in doc["records"]} == {"dev", "prod"} and doc["pods"] == 2


def test_the_api_servers_real_endpoints_are_recorded_from_its_endpointslices(api, playbook, run_dir):
    api.put("endpointslices", {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
                               "metadata": {"namespace": "default", "name": "kubernetes",
                                            "labels": {"kubernetes.io/service-name": "kubernetes"}},
                               "endpoints": [{"addresses": ["172.18.0.3"]}, {"addresses": ["172.18.0.4"]}],
                               "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]})
    api.put("endpointslices", {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
                               "metadata": {"namespace": "default", "name": "other",
                                            "labels": {"kubernetes.io/service-name": "other"}},
                               "endpoints": [{"addresses": ["10.244.0.9"]}], "ports": [{"port": 8080}]})
    rc, out, err = playbook.run("blast_radius.yml", {"netfence_run_dir": str(run_dir), "blast_radius_namespaces": ["dev"]})
    assert rc == 0, failure_messages(out) or err
    recorded = json.loads((run_dir / "api-server.json").read_text())
    assert recorded["endpoints"] == ["172.18.0.3:6443", "172.18.0.4:6443"]
    assert "api-server.json" in (run_dir / "SHA256SUMS").read_text()


def test_rogue_namespaces_given_on_the_command_line_as_a_comma_separated_string(api, playbook, run_dir):
    rc, out, err = playbook.run("blast_radius.yml", {"netfence_run_dir": str(run_dir), "blast_radius_namespaces": "dev, prod, dev",
                                                      "netfence_namespaces": [{"name": "prod"}, {"name": "dev"}, {"name": "monitoring"}]})
    assert rc == 0, failure_messages(out) or err
    assert sorted(c["namespace"] for c in api.writes("POST", "pods")) == ["dev", "prod"]
    assert len(json.loads((run_dir / "blast-radius.json").read_text())["records"]) == 2 * 3  # api, dns, internet (no Services): each once per rogue pod


def test_the_former_single_namespace_variable_still_places_one_rogue_pod(api, playbook, run_dir):
    rc, out, err = playbook.run("blast_radius.yml", {"netfence_run_dir": str(run_dir), "blast_radius_namespace": "dev",
                                                      "netfence_namespaces": [{"name": "prod"}, {"name": "dev"}]})
    assert rc == 0, failure_messages(out) or err
    assert [c["namespace"] for c in api.writes("POST", "pods")] == ["dev"]


def test_an_unreadable_endpointslice_is_recorded_not_fatal(api, playbook, run_dir, monkeypatch):
    import apidouble

    monkeypatch.delitem(apidouble.GROUPS, "discovery.k8s.io/v1")  # as on a cluster that does not serve or allow it
    rc, out, err = playbook.run("blast_radius.yml", {"netfence_run_dir": str(run_dir), "blast_radius_namespaces": ["dev"]})
    assert rc == 0, failure_messages(out) or err
    recorded = json.loads((run_dir / "api-server.json").read_text())
    assert recorded["endpoints"] is None and recorded["error"]
    assert (run_dir / "blast-radius.json").is_file()


def test_an_identity_bound_only_in_some_namespaces_gets_their_services_and_the_evidence_says_so(api, playbook, run_dir):
    # Services in prod and kube-system too; the identity is bound only in dev and prod: the
    # cluster-wide list is 403, so each inventory/rogue namespace is listed alone, and the record
    # says which namespaces were read and which were refused (default, here).
    for svc in SERVICES:
        api.put("services", svc)
    api.put("services", {**SERVICES[0], "metadata": {"name": "my-api", "namespace": "prod"}})
    api.scoped_to = {"dev", "prod"}
    rc, out, err = playbook.run("blast_radius.yml", {"netfence_run_dir": str(run_dir),
                                                      "netfence_namespaces": [{"name": "dev"}, {"name": "prod"}]})
    assert rc == 0, failure_messages(out) or err
    doc = json.loads((run_dir / "blast-radius.json").read_text())
    read = doc["notes"]["services_read"]
    assert read["scope"] == "listed namespaces only" and read["namespaces"] == ["dev", "prod"]
    assert list(read["unread"]) == ["default"] and "forbidden" in read["unread"]["default"]
    assert "at the cluster scope" in read["cluster_wide_refusal"]
    targets = {r["target"]["ref"] for r in doc["records"] if r["target"]["kind"] == "service"}
    assert targets == {"dev/my-api", "prod/my-api"}  # kube-system's was not readable, so not claimed
    assert api.names("pods") == []
    # the EndpointSlices of default/kubernetes were forbidden too: recorded, not fatal
    assert json.loads((run_dir / "api-server.json").read_text())["endpoints"] is None


def test_with_cluster_wide_rights_every_namespace_is_read_and_no_note_hides_it(api, playbook, run_dir):
    for svc in SERVICES:
        api.put("services", svc)
    rc, out, err = playbook.run("blast_radius.yml", {"netfence_run_dir": str(run_dir), "blast_radius_namespaces": ["dev"]})
    assert rc == 0, failure_messages(out) or err
    read = json.loads((run_dir / "blast-radius.json").read_text())["notes"]["services_read"]
    assert read["scope"] == "all namespaces" and read["unread"] == {} and read["cluster_wide_refusal"] is None
