"""Bad input never hurts: every reader is bounded and total (netfence.loading).

Each case here once ended in a traceback, a silently ignored file, gigabytes of memory or a
megabyte-long message. Now each ends in one line, ``netfence <command>: error: <path>: <what>
(fix: ...)``, exit status 2, and nothing written.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from netfence import cli, loading
from netfence.evidence import runs as evidence
from netfence.evidence import shapes as evidence_shapes
from netfence.errors import NetfenceError

REPO = Path(__file__).resolve().parents[2]
LAB = REPO / "inventories" / "lab"
GOOD_MODEL = """namespaces: [{name: x}]
pods: [{namespace: x, name: a, containers: [{name: c, ports: [{containerPort: 80, protocol: TCP}]}]}]
policies: []
"""


def bomb(levels: int = 9, width: int = 9, last: str = "bomb") -> str:
    """A 'billion laughs' YAML document: ``last`` stands for width**(levels-1) strings."""
    lines = ['a0: &a0 ["lol"]']
    for i in range(1, levels):
        name = last if i == levels - 1 else f"a{i}"
        lines.append(f"{name}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def one_line_error(capsys: pytest.CaptureFixture[str], code: int, command: str, *fragments: str) -> str:
    out = capsys.readouterr()
    assert code == 2, out
    lines = out.err.strip().splitlines()
    assert len(lines) == 1, out.err[:2000]
    assert lines[0].startswith(f"netfence {command}: error: ")
    assert "Traceback" not in out.err
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


def inventory(tmp_path: Path, files: dict[str, Any], name: str = "inv") -> Path:
    root = tmp_path / name
    shutil.copytree(LAB, root)
    for rel, content in files.items():
        path = root / rel
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


def limited(argv: list[str], cwd: Path, memory_mb: int = 1500, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a child capped at ``memory_mb`` of address space: a bomb cannot hurt."""
    code = ("import resource, sys; lim = %d << 20; resource.setrlimit(resource.RLIMIT_AS, (lim, lim));"
            "from netfence import cli; sys.exit(cli.main(sys.argv[1:]))") % memory_mb
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd, env=env)


# --- alias bombs ---------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["reachability", "explain"])
def test_model_alias_bomb_is_refused_in_one_line(tmp_path: Path, command: str) -> None:
    model = tmp_path / "bomb.yaml"
    model.write_text(bomb(last="pods") + "namespaces: [{name: x}]\npolicies: []\n")
    extra = ["--from", "x/a", "--to", "x/a", "--probe", "TCP/80"] if command == "explain" else []
    done = limited([command, "--model", str(model), *extra], tmp_path)
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert f"{model}: YAML aliases make" in done.stderr and "alias bomb" in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize("command", ["validate", "render", "plan"])
def test_inventory_alias_bomb_is_refused_and_nothing_written(tmp_path: Path, command: str) -> None:
    inv = inventory(tmp_path, {"group_vars/all/namespaces.yml": bomb(last="netfence_namespaces")})
    extra = ["--out", str(tmp_path / "out")] if command in ("render", "plan") else []
    done = limited([command, "-i", str(inv), *extra], tmp_path)
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "namespaces.yml: YAML aliases make" in done.stderr
    assert len(done.stdout) < 1000
    assert not (tmp_path / "out").exists()


def test_a_few_aliases_are_fine() -> None:
    text = "labels: &l {app: a, env: dev}\nx: [*l, *l, *l]\nbase: &b {a: 1}\nmerged: {<<: *b, c: 2}\n"
    assert loading.load_yaml(text, "t.yaml") == yaml.safe_load(text)


def test_a_recursive_alias_is_refused() -> None:
    with pytest.raises(loading.InputError, match="refers to its own anchor"):
        loading.load_yaml("pods: &p [*p]\n", "t.yaml")


# --- model: decode, nesting, OS errors -------------------------------------------------------

