"""``scalestack plan`` carries the pack's verdicts: JSON ``policy.violations[]``, the
table, and exit 1 on any mandatory violation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scalestack.cli import app
from tests.conftest import shipped_config, write_stack

runner = CliRunner()


def _dev_with_nat_per_az(tmp_path: Path) -> Path:
    config = shipped_config("dev")
    config["mortgagematch-scaling:network"]["nat_gateways"] = "per_az"
    config["mortgagematch-scaling:cost"]["monthly_budget_usd"] = 100_000  # only the NAT limit is at stake here
    write_stack(tmp_path, "dev", config)
    return tmp_path


def test_mandatory_violation_is_in_json_and_exits_1(tmp_path: Path) -> None:
    project = _dev_with_nat_per_az(tmp_path)
    result = runner.invoke(app, ["plan", "dev", "-f", "json", "--project-dir", str(project)])
    assert result.exit_code == 1, result.output
    policy = json.loads(result.stdout)["policy"]
    assert (policy["pack"], policy["config"], policy["mandatory"]) == ("mortgagematch-guardrails", "dev.json", 1)
    [violation] = [v for v in policy["violations"] if v["enforcement"] == "mandatory"]
    assert {k: violation[k] for k in ("policy", "pack", "enforcement", "urn")} == {
        "policy": "nat-gateway-limit",
        "pack": "mortgagematch-guardrails",
        "enforcement": "mandatory",
        "urn": "",
    }
    assert violation["message"].startswith("2 NAT gateways")


def test_table_shows_the_verdicts(tmp_path: Path) -> None:
    result = runner.invoke(app, ["plan", "dev", "--project-dir", str(_dev_with_nat_per_az(tmp_path))])
    assert result.exit_code == 1
    assert "1 mandatory," in result.stdout and "nat-gateway-limit" in result.stdout


def test_no_policy_skips_the_pack(tmp_path: Path) -> None:
    result = runner.invoke(app, ["plan", "dev", "-f", "json", "--no-policy", "--project-dir", str(_dev_with_nat_per_az(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "policy" not in json.loads(result.stdout)


@pytest.mark.parametrize("stack", ["dev", "staging"])
def test_shipped_plan_passes_the_pack(stack: str) -> None:
    result = runner.invoke(app, ["plan", stack, "-f", "json"])
    assert result.exit_code == 0, result.output
    policy = json.loads(result.stdout)["policy"]
    assert (policy["config"], policy["mandatory"]) == (f"{stack}.json", 0)
