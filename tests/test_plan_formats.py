"""Plan formats: JSON sections, markdown (headline first, capped), stack export (round
trip, pulumi's version 3 shape), and no secret value in any format."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
from typer.testing import CliRunner

from infra.config.secrets import PLACEHOLDER
from scalestack import REPO_ROOT
from scalestack.cli import app
from scalestack.export import imported_resources, stack_export
from scalestack.markdown import COMMENT_LIMIT, plan_markdown
from scalestack.offline import SECRET_SIG, SIG_KEY, Capture, run_stack
from scalestack.plan import ENRICHERS, plan_document
from tests import factory

runner = CliRunner()
SENTINEL = "hunter2-do-not-print-0b7f"


def test_json_adds_cost_capacity_and_per_resource_components(prod: Capture) -> None:
    doc = plan_document(prod)
    assert doc["cost"]["monthly_usd"] > 0 and doc["cost"]["by_purchase_option"]
    assert {"usage_per_month", "verdicts", "load"} <= set(doc["capacity"])
    nat = next(r for r in doc["resources"] if r["type"] == "aws:ec2/natGateway:NatGateway")
    assert nat["monthly_usd"] == round(sum(c["monthly_usd"] for c in nat["cost_components"]), 2)
    assert set(nat["cost_components"][0]) == {"name", "unit", "quantity", "unit_price_usd", "monthly_usd", "purchase_option"}


def test_enrichers_add_sections_and_the_graph_alone_has_none(prod: Capture) -> None:
    def policy(capture: Capture, doc: dict[str, object]) -> None:
        doc["policy"] = {"violations": 1}
        doc["blocking"].append("policy: something mandatory")  # type: ignore[attr-defined]

    bare = plan_document(prod, [])
    assert "cost" not in bare and "capacity" not in bare
    doc = plan_document(prod, [*ENRICHERS, policy])
    assert doc["policy"] == {"violations": 1} and "cost" in doc
    assert plan_markdown(doc).count("policy: something mandatory") == 1


def test_markdown_headline_first_and_details_folded(prod: Capture) -> None:
    text = plan_markdown(plan_document(prod))
    lines = text.splitlines()
    assert lines[0] == "<!-- scalestack:mortgagematch-scaling/prod -->"
    assert lines[2].startswith("## `prod`: $") and "/month" in lines[2] and "0 blocking findings" in lines[2]
    assert "<details><summary>Cost per resource" in text and text.count("<details>") == text.count("</details>")


def test_markdown_cap_holds_on_a_huge_plan(dev: Capture) -> None:
    resources = [factory.resource("aws:ec2/eip:Eip", f"eip-{i:05d}-" + "x" * 60, module="network") for i in range(3000)]
    text = plan_markdown(plan_document(factory.capture(dev.config, resources)))
    assert len(text) <= COMMENT_LIMIT
    assert "**truncated**" in text and text.count("<details>") == text.count("</details>")
    assert text.startswith("<!-- scalestack:") and "$10,950.00/month" in text  # headline survives: 3000 x 3.65


def test_stack_export_has_pulumi_shape_and_round_trips(prod: Capture) -> None:
    doc = json.loads(json.dumps(stack_export(prod, time="2026-12-04T00:00:00+00:00")))
    assert doc["version"] == 3 and set(doc["deployment"]["manifest"]) == {"time", "magic", "version"}
    res = doc["deployment"]["resources"]
    vpc = next(r for r in res if r["type"] == "aws:ec2/vpc:Vpc")
    assert vpc["id"].startswith("vpc-") and vpc["custom"] and vpc["parent"].endswith("::network")
    assert vpc["outputs"]["arn"].startswith("arn:aws:ec2:us-east-1:") and vpc["outputs"]["cidrBlock"] == vpc["inputs"]["cidrBlock"]
    assert {"urn", "custom", "type", "inputs", "outputs", "dependencies", "propertyDependencies"} <= set(vpc)
    assert any(r["type"] == "pulumi:providers:aws" for r in res) and all(r.get("provider", "::").count("::") >= 1 for r in res)
    seen: set[str] = set()
    for r in res:  # snapshot integrity: parent, provider and dependencies come first
        assert all(u in seen for u in (r.get("parent"), r.get("provider", "").rsplit("::", 1)[0], *r["dependencies"]) if u), r["urn"]
        seen.add(r["urn"])
    plan = plan_document(prod, [])["resources"]
    keys = ("urn", "type", "name", "parent", "custom", "protect", "dependencies", "inputs")
    by_urn = {r["urn"]: {k: r[k] for k in keys} for r in imported_resources(doc)}
    assert len(by_urn) == len(plan) and all(by_urn[r["urn"]] == {k: r[k] for k in keys} for r in plan)


def _secret_program() -> None:
    import pulumi_aws as aws

    from infra.program import main

    main()
    aws.secretsmanager.SecretVersion("leak-check", secret_id="app-secret", secret_string=pulumi.Output.secret(SENTINEL))


def test_no_secret_value_in_any_format() -> None:
    capture = run_stack(REPO_ROOT, "dev", program=_secret_program)
    leak = capture.one("aws:secretsmanager/secretVersion:SecretVersion")
    assert leak.inputs["secretString"] == PLACEHOLDER and leak.state()["secretString"] == PLACEHOLDER
    doc = plan_document(capture)
    export = stack_export(capture)
    exported = next(r for r in export["deployment"]["resources"] if r["urn"] == leak.urn)
    assert exported["inputs"]["secretString"] == {SIG_KEY: SECRET_SIG, "plaintext": json.dumps(PLACEHOLDER)}
    from scalestack.diff import diff_documents, diff_markdown

    changes = diff_documents(plan_document(factory.capture(capture.config, [])), doc)
    assert any(a["key"].endswith("::leak-check") for a in changes["added"])
    texts = [json.dumps(doc), plan_markdown(doc), json.dumps(export), json.dumps(changes), diff_markdown(changes)]
    from rich.console import Console

    from scalestack.plan import render_table

    console = Console(record=True, width=200)
    render_table(capture, console, doc)
    texts.append(console.export_text())
    for text in texts:
        assert SENTINEL not in text


def test_cli_plan_formats(tmp_path: Path) -> None:
    for fmt in ("markdown", "stack-export"):
        out = tmp_path / f"dev.{fmt}"
        result = runner.invoke(app, ["plan", "dev", "--format", fmt, "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 1000
    result = runner.invoke(app, ["plan", "dev"])
    assert "Monthly cost $" in result.stdout and "network-nat-us-east-1a" in result.stdout


# The shape `pulumi stack import` accepts (pulumi/pulumi sdk/go/common/apitype DeploymentV3,
# ResourceV3, ManifestV1, SecretV1) and the checks its snapshot integrity pass makes.
DEPLOYMENT_KEYS = {"manifest", "secrets_providers", "resources", "pending_operations", "metadata"}
RESOURCE_KEYS = {
    "urn", "custom", "delete", "id", "type", "inputs", "outputs", "parent", "protect", "external", "dependencies", "initErrors", "provider",
    "propertyDependencies", "pendingReplacement", "additionalSecretOutputs", "aliases", "customTimeouts", "importID", "retainOnDelete",
    "deletedWith", "created", "modified", "sourcePosition", "ignoreChanges", "replaceOnChanges",
}  # fmt: skip


def _secrets(value: object) -> list[dict[str, object]]:
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return [value]
        return [s for v in value.values() for s in _secrets(v)]
    if isinstance(value, list):
        return [s for v in value for s in _secrets(v)]
    return []


def integrity_errors(doc: dict[str, object]) -> list[str]:
    """What `pulumi stack import` would refuse: unknown fields, a bad magic cookie, a
    secret without exactly one of ciphertext/plaintext, a component with an id, a custom
    resource without a provider reference ``<provider urn>::<provider id>`` to a provider
    listed before it, and a parent or (property) dependency listed after the resource."""
    import hashlib

    dep = doc["deployment"]
    assert isinstance(dep, dict)
    errors = [f"deployment.{k}" for k in set(dep) - DEPLOYMENT_KEYS]
    manifest = dep["manifest"]
    if manifest["magic"] != hashlib.sha256(manifest["version"].encode()).hexdigest():
        errors.append("magic")
    seen: set[str] = set()
    providers: set[str] = set()
    for r in dep["resources"]:
        urn = r["urn"]
        errors += [f"{urn}: field {k}" for k in set(r) - RESOURCE_KEYS]
        if not r["custom"] and r.get("id"):
            errors.append(f"{urn}: component with an id")
        is_provider = r["type"].startswith("pulumi:providers:")
        if is_provider:
            providers.add(f"{urn}::{r.get('id', '')}")
        elif r["custom"] and r.get("provider", "") not in providers:
            errors.append(f"{urn}: provider {r.get('provider')!r} is not a provider listed before it")
        for s in _secrets([r.get("inputs"), r.get("outputs")]):
            if ("ciphertext" in s) == ("plaintext" in s):
                errors.append(f"{urn}: malformed secret")
        prop_deps = [u for us in r.get("propertyDependencies", {}).values() for u in us]
        errors += [f"{urn}: {u} comes after it" for u in (r.get("parent"), *r.get("dependencies", []), *prop_deps) if u and u not in seen]
        seen.add(urn)
    return errors


def test_stack_export_passes_pulumis_integrity_checks(prod: Capture) -> None:
    doc = json.loads(json.dumps(stack_export(prod, time="2026-12-04T00:00:00+00:00")))
    assert integrity_errors(doc) == []
    res = doc["deployment"]["resources"]
    # a resource the program gives no provider runs on the engine's default provider for its package and version
    password = next(r for r in res if r["type"] == "random:index/randomPassword:RandomPassword")
    default = next(r for r in res if r["type"] == "pulumi:providers:random")
    assert default["urn"] == "urn:pulumi:prod::mortgagematch-scaling::pulumi:providers:random::default_4_21_4"
    assert password["provider"] == f"{default['urn']}::{default['id']}" and default["inputs"] == {"version": "4.21.4"}
    assert "parent" not in default and sum(r["type"] == "pulumi:providers:random" for r in res) == 1


def test_stack_export_orders_property_dependencies_first(dev: Capture) -> None:
    later = factory.resource("aws:sqs/queue:Queue", "z-dlq", {"name": "dlq"})
    first = factory.resource("aws:sqs/queue:Queue", "a-main", {"name": "main", "redrivePolicy": "{}"})
    first.property_dependencies = {"redrivePolicy": [later.urn]}  # a property dependency the SDK did not repeat in dependencies
    doc = stack_export(factory.capture(dev.config, [first, later]))
    assert [e for e in integrity_errors(doc) if f"{later.urn} comes after" in e] == []
