"""Report, JUnit XML and the report gate, from recorded evidence (fixtures/run-lab, made by
make_fixture.py from netfence.inventory.predict.predict() of the lab inventory and the real probe runner)."""

from __future__ import annotations

import json
import shutil
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from netfence.evidence import runs as evidence
from netfence.evidence import junit
from netfence.evidence import report
from netfence.evidence.predicted import matrix_rows
from netfence.cli import main
from netfence.errors import NetfenceError
from netfence.inventory.predict import file_texts

sys.path.insert(0, str(Path(__file__).parent))
import make_fixture  # noqa: E402

FIXTURE = Path(__file__).parent / "fixtures" / "run-lab"


@pytest.fixture
def run_copy(tmp_path) -> Path:
    return Path(shutil.copytree(FIXTURE, tmp_path / "run"))


def _sealed(run: Path, edit=None) -> Path:
    """The run as the report stage leaves it, after ``edit`` changed its evidence the way a stage would."""
    if edit:
        edit(run)
        evidence.seal(run)
    assert main(["report", "--run-dir", str(run), "--write", "--expect", "before,after,blast-radius"]) == 0
    return run


def _rewrite(run: Path, rel: str, change) -> None:
    doc = json.loads((run / rel).read_text())
    change(doc)
    (run / rel).write_text(json.dumps(doc))


def _agreeing(doc: dict, names: set[str]) -> None:
    doc["records"] = [r for r in doc["records"] if r["name"] not in names]


def test_the_fixtures_predictions_are_the_engines_for_the_lab_inventory():
    # no hand-written prediction: the report is tested on what netfence.inventory.predict really produces
    _, prediction = make_fixture.lab_prediction()
    for rel, text in file_texts(prediction).items():
        assert (FIXTURE / rel).read_text() == text, rel
    rows = list(matrix_rows(json.loads((FIXTURE / "predicted" / "matrix.json").read_text())))
    assert rows
    assert not [r for r in rows if r["port"] == 80]  # policies see container ports, never the Service port
    assert evidence.verify(FIXTURE) == [] and evidence.state(FIXTURE) == "open"


def test_disagreements_carry_the_likely_cause():
    built = report.build(report.load_run(FIXTURE))
    by_name = {d["name"]: d for d in built["disagreements"]}
    assert set(by_name) == {
        "gateway-to-prod-api-allowed",
        "predicted dev/my-api -> prod/my-api TCP/3000",
        "predicted gateway/api-gateway -> dev/my-api TCP/3000",
        "predicted gateway/api-gateway -> monitoring/scraper TCP/8080",
        "predicted gateway/api-gateway -> prod/my-api TCP/3000",
        "predicted monitoring/scraper -> prod/my-api TCP/3000"}
    assert "DNS egress" in by_name["gateway-to-prod-api-allowed"]["cause"]
    assert by_name["gateway-to-prod-api-allowed"]["against"] == "expected"
    assert "CNI may not enforce" in by_name["predicted dev/my-api -> prod/my-api TCP/3000"]["cause"]
    assert by_name["predicted dev/my-api -> prod/my-api TCP/3000"]["against"] == "predicted"
    assert "blocked although allowed by the model" in by_name["predicted monitoring/scraper -> prod/my-api TCP/3000"]["cause"]


def test_matrices_show_before_after_and_prediction_per_port():
    built = report.build(report.load_run(FIXTURE))
    ports = [(m["protocol"], m["port"]) for m in built["matrices"]]
    assert ports == [("TCP", 80), ("TCP", 443), ("TCP", 3000), ("TCP", 8080)]
    m3000 = built["matrices"][2]
    assert m3000["cells"]["dev/my-api|prod/my-api"] == {"before": "allowed", "after": "allowed", "predicted": "blocked"}
    assert m3000["cells"]["prod/my-api|dev/my-api"] == {"before": "allowed", "after": "blocked", "predicted": "blocked"}
    markdown = report.to_markdown(built)
    assert "| dev/my-api | · | Y→Y (N) |" in markdown
    assert "**6 disagreement(s)**" in markdown


