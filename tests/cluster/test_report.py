"""Report and JUnit XML built from recorded evidence (fixtures/run-lab, made by make_fixture.py)."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from netfence import junit, report
from netfence.cli import main

FIXTURE = Path(__file__).parent / "fixtures" / "run-lab"


@pytest.fixture
def run_copy(tmp_path) -> Path:
    return Path(shutil.copytree(FIXTURE, tmp_path / "run"))


def test_disagreements_carry_the_likely_cause():
    built = report.build(report.load_run(FIXTURE))
    by_name = {d["name"]: d for d in built["disagreements"]}
    assert set(by_name) == {"gateway-to-prod-api-allowed", "predicted dev/my-api -> prod/my-api TCP/3000",
                            "predicted monitoring/scraper -> dev/my-api TCP/80"}
    assert "DNS egress" in by_name["gateway-to-prod-api-allowed"]["cause"]
    assert "CNI may not enforce" in by_name["predicted dev/my-api -> prod/my-api TCP/3000"]["cause"]
    assert by_name["predicted dev/my-api -> prod/my-api TCP/3000"]["against"] == "predicted"
    assert "wrong port" in by_name["predicted monitoring/scraper -> dev/my-api TCP/80"]["cause"]


def test_matrices_show_before_after_and_prediction_per_port():
    built = report.build(report.load_run(FIXTURE))
    ports = [(m["protocol"], m["port"]) for m in built["matrices"]]
    assert ports == [("TCP", 80), ("TCP", 443), ("TCP", 3000)]
    m3000 = built["matrices"][2]
    assert m3000["cells"]["dev/my-api|prod/my-api"] == {"before": "allowed", "after": "allowed", "predicted": "blocked"}
    markdown = report.to_markdown(built)
    assert "| dev/my-api | · | Y→Y (N) |" in markdown
    assert "**3 disagreement(s)**" in markdown


def test_blast_radius_lists_per_rogue_pod_what_stays_reachable_next_to_its_namespace_prediction():
    dev, prod = report.build(report.load_run(FIXTURE))["blast"]
    assert (dev["source"], prod["source"]) == ("dev/rogue", "prod/rogue")
    assert dev["reachable"] == ["api:kubernetes:443", "dns:cluster-dns:53"]
    assert next(r for r in dev["rows"] if r["target"] == "api:kubernetes")["predicted"] == "allowed"
    assert [(r["target"], r["observed"], r["predicted"]) for r in dev["disagreements"]] == [("external:1.1.1.1", "blocked", "allowed")]
    assert next(r for r in dev["rows"] if r["target"] == "dns:cluster-dns")["predicted"] == "allowed"
    # prod's rows are looked up in prod's prediction, not dev's: its API access is predicted blocked
    assert prod["reachable"] == ["dns:cluster-dns:53", "prod/my-api:80"]
    assert next(r for r in prod["rows"] if r["target"] == "api:kubernetes")["predicted"] == "blocked"
    assert next(r for r in prod["rows"] if r["target"] == "prod/my-api")["predicted"] == "allowed"
    assert prod["disagreements"] == []


def test_markdown_has_a_blast_radius_section_per_rogue_pod():
    markdown = report.to_markdown(report.build(report.load_run(FIXTURE)))
    section = markdown.split("## Blast radius")[1].split("## Coverage")[0]
    assert section.count("A rogue pod `") == 2
    assert "A rogue pod `prod/rogue` still reaches: `dns:cluster-dns:53`, `prod/my-api:80`." in section


@pytest.mark.parametrize("endpoints, agrees", [(["172.18.0.2:6443"], True), (["172.18.0.3:6443"], False), ([], False)])
def test_the_assumed_api_server_endpoint_is_checked_against_the_cluster(run_copy, endpoints, agrees):
    # The fixture's prediction assumed 172.18.0.2:6443 (kind's usual first control-plane node).
    (run_copy / "api-server.json").write_text(json.dumps({"service": "default/kubernetes", "endpoints": endpoints}))
    built = report.build(report.load_run(run_copy))
    assert built["api_server"] == {"assumed": "172.18.0.2:6443", "observed": endpoints, "agrees": agrees, "by_namespace": {}}
    markdown = report.to_markdown(built)
    assert "The plan assumed `172.18.0.2:6443`" in markdown
    assert ("The plan's assumption was another address" in markdown) is not agrees
    if endpoints and not agrees:
        assert "Set `netfence_api_server_endpoint` to `172.18.0.3:6443`" in markdown


def test_the_api_server_rows_are_judged_against_the_prediction_for_the_real_endpoint(run_copy):
    # The plan assumed 172.18.0.2:6443 and predicted dev allowed, prod blocked; the fixture's rogue
    # pods observed the same. The cluster's Service really sends to 172.18.0.3:6443, where the
    # policies (say) allow prod and block dev: the report must judge the probes against that.
    (run_copy / "api-server.json").write_text(json.dumps({
        "service": "default/kubernetes", "endpoints": ["172.18.0.3:6443"],
        "predicted": [{"namespace": "dev", "endpoint": "172.18.0.3:6443", "allowed": False},
                      {"namespace": "prod", "endpoint": "172.18.0.3:6443", "allowed": True}]}))
    built = report.build(report.load_run(run_copy))
    rows = {b["source"].split("/")[0]: next(r for r in b["rows"] if r["target"] == "api:kubernetes") for b in built["blast"]}
    assert (rows["dev"]["predicted"], rows["prod"]["predicted"]) == ("blocked", "allowed")
    assert {b["source"].split("/")[0] for b in built["blast"] if any(r["target"] == "api:kubernetes" for r in b["disagreements"])} == {"dev", "prod"}


def test_endpoints_that_disagree_with_each_other_predict_nothing_for_the_api_row(run_copy):
    (run_copy / "api-server.json").write_text(json.dumps({
        "service": "default/kubernetes", "endpoints": ["172.18.0.3:6443", "172.18.0.4:6443"],
        "predicted": [{"namespace": "dev", "endpoint": "172.18.0.3:6443", "allowed": False},
                      {"namespace": "dev", "endpoint": "172.18.0.4:6443", "allowed": True}]}))
    built = report.build(report.load_run(run_copy))
    dev = next(b for b in built["blast"] if b["source"].startswith("dev/"))
    assert next(r for r in dev["rows"] if r["target"] == "api:kubernetes")["predicted"] is None


def test_unreadable_endpoints_leave_the_assumption_unchecked_and_say_so(run_copy):
    (run_copy / "api-server.json").write_text(json.dumps({"service": "default/kubernetes", "endpoints": None,
                                                          "error": "endpointslices is forbidden"}))
    built = report.build(report.load_run(run_copy))
    assert built["api_server"]["agrees"] is None
    assert "could not be read (endpointslices is forbidden), so that assumption is unchecked" in report.to_markdown(built)


def test_without_recorded_endpoints_the_report_makes_no_api_server_claim():
    built = report.build(report.load_run(FIXTURE))
    assert built["api_server"] is None and "The plan assumed" not in report.to_markdown(built)


def test_coverage_counts_pods_per_identity_and_unprobed_predictions():
    cov = report.build(report.load_run(FIXTURE))["coverage"]
    assert cov["probes"] == {"before": 7, "after": 7} and cov["probe_pods"] == {"before": 4, "after": 4}
    assert cov["predicted_rows"] == 4 and cov["predicted_unprobed"] == [] and cov["phases_missing"] == []


def test_junit_has_one_case_per_probe_and_phase_with_failures():
    loaded = report.load_run(FIXTURE)
    xml = junit.build({**loaded["phases"], "blast-radius": loaded["blast"]})
    root = ET.fromstring(xml)
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert list(suites) == ["netfence.before", "netfence.after", "netfence.blast-radius"]
    assert [len(s.findall("testcase")) for s in suites.values()] == [7, 7, 10]  # two rogue pods, five probes each
    after = suites["netfence.after"]
    assert after.get("failures") == "3" and after.get("errors") == "0"
    failed = {c.get("name"): c.find("failure") for c in after.findall("testcase") if c.find("failure") is not None}
    assert "DNS egress" in failed["gateway-to-prod-api-allowed"].get("message")
    assert suites["netfence.before"].get("failures") == "0"
    assert root.get("tests") == "24"


def test_cli_writes_report_and_junit_never_overwrites_and_gates(run_copy, capsys):
    assert main(["report", "--run-dir", str(run_copy), "--write"]) == 0
    assert (run_copy / "report.md").read_text().startswith("# netfence report: netfence-lab run 20261126T110500Z-abc123")
    ET.parse(run_copy / "junit.xml")
    assert main(["report", "--run-dir", str(run_copy), "--write"]) == 2
    assert "never overwritten" in capsys.readouterr().err
    assert main(["report", "--run-dir", str(run_copy), "--fail-on-disagreement"]) == 1


def test_cli_on_a_missing_or_broken_run_folder_is_a_clear_error(tmp_path, capsys):
    assert main(["report", "--run-dir", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "probes").mkdir()
    (tmp_path / "probes" / "after.json").write_text("{broken")
    assert main(["report", "--run-dir", str(tmp_path)]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_report_of_a_run_without_probes_says_what_is_missing(tmp_path):
    markdown = report.to_markdown(report.build(report.load_run(tmp_path)))
    assert "phases without evidence: before, after" in markdown and "Not run" in markdown


def _service_probe(outcome: str) -> dict:
    return {"name": "gateway-to-dev-api", "phase": "after", "origin": "inventory", "expected": None, "predicted": None,
            "outcome": outcome, "port": 80, "protocol": "TCP",
            "source": {"namespace": "gateway", "workload": "api-gateway", "labels": {"app": "api-gateway"}},
            "target": {"kind": "service", "ref": "dev/my-api", "host": "my-api.dev.svc.cluster.local"}}


def test_a_service_probe_is_compared_with_the_prediction_for_the_container_port():
    # predicted rows use the container port (3000); the probe hit the Service port (80)
    run = {"run_dir": "r", "run": {}, "phases": {"after": {"records": [_service_probe("allowed")]}},
           "predicted": {"rows": [{"from": "gateway/api-gateway", "to": "dev/my-api", "port": 3000, "protocol": "TCP",
                                   "allowed": False, "declared": True}]},
           "predicted_blast": {"namespaces": [{"namespace": "gateway", "workloads": [
               {"target": "dev/my-api", "service_port": 80, "port": 3000, "protocol": "TCP", "allowed": False}]}]},
           "blast": None}
    built = report.build(run)
    assert built["matrices"][0]["port"] == 80
    assert built["matrices"][0]["cells"]["gateway/api-gateway|dev/my-api"]["predicted"] == "blocked"
    assert [(d["observed"], d["against"], d["wanted"]) for d in built["disagreements"]] == [("allowed", "predicted", "blocked")]
    assert built["coverage"]["predicted_unprobed"] == []