MODEL_CASES = {
    "latin-1": (GOOD_MODEL.replace("x}", "\xe9}").encode("latin-1"), "is not UTF-8 text: byte 0xe9 at line 1"),
    "utf-16": (GOOD_MODEL.encode("utf-16"), "looks like UTF-16"),
    "binary": (bytes(range(256)) * 4, "is not UTF-8 text"),
    "deep JSON": (b'{"pods": ' + b"[" * 100000 + b"]" * 100000 + b"}", "nested more than 100 levels"),
    "deep JSON 500": (b'{"pods": ' + b"[" * 500 + b"]" * 500 + b"}", "nested more than 100 levels"),
    "deep YAML 500": (b"pods: " + b"[" * 500 + b"]" * 500 + b"\n", "nested more than 100 levels"),
    "deep YAML 3000": (b"pods: " + b"[" * 3000 + b"]" * 3000 + b"\n", "maximum nesting depth"),
    "recursive alias": (b"pods: &p [*p]\nnamespaces: []\npolicies: []\n", "refers to its own anchor"),
    "python tag": (b"pods: !!python/object:os.system {}\n", "tags such as !!python"),
    "huge integer": (b"pods: [{namespace: x, name: a, ip: " + b"1" * 5000 + b"}]\n", "a value cannot be read"),
    "bad timestamp": (b"pods: 2001-13-45\n", "month must be in 1..12"),
    "JSON huge integer": (b'{"pods": ' + b"1" * 5000 + b"}", "a value cannot be read"),
    "YAML syntax": (b"pods: [a\n", "is not valid YAML"),
    "NUL byte": (GOOD_MODEL.encode() + b"\x00", "is not valid YAML"),
}


@pytest.mark.parametrize("case", sorted(MODEL_CASES))
def test_bad_model_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    data, fragment = MODEL_CASES[case]
    model = tmp_path / "model.yaml"
    model.write_bytes(data)
    line = one_line_error(capsys, cli.main(["reachability", "--model", str(model)]), "reachability", str(model), fragment)
    assert len(line) < 600


def test_model_that_is_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    one_line_error(capsys, cli.main(["reachability", "--model", str(tmp_path)]), "reachability",
                   f"{tmp_path}: cannot read model: it is a folder", "(fix:")