def test_blast_radius_lists_per_rogue_pod_what_stays_reachable_next_to_its_namespace_prediction():
    dev, prod = report.build(report.load_run(FIXTURE))["blast"]
    assert (dev["source"], prod["source"]) == ("dev/rogue", "prod/rogue")
    assert dev["reachable"] == ["api:kubernetes:443", "dev/my-api:80", "dns:cluster-dns:53"]
    # the engine predicts the API server blocked for dev's rogue pod and the internet allowed
    assert next(r for r in dev["rows"] if r["target"] == "api:kubernetes")["predicted"] == "blocked"
    assert [(r["target"], r["observed"], r["predicted"]) for r in dev["disagreements"]] == [
        ("external:1.1.1.1", "blocked", "allowed"), ("api:kubernetes", "allowed", "blocked")]
    assert next(r for r in dev["rows"] if r["target"] == "dns:cluster-dns")["predicted"] == "allowed"
    # prod's rows are looked up in prod's prediction, not dev's
    assert prod["reachable"] == ["dns:cluster-dns:53", "external:1.1.1.1:443", "prod/my-api:80"]
    assert next(r for r in prod["rows"] if r["target"] == "prod/my-api")["predicted"] == "allowed"
    assert next(r for r in prod["rows"] if r["target"] == "dev/my-api")["predicted"] == "blocked"
    assert prod["disagreements"] == []


def test_markdown_has_a_blast_radius_section_per_rogue_pod():
    markdown = report.to_markdown(report.build(report.load_run(FIXTURE)))
    section = markdown.split("## Blast radius")[1].split("## Coverage")[0]
    assert section.count("A rogue pod `") == 2
    assert "A rogue pod `prod/rogue` still reaches: `dns:cluster-dns:53`, `external:1.1.1.1:443`, `prod/my-api:80`." in section


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
    # The plan assumed 172.18.0.2:6443 and predicted the API blocked for both rogue pods; dev's
    # reached it, prod's did not. The cluster's Service really sends to 172.18.0.3:6443, where the
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
    assert cov["probes"] == {"before": 15, "after": 15} and cov["probe_pods"] == {"before": 4, "after": 4}
    assert cov["predicted_rows"] == 35 and cov["phases_missing"] == []
    # CoreDNS is no inventory workload: no probe pod stands for it, and the report says so
    assert len(cov["predicted_unprobed"]) == 16 and all("kube-system/coredns" in row for row in cov["predicted_unprobed"])


def test_junit_has_one_case_per_probe_and_phase_with_failures_blast_radius_included():
    loaded = report.load_run(FIXTURE)
    built = report.build(loaded)
    wanted = {r["name"]: r["predicted"] for b in built["blast"] for r in b["rows"] if r["predicted"]}
    root = ET.fromstring(junit.build({**loaded["phases"], "blast-radius": loaded["blast"]}, blast_wanted=wanted))
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert list(suites) == ["netfence.before", "netfence.after", "netfence.blast-radius"]
    assert [len(s.findall("testcase")) for s in suites.values()] == [15, 15, 10]  # two rogue pods, five probes each
    after = suites["netfence.after"]
    assert after.get("failures") == "6" and after.get("errors") == "0"
    failed = {c.get("name"): c.find("failure") for c in after.findall("testcase") if c.find("failure") is not None}
    assert "DNS egress" in failed["gateway-to-prod-api-allowed"].get("message")
    assert suites["netfence.before"].get("failures") == "0"
    blast = {c.get("name"): c.find("failure") for c in suites["netfence.blast-radius"].findall("testcase") if c.find("failure") is not None}
    assert set(blast) == {"blast from dev to internet 1.1.1.1:443", "blast from dev to kubernetes-api:443"}
    assert blast["blast from dev to kubernetes-api:443"].get("message").startswith("predicted blocked, observed allowed")
    assert root.get("tests") == "40" and root.get("failures") == "8"


