"""The CLI dispatcher: discovers commands, loads only the one asked for, maps user errors to exit 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

from netfence import cli


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in ("explain", "plan", "reachability", "render", "report", "validate"):
        assert name in out


def test_no_command_prints_help_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    assert "usage: netfence" in capsys.readouterr().out


def test_one_command_loads_only_its_module() -> None:
    """`netfence reachability` must not pay for the schema validator's imports."""
    code = (
        "import sys; from netfence import cli; cli.build_parser('reachability');"
        "print('netfence.commands.validate' in sys.modules, 'netfence.commands.reachability' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]


def test_user_error_exits_2_without_traceback(tmp_path) -> None:
    missing = tmp_path / "nope.yaml"
    run = subprocess.run([sys.executable, "-m", "netfence", "reachability", "--model", str(missing)],
                         capture_output=True, text=True)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert "netfence reachability: error:" in run.stderr
