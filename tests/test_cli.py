"""``scalestack plan``: outputs, and bad input as one line on stderr with exit 2 and
nothing registered."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pytest_mock import MockerFixture
from typer.testing import CliRunner

from scalestack import offline
from scalestack.cli import app
from tests.conftest import shipped_config, write_stack

runner = CliRunner()
NS = "mortgagematch-scaling"


def test_plan_table_prints_the_tree_and_counts() -> None:
    result = runner.invoke(app, ["plan", "dev"])
    assert result.exit_code == 0, result.output
    assert "network-vpc" in result.stdout and "mortgagematch:network:Network" in result.stdout
    assert "Resources by type" in result.stdout


def test_plan_json_is_versioned_and_complete(tmp_path: Path) -> None:
    out = tmp_path / "prod.json"
    result = runner.invoke(app, ["plan", "prod", "--format", "json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["format"] == "scalestack-plan/1"
    assert (doc["project"], doc["stack"], doc["phase"]) == ("mortgagematch-scaling", "prod", "optimization")
    first = doc["resources"][0]
    assert set(first) >= {"urn", "type", "name", "parent", "custom", "protect", "dependencies", "inputs"}
    subnets = [r for r in doc["resources"] if r["type"] == "aws:ec2/subnet:Subnet"]
    assert len({s["inputs"]["availabilityZone"] for s in subnets}) >= 2
    nats = [r for r in doc["resources"] if r["type"] == "aws:ec2/natGateway:NatGateway"]
    assert len(nats) == 3


def _bad_stack(tmp_path: Path, mutate: Any) -> Path:
    config = shipped_config("prod")
    mutate(config)
    write_stack(tmp_path, "bad", config)
    return tmp_path


CASES = {
    "unknown key": (lambda c: c[f"{NS}:web"].update(max_sise=3), "Pulumi.bad.yaml: mortgagematch-scaling:web.max_sise: unknown key; did you mean 'max_size'?"),
    "wrong type": (
        lambda c: c[f"{NS}:network"].update(az_count="three"),
        "Pulumi.bad.yaml: mortgagematch-scaling:network.az_count: must be an integer, got str 'three'",
    ),
    "negative size": (lambda c: c[f"{NS}:web"].update(min_size=-2), "Pulumi.bad.yaml: mortgagematch-scaling:web.min_size: must be >= 0, got -2"),
    "min > max": (
        lambda c: c[f"{NS}:web"].update(min_size=4, max_size=2),
        "Pulumi.bad.yaml: mortgagematch-scaling:web.max_size: must be >= min_size (4), got 2",
    ),
    "too many AZs": (
        lambda c: (c.update({"aws:region": "eu-west-2"}), c[f"{NS}:network"].update(az_count=4)),
        "Pulumi.bad.yaml: mortgagematch-scaling:network.az_count: must be <= 3 (AZs in eu-west-2), got 4",
    ),
    "unknown phase": (lambda c: c.update({f"{NS}:phase": "scale"}), "Pulumi.bad.yaml: mortgagematch-scaling:phase: must be one of"),
    "unknown environment": (lambda c: c.update({f"{NS}:environment": "qa"}), "Pulumi.bad.yaml: mortgagematch-scaling:environment: must be one of"),
}


def _assert_one_line_exit_2(result: Any, expected: str) -> None:
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]
    assert "Traceback" not in result.output and result.stdout == ""


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_config_one_line_exit_2_nothing_registered(tmp_path: Path, mocker: MockerFixture, case: str) -> None:
    mutate, expected = CASES[case]
    project = _bad_stack(tmp_path, mutate)
    run = mocker.spy(offline, "_run_isolated")
    result = runner.invoke(app, ["plan", "bad", "--project-dir", str(project)])
    _assert_one_line_exit_2(result, expected)
    assert run.call_count == 0, "nothing may be registered for invalid config"


def test_missing_stack_file(tmp_path: Path) -> None:
    write_stack(tmp_path, "dev", shipped_config("dev"))
    result = runner.invoke(app, ["plan", "qa", "--project-dir", str(tmp_path)])
    _assert_one_line_exit_2(result, "Pulumi.qa.yaml: stack file not found")


def test_yaml_syntax_error(tmp_path: Path) -> None:
    write_stack(tmp_path, "dev", shipped_config("dev"))
    (tmp_path / "Pulumi.broken.yaml").write_text("config:\n  mortgagematch-scaling:web: {instance_type: [\n")
    result = runner.invoke(app, ["plan", "broken", "--project-dir", str(tmp_path)])
    _assert_one_line_exit_2(result, "Pulumi.broken.yaml: YAML syntax error at line")


def test_unknown_option_is_usage_error() -> None:
    result = runner.invoke(app, ["plan", "dev", "--format", "yaml"])
    assert result.exit_code == 2


def test_secure_values_appear_only_as_placeholder(tmp_path: Path) -> None:
    config = shipped_config("dev")
    config[f"{NS}:tags"]["extra"] = {"team": "core"}
    config["aws:secretKey"] = {"secure": "v1:c2VjcmV0LXZhbHVlLXRoYXQtbXVzdC1ub3QtbGVhaw=="}
    write_stack(tmp_path, "sec", config)
    result = runner.invoke(app, ["plan", "sec", "--format", "json", "--project-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "c2VjcmV0LXZhbHVl" not in result.stdout


def test_console_script_exit_codes_survive_the_fast_exit(tmp_path: Path) -> None:
    """``main()`` ends the process with ``os._exit``: the code and the flushed output must
    be exactly what the command produced."""
    import subprocess
    import sys

    write_stack(tmp_path, "dev", shipped_config("dev"))
    cmd = [sys.executable, "-c", "from scalestack.cli import main; main()", "plan", "qa", "--project-dir", str(tmp_path)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"error: Pulumi.qa.yaml: stack file not found in {tmp_path} (create it with `pulumi stack init`)"]
    usage = subprocess.run([*cmd[:3], "plan"], capture_output=True, text=True, timeout=120)
    assert usage.returncode == 2 and "Missing argument" in usage.stderr