def test_junit_with_no_probes_where_a_round_was_expected_is_a_failure_not_zero_tests():
    root = ET.fromstring(junit.build({"after": {"records": []}}, expected=["before", "after"]))
    assert root.get("tests") == "2" and root.get("failures") == "2"
    messages = [c.find("failure").get("message") for c in root.iter("testcase")]
    assert messages[0].startswith("no probe round was recorded") and messages[1].startswith("the round recorded no probes")


def test_cli_writes_report_and_junit_seals_the_run_never_writes_it_again_and_gates(run_copy, capsys):
    assert main(["report", "--run-dir", str(run_copy), "--write"]) == 0
    assert (run_copy / "report.md").read_text().startswith("# netfence report: netfence-lab run 20261126T110500Z-abc123")
    ET.parse(run_copy / "junit.xml")
    assert evidence.state(run_copy) == "sealed" and evidence.verify(run_copy) == []
    assert not (run_copy / evidence.INCOMPLETE).exists()
    assert main(["report", "--run-dir", str(run_copy), "--write"]) == 2
    assert "sealed, not open" in capsys.readouterr().err
    assert main(["report", "--run-dir", str(run_copy), "--fail-on-disagreement"]) == 1
    err = capsys.readouterr().err
    assert "6 probe disagreement(s)" in err and "2 blast-radius disagreement(s)" in err


def test_the_gate_passes_a_complete_run_without_disagreements(run_copy, capsys):
    # the gate can pass: without the disagreeing records (probe rounds and blast radius) it does
    built = report.build(report.load_run(run_copy))
    names = {d["name"] for d in built["disagreements"]}
    blast = {r["name"] for b in built["blast"] for r in b["disagreements"]}
    run = _sealed(run_copy, lambda run: [_rewrite(run, "probes/before.json", lambda d: _agreeing(d, names)),
                                         _rewrite(run, "probes/after.json", lambda d: _agreeing(d, names)),
                                         _rewrite(run, "blast-radius.json", lambda d: _agreeing(d, blast))])
    assert main(["report", "--run-dir", str(run), "--fail-on-disagreement"]) == 0
    assert "gate: passed" in capsys.readouterr().err


def test_blast_radius_disagreements_alone_fail_the_gate(run_copy, capsys):
    names = {d["name"] for d in report.build(report.load_run(run_copy))["disagreements"]}
    run = _sealed(run_copy, lambda run: [_rewrite(run, "probes/before.json", lambda d: _agreeing(d, names)),
                                         _rewrite(run, "probes/after.json", lambda d: _agreeing(d, names))])
    assert main(["report", "--run-dir", str(run), "--fail-on-disagreement"]) == 1
    err = capsys.readouterr().err
    assert "2 blast-radius disagreement(s)" in err and "probe disagreement" not in err


@pytest.mark.parametrize("edit, reason", [
    (lambda run: (run / "probes" / "after.json").unlink(), "probes/after.json is missing: the after round was expected"),
    (lambda run: (run / "blast-radius.json").unlink(), "blast-radius.json is missing"),
    (lambda run: _rewrite(run, "probes/after.json", lambda d: d.update(records=[])), "probes/after.json recorded no probes"),
    (lambda run: _rewrite(run, "probes/after.json", lambda d: [r.update(outcome="error", expected=None, predicted=None)
                                                               for r in d["records"]]),
     "every probe in probes/after.json errored"),
    (lambda run: shutil.rmtree(run / "predicted"), "predicted/matrix.json is missing"),
])
def test_the_gate_fails_on_missing_empty_or_unmeasured_evidence(run_copy, capsys, edit, reason):
    run = _sealed(run_copy, edit)
    assert main(["report", "--run-dir", str(run), "--fail-on-disagreement"]) == 1
    assert reason in capsys.readouterr().err


