"""The GitHub Actions workflows: schema-valid, and they do what the README promises."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from scalestack import REPO_ROOT

WORKFLOWS = REPO_ROOT / ".github" / "workflows"


def load(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    return doc


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps", []))


def test_workflows_validate_against_the_github_schema() -> None:
    exe = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or shutil.which("check-jsonschema")
    assert exe, "check-jsonschema is in requirements-dev.txt"
    files = sorted(str(p) for p in WORKFLOWS.glob("*.yml"))
    assert len(files) == 3
    result = subprocess.run([exe, "--builtin-schema", "vendor.github-workflows", *files], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_catches_a_broken_workflow(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n        runs: oops\n")
    exe = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or shutil.which("check-jsonschema")
    assert exe
    assert subprocess.run([exe, "--builtin-schema", "vendor.github-workflows", str(bad)], capture_output=True, check=False).returncode != 0


def test_pull_request_plans_base_and_head_and_comments_in_place() -> None:
    wf = load("pull-request.yml")
    jobs = wf["jobs"]
    assert "make test" in str(steps(jobs["test"]))
    plan = jobs["plan"]
    assert plan["strategy"]["matrix"]["stack"] == ["dev", "prod"]
    text = str(steps(plan))
    assert "base.sha" in text and "scalestack diff" in text and "--format markdown" in text
    script = next(s for s in steps(plan) if s.get("uses", "").startswith("actions/github-script"))
    assert "<!-- scalestack:mortgagematch-scaling/${process.env.STACK} -->" in script["with"]["script"] and "updateComment" in script["with"]["script"]
    preview = jobs["preview"]
    pulumi = next(s for s in steps(preview) if s.get("uses", "").startswith("pulumi/actions"))
    assert pulumi["with"]["command"] == "preview" and pulumi["with"]["policyPacks"] == "policies"
    assert pulumi["if"] == "env.HAS_CLOUD_CREDENTIALS == 'true'" and "secrets.AWS_ROLE_ARN" in preview["env"]["HAS_CLOUD_CREDENTIALS"]


def test_deploy_on_merge_with_prod_after_dev_in_its_environment() -> None:
    wf = load("deploy.yml")
    assert wf[True]["push"]["branches"] == ["main"]  # yaml reads the key `on` as True
    assert wf["jobs"]["up-prod"]["needs"] == "up-dev" and wf["jobs"]["up-prod"]["with"]["stack"] == "prod"
    up = load("pulumi-up.yml")["jobs"]["up"]
    assert up["environment"]["name"] == "${{ inputs.stack }}"
    assert any(s.get("with", {}).get("command") == "up" for s in steps(up))


def test_pull_request_tokens_are_least_privilege() -> None:
    """`make test` and the planners run the PR's own code: no job but the one that needs it
    may write to the PR, and only the credentialed preview may mint an OIDC token."""
    wf = load("pull-request.yml")
    assert wf["permissions"] == {"contents": "read"}
    jobs = wf["jobs"]
    granted = {name: job.get("permissions", {}) for name, job in jobs.items()}
    assert [n for n, p in granted.items() if p.get("id-token") == "write"] == ["preview"]
    assert [n for n, p in granted.items() if p.get("pull-requests") == "write"] == ["plan"]
    script = next(s for s in steps(jobs["plan"]) if s.get("uses", "").startswith("actions/github-script"))["with"]["script"]
    assert "c.user.type === 'Bot'" in script  # never edit a human's comment that quotes the marker


def test_pulumi_runs_the_pack_with_the_stacks_policy_config() -> None:
    """`--policy-pack-config` pairs with `--policy-pack`: without it the CLI runs every policy
    at the pack's defaults and ignores policies/config/<stack>.json."""
    preview = next(s for s in steps(load("pull-request.yml")["jobs"]["preview"]) if s.get("uses", "").startswith("pulumi/actions"))
    up = next(s for s in steps(load("pulumi-up.yml")["jobs"]["up"]) if s.get("uses", "").startswith("pulumi/actions"))
    assert preview["with"]["policyPackConfigs"] == "policies/config/${{ matrix.stack }}.json"
    assert up["with"]["policyPackConfigs"] == "policies/config/${{ inputs.stack }}.json"
    for stack in ("dev", "prod"):
        assert (REPO_ROOT / "policies" / "config" / f"{stack}.json").is_file()