def test_unreadable_model(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """chmod 000 does not stop root, so the refusal is simulated where the file is opened."""
    model = tmp_path / "model.yaml"
    model.write_text(GOOD_MODEL)

    def denied(path: Any, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(loading, "open", denied, raising=False)
    one_line_error(capsys, cli.main(["reachability", "--model", str(model)]), "reachability",
                   f"{model}: cannot read model: permission denied", "(fix:")


def test_model_over_the_size_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    model = tmp_path / "model.yaml"
    model.write_text(GOOD_MODEL + "#" * 2_000_000 + "\n")
    monkeypatch.setenv("NETFENCE_MAX_INPUT_MB", "1")
    one_line_error(capsys, cli.main(["reachability", "--model", str(model)]), "reachability",
                   "over the limit of 1 MB", "NETFENCE_MAX_INPUT_MB")


def test_stray_os_errors_are_one_line(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The dispatcher's net: an OSError/UnicodeError/RecursionError no reader caught."""
    from netfence.commands import reachability

    for exc in (OSError(5, "Input/output error", "/x/y"), UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad"),
                RecursionError("deep")):
        def boom(args: Any, exc: BaseException = exc) -> int:
            raise exc

        monkeypatch.setattr(reachability, "run", boom)
        one_line_error(capsys, cli.main(["reachability", "--model", "m.yaml"]), "reachability", "(fix:")


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    model = tmp_path / "model.yaml"
    model.write_bytes(b"\xef\xbb\xbf" + GOOD_MODEL.encode())
    from netfence.policy.model import load_world

    assert [p.key for p in load_world(str(model)).pods] == ["x/a"]


# --- inventories ---------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["validate", "render", "plan"])
def test_non_utf8_inventory(tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str) -> None:
    inv = inventory(tmp_path, {"group_vars/all/x.yml": "a: \xe9\n".encode("latin-1")})
    extra = ["--out", str(tmp_path / "out")] if command == "plan" else []
    one_line_error(capsys, cli.main([command, "-i", str(inv), *extra]), command,
                   f"{inv}/group_vars/all/x.yml: inventory file is not UTF-8 text: byte 0xe9 at line 1, column 4")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("depth", [150, 3000, 100000])
def test_deep_inventory(tmp_path: Path, capsys: pytest.CaptureFixture[str], depth: int) -> None:
    inv = inventory(tmp_path, {"group_vars/all/x.yml": "a: " + "[" * depth + "]" * depth + "\n"})
    one_line_error(capsys, cli.main(["validate", "-i", str(inv)]), "validate", "x.yml", "nest")


def test_a_folder_in_group_vars_is_read_as_ansible_reads_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Ansible skips a folder under group_vars/all/ whose name has an extension and reads one
    without as more variable files; the CLI does the same, so `netfence validate` and the
    playbooks see the same variables."""
    inv = inventory(tmp_path, {})
    namespaces = inv / "group_vars/all/namespaces.yml"
    text = namespaces.read_text()
    namespaces.unlink()
    namespaces.mkdir()
    (namespaces / "inner.yml").write_text(text)
    one_line_error(capsys, cli.main(["validate", "-i", str(inv)]), "validate",
                   "netfence_namespaces is not defined in the files read (group_vars/all/calico.yml, "
                   "group_vars/all/cluster.yml")
    namespaces = namespaces.rename(inv / "group_vars/all/namespaces")
    (namespaces / ".hidden.yml").write_text("netfence_namespaces: broken\n")
    (namespaces / "old.yml~").write_text("netfence_namespaces: broken\n")
    assert cli.main(["validate", "-i", str(inv)]) == 0
    (namespaces / "zz.json").write_text('{"netfence_namespaces": "broken"}')
    assert cli.main(["validate", "-i", str(inv)]) == 2
    assert "netfence_namespaces: must be a non-empty list" in capsys.readouterr().err


def test_unreadable_inventory_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    inv = inventory(tmp_path, {})
    real_open = open

    def maybe_denied(path: Any, *args: Any, **kwargs: Any) -> Any:
        if str(path).endswith("cluster.yml"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(loading, "open", maybe_denied, raising=False)
    one_line_error(capsys, cli.main(["validate", "-i", str(inv)]), "validate", "cluster.yml: cannot read inventory file: permission denied")


def test_inventory_path_that_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inv = inventory(tmp_path, {})
    one_line_error(capsys, cli.main(["validate", "-i", str(inv / "hosts.yml")]), "validate", "is not a folder")


def test_long_values_are_shortened_in_messages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ns = "netfence_namespaces:\n  - name: dev\n    labels: {a: [" + ",".join(["yyyyyyyy"] * 100000) + "]}\n"
    inv = inventory(tmp_path, {"group_vars/all/namespaces.yml": ns})
    assert cli.main(["validate", "-i", str(inv)]) == 2
    err = capsys.readouterr().err
    assert "netfence_namespaces[0].labels.a" in err and "characters left out" in err
    assert len(err) < 2000
    inv = inventory(tmp_path, {"group_vars/all/namespaces.yml": "netfence_namespaces: " + "x" * 500000 + "\n"}, "inv2")
    assert cli.main(["validate", "-i", str(inv)]) == 2
    assert len(capsys.readouterr().err) < 2000


def test_inventories_use_libyaml_and_load_like_safe_load() -> None:
    if hasattr(yaml, "CSafeLoader"):
        assert issubclass(loading._loader_class(), yaml.CSafeLoader)
    for path in sorted(REPO.glob("inventories/*/group_vars/all/*.yml")):
        assert loading.read_yaml(path) == yaml.safe_load(path.read_text()), path


# --- render --out and plan --out -------------------------------------------------------------

def test_render_out_on_an_existing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "existing"
    target.write_text("keep me\n")
    one_line_error(capsys, cli.main(["render", "-i", str(LAB), "--out", str(target)]), "render",
                   f"{target}: --out names an existing file")
    assert target.read_text() == "keep me\n"


def test_render_out_under_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "existing"
    target.write_text("keep me\n")
    one_line_error(capsys, cli.main(["render", "-i", str(LAB), "--out", str(target / "sub")]), "render", "is a file")


def test_render_out_into_a_read_only_folder_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    real = tempfile.mkstemp
    calls: list[Any] = []

    def second_fails(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        if len(calls) == 2:
            raise PermissionError(13, "Permission denied", str(kwargs.get("dir")))
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", second_fails)
    out = tmp_path / "new" / "folder"
    one_line_error(capsys, cli.main(["render", "-i", str(LAB), "--out", str(out)]), "render",
                   "cannot write: permission denied", "(fix:")
    assert not (tmp_path / "new").exists()
    existing = tmp_path / "existing"
    existing.mkdir()
    calls.clear()
    one_line_error(capsys, cli.main(["render", "-i", str(LAB), "--out", str(existing)]), "render", "permission denied")
    assert list(existing.iterdir()) == []


def test_render_out_mkdir_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: Path, *args: Any, **kwargs: Any) -> None:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    one_line_error(capsys, cli.main(["render", "-i", str(LAB), "--out", str(tmp_path / "ro" / "x")]), "render",
                   "cannot create the folder: permission denied")


def test_plan_out_on_an_existing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "existing"
    target.write_text("keep me\n")
    one_line_error(capsys, cli.main(["plan", "-i", str(LAB), "--out", str(target)]), "plan", "--out names an existing file")
    assert target.read_text() == "keep me\n"


def test_plan_that_cannot_finish_leaves_no_run_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    real = evidence.write_text
    calls: list[str] = []

    def fails_on_third(run_dir: Path, relpath: str, text: str, **kwargs: Any) -> Path:
        calls.append(relpath)
        if len(calls) == 3:
            raise OSError(28, "No space left on device", str(run_dir / relpath))
        return real(run_dir, relpath, text, **kwargs)

    monkeypatch.setattr(evidence, "write_text", fails_on_third)
    one_line_error(capsys, cli.main(["plan", "-i", str(LAB), "--out", str(tmp_path / "ev")]), "plan", "No space left on device")
    assert not (tmp_path / "ev").exists()


# --- evidence --------------------------------------------------------------------------------

RECORD = {"name": "r", "source": {"namespace": "dev", "workload": "my-api"},
          "target": {"kind": "service", "ref": "prod/my-api"}, "port": 80, "protocol": "TCP",
          "outcome": "allowed", "expected": "allowed"}


def _without(mapping: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k != key}


EVIDENCE_CASES: dict[str, tuple[dict[str, Any], str]] = {
    "run.json a list": ({"run.json": [1, 2]}, "run.json: (top level): must be a mapping"),
    "matrix of a newer netfence": ({"predicted/matrix.json": {"schema_version": 3, "rows": []}},
                                   "matrix.json: schema_version: is a number 3; this netfence reads version 1 or 2 only"),
    "matrix letters cut short": ({"predicted/matrix.json": {"schema_version": 2, "pods": ["a/x", "b/y"], "matrices": [
        {"protocol": "TCP", "port": 80, "to": ["a/x", "b/y"], "allowed": ["YN", "Y"]}]}},
        "matrix.json: matrices[0].allowed[1]: must be 2 letters Y or N"),
    "blast letters of another inventory": ({"predicted/blast-radius.json": {"schema_version": 2, "targets": [
        {"target": "a/x", "port": 3000}], "namespaces": [{"namespace": "a", "workloads": "YY"}]}},
        "blast-radius.json: namespaces[0].workloads: must be 1 letters Y or N"),
    "legacy matrix key": ({"predicted/matrix.json": {"schema_version": 1, "matrix": []}},
                          "matrix.json: rows: must be a list, not null"),
    "round a string": ({"probes/before.json": "hello"}, "before.json: (top level): must be a mapping"),
    "records not a list": ({"probes/after.json": {"records": "x"}}, "after.json: records: must be a list"),
    "record a string": ({"probes/before.json": {"records": ["x"]}}, "before.json: records[0]: must be a mapping"),
    "record without protocol": ({"probes/before.json": {"records": [_without(RECORD, "protocol")]}},
                                "before.json: records[0].protocol: is missing"),
    "record port a string": ({"probes/before.json": {"records": [{**RECORD, "port": "80"}]}},
                             "records[0].port: must be a port number"),
    "record unknown outcome": ({"probes/before.json": {"records": [{**RECORD, "outcome": "maybe"}]}},
                               "records[0].outcome: must be one of"),
    "record source without namespace": ({"probes/before.json": {"records": [{**RECORD, "source": {}}]}},
                                        "records[0].source.namespace: is missing"),
    "matrix rows a number": ({"predicted/matrix.json": {"rows": 3}}, "matrix.json: rows: must be a list"),
    "matrix rows strings": ({"predicted/matrix.json": ["a", "b"]}, "matrix.json: [0]: must be a mapping"),
    "matrix row without allowed": ({"predicted/matrix.json": {"rows": [{"from": "a/b", "to": "c/d", "port": 80}]}},
                                   "matrix.json: rows[0].allowed: is missing"),
    "predicted blast namespaces a string": ({"predicted/blast-radius.json": {"namespaces": "x"}},
                                            "predicted/blast-radius.json: namespaces: must be a list"),
    "predicted blast workload without port": (
        {"predicted/blast-radius.json": {"namespaces": [{"namespace": "dev", "workloads": [{"target": "a/b", "allowed": True}]}]}},
        "namespaces[0].workloads[0].port: is missing"),
    "observed blast a list": ({"blast-radius.json": [1]}, "blast-radius.json: (top level): must be a mapping"),
    "api-server endpoints a string": ({"api-server.json": {"endpoints": "1.2.3.4:443"}}, "api-server.json: endpoints: must be a list"),
}


def run_folder(tmp_path: Path, files: dict[str, Any]) -> Path:
    run_dir = tmp_path / "c" / "r1"
    run_dir.mkdir(parents=True)
    evidence.mark_writing(run_dir, "test")
    for rel, data in {"run.json": {"run_id": "r1", "cluster": "c"}, **files}.items():
        path = run_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data) if isinstance(data, bytes) else path.write_text(json.dumps(data))
    evidence.finalize(run_dir)  # sealed and intact: only the shape is wrong
    return run_dir


def report_argv(run_dir: Path) -> list[str]:
    return ["report", "--run-dir", str(run_dir)]


@pytest.mark.parametrize("case", sorted(EVIDENCE_CASES))
def test_wrong_shape_evidence_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    files, fragment = EVIDENCE_CASES[case]
    run_dir = run_folder(tmp_path, files)
    one_line_error(capsys, cli.main(report_argv(run_dir)), "report", str(run_dir), fragment, "(fix:")
    assert not (run_dir / "report.md").exists()


@pytest.mark.parametrize("case", sorted(EVIDENCE_CASES))
def test_evidence_shapes_name_file_and_field(tmp_path: Path, case: str) -> None:
    files, fragment = EVIDENCE_CASES[case]
    (rel, data), = files.items()
    kind = {"run.json": "run", "predicted/matrix.json": "matrix", "predicted/blast-radius.json": "predicted_blast",
            "api-server.json": "api_server"}.get(rel, "round")
    with pytest.raises(evidence_shapes.EvidenceShapeError) as exc:
        evidence_shapes.check(kind, data, Path("/run") / rel)
    assert fragment in str(exc.value)


def test_recorded_evidence_has_the_right_shape() -> None:
    fixture = REPO / "tests/cluster/fixtures/run-lab"
    for rel, kind in [("run.json", "run"), ("probes/before.json", "round"), ("probes/after.json", "round"),
                      ("blast-radius.json", "round"), ("predicted/matrix.json", "matrix"),
                      ("predicted/blast-radius.json", "predicted_blast")]:
        if (fixture / rel).exists():
            evidence_shapes.check(kind, evidence.read_json(fixture / rel), fixture / rel)


@pytest.mark.parametrize("data, fragment", [
    (b'{"a": "\xe9"}', "evidence file is not UTF-8 text"),
    (b"[" * 100000 + b"]" * 100000, "nested more than 100 levels"),
    (b"{", "is not valid JSON"),
])
def test_unreadable_evidence_json(tmp_path: Path, data: bytes, fragment: str) -> None:
    path = tmp_path / "run.json"
    path.write_bytes(data)
    with pytest.raises(NetfenceError, match=fragment):
        evidence.read_json(path)


def test_evidence_json_that_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / "run.json").mkdir()
    with pytest.raises(NetfenceError, match="it is a folder"):
        evidence.read_json(tmp_path / "run.json")
    assert evidence.read_json(tmp_path / "absent.json") is None


# --- the helpers ---------------------------------------------------------------------------

def test_shorten_and_elide() -> None:
    assert loading.shorten("abc") == "'abc'"
    assert len(loading.shorten("x" * 10**6)) < 120
    assert "(1000000 items)" in loading.shorten(list(range(10**6)))
    text = "start " + "y" * 10000 + " the reason"
    short = loading.elide(text, 300)
    assert short.startswith("start ") and short.endswith(" the reason") and len(short) < 400


@pytest.mark.parametrize("value", ["abc", "0", "-1"])
def test_bad_size_limit_setting(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("NETFENCE_MAX_INPUT_MB", value)
    with pytest.raises(NetfenceError, match="NETFENCE_MAX_INPUT_MB"):
        loading.max_bytes()


def test_group_vars_check_refuses_bombs_but_lets_ansible_tags_through(tmp_path: Path) -> None:
    """check_yaml_file runs before Ansible loads group_vars (plugins/vars/netfence_group_vars.py):
    it composes the file without constructing values, so Ansible's own tags are not its business."""
    vaulted = tmp_path / "vault.yml"
    vaulted.write_text("netfence_secret: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162636465\nplain: [1, 2]\n")
    loading.check_yaml_file(vaulted)
    bombed = tmp_path / "bomb.yml"
    bombed.write_text(bomb())
    with pytest.raises(loading.InputError, match="an alias bomb"):
        loading.check_yaml_file(bombed)
    broken = tmp_path / "broken.yml"
    broken.write_text("a: [1, 2\nb: 3\n")
    with pytest.raises(loading.InputError, match=r"broken.yml is not valid YAML: .* at line 2, column 2"):
        loading.check_yaml_file(broken)


def test_the_group_vars_plugin_names_where_an_ansible_yaml_error_is() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("netfence_group_vars", REPO / "plugins/vars/netfence_group_vars.py")
    plugin = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(plugin)  # type: ignore[union-attr]

    class Origin:
        path, line_num, col_num = "/inv/group_vars/all/x.yml", 3, 7

    inner = ValueError("yaml")
    inner.obj = Origin()  # type: ignore[attr-defined]
    assert plugin.origin_text(RuntimeError("no origin")) is None
    try:
        try:
            raise inner
        except ValueError as exc:
            raise RuntimeError(str(exc))  # noqa: B904 - as host_group_vars does
    except RuntimeError as outer:
        assert plugin.origin_text(outer) == "/inv/group_vars/all/x.yml:3:7"