def test_a_run_without_an_expected_round_gets_a_failing_junit_case(run_copy):
    run = _sealed(run_copy, lambda run: (run / "probes" / "before.json").unlink())
    suites = {s.get("name"): s for s in ET.parse(run / "junit.xml").getroot().findall("testsuite")}
    assert suites["netfence.before"].get("tests") == "1" and suites["netfence.before"].get("failures") == "1"


def test_malformed_evidence_is_an_error_not_a_pass(run_copy, capsys):
    _rewrite(run_copy, "probes/after.json", lambda d: d["records"][0].pop("outcome"))
    evidence.seal(run_copy)
    assert main(["report", "--run-dir", str(run_copy), "--write"]) == 2
    assert "probes/after.json: records[0].outcome: is missing" in capsys.readouterr().err
    assert not (run_copy / "report.md").exists() and evidence.state(run_copy) == "open"


@pytest.mark.parametrize("args", [[], ["--fail-on-disagreement"]])
def test_an_empty_folder_is_refused_and_fails_the_gate_even_when_inspected(tmp_path, capsys, args):
    assert main(["report", "--run-dir", str(tmp_path), *args]) == 2
    assert "holds no evidence" in capsys.readouterr().err
    assert main(["report", "--run-dir", str(tmp_path), "--inspect", "--fail-on-disagreement"]) == 1
    err = capsys.readouterr().err
    assert "probes/before.json is missing" in err and "predicted/matrix.json is missing" in err


def test_an_incomplete_run_is_refused_unless_inspected_and_then_fails_the_gate(run_copy, capsys):
    assert main(["report", "--run-dir", str(run_copy), "--fail-on-disagreement"]) == 2
    assert "is incomplete (INCOMPLETE: This run is incomplete: stage 'blast-radius'" in capsys.readouterr().err
    assert main(["report", "--run-dir", str(run_copy), "--inspect"]) == 0
    assert main(["report", "--run-dir", str(run_copy), "--inspect", "--fail-on-disagreement"]) == 1
    assert "gate: " in capsys.readouterr().err


def test_a_tampered_sealed_run_is_refused_naming_the_files_and_never_resealed(run_copy, capsys):
    run = _sealed(run_copy)
    (run / "predicted" / "matrix.json").write_text('{"rows": []}\n')
    (run / "notes.txt").write_text("added later\n")
    assert main(["report", "--run-dir", str(run)]) == 2
    err = capsys.readouterr().err
    assert "notes.txt: not in SHA256SUMS" in err and "predicted/matrix.json: checksum mismatch" in err
    assert main(["report", "--run-dir", str(run), "--write"]) == 2
    with pytest.raises(NetfenceError, match="sealed"):
        evidence.seal(run)
    with pytest.raises(NetfenceError, match="never written again"):
        evidence.open_run(run, "plan")
    assert evidence.verify(run) == ["notes.txt: not in SHA256SUMS", "predicted/matrix.json: checksum mismatch"]


def test_a_tampered_open_run_is_refused_by_the_report_stage(run_copy, capsys):
    (run_copy / "probes" / "after.json").write_text((run_copy / "probes" / "after.json").read_text().replace('"blocked"', '"allowed"'))
    assert main(["report", "--run-dir", str(run_copy), "--write"]) == 2
    assert "probes/after.json: checksum mismatch" in capsys.readouterr().err
    assert not (run_copy / "report.md").exists()


def test_cli_on_a_missing_or_broken_run_folder_is_a_clear_error(tmp_path, capsys):
    assert main(["report", "--run-dir", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "probes").mkdir()
    (tmp_path / "probes" / "after.json").write_text("{broken")
    assert main(["report", "--run-dir", str(tmp_path)]) == 2
    assert "is unsealed" in capsys.readouterr().err
    assert main(["report", "--run-dir", str(tmp_path), "--inspect"]) == 2
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
