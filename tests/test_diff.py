"""``scalestack diff``: property changes, cost headline, verdict changes, and blocking
replacement/deletion of stateful resources (exit 1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from scalestack.cli import app
from scalestack.diff import diff_documents, diff_markdown, headline
from scalestack.offline import Capture
from scalestack.plan import plan_document
from tests import factory

runner = CliRunner()


def db_plan(config: Any, engine: str, storage: int = 100, **extra: Any) -> dict[str, Any]:
    resources = [factory.rds("db", "db.r7g.large", engine=engine, multi_az=True, storage=storage), *extra.get("more", [])]
    return plan_document(factory.capture(config, resources))


def test_primary_db_engine_change_is_a_blocking_replacement(prod: Capture) -> None:
    d = diff_documents(db_plan(prod.config, "postgres"), db_plan(prod.config, "mysql"))
    (change,) = d["changed"]
    assert change["replace"] and change["type"] == "aws:rds/instance:Instance"
    assert {"path": "engine", "before": "postgres", "after": "mysql", "forces_replacement": True} in change["changes"]
    assert len(d["blocking"]) == 1 and "replaces stateful aws:rds/instance:Instance db" in d["blocking"][0]


def test_in_place_change_is_not_blocking_and_deletion_is(prod: Capture) -> None:
    queue = factory.resource("aws:sqs/queue:Queue", "jobs", {"visibilityTimeout": 30}, module="workers")
    grown = diff_documents(db_plan(prod.config, "postgres", more=[queue]), db_plan(prod.config, "postgres", storage=200, more=[queue]))
    assert grown["blocking"] == [] and grown["changed"][0]["changes"][0]["path"] == "allocatedStorage"
    gone = diff_documents(db_plan(prod.config, "postgres", more=[queue]), db_plan(prod.config, "postgres"))
    assert gone["removed"][0]["type"] == "aws:sqs/queue:Queue" and gone["blocking"] == ["deletes stateful aws:sqs/queue:Queue jobs: its data would be lost"]


def test_dev_to_prod_reports_a_cost_increase(dev: Capture, prod: Capture) -> None:
    base, head = plan_document(dev), plan_document(prod)
    d = diff_documents(base, head)
    delta = head["cost"]["monthly_usd"] - base["cost"]["monthly_usd"]
    pct = delta / base["cost"]["monthly_usd"] * 100
    assert delta > 0 and d["headline"] == f"monthly cost will increase by ${delta:,.2f} (+{pct:.0f}%)"
    assert d["cost"]["by_tier"]["network"]["delta"] > 0
    assert any(a["type"] == "aws:ec2/natGateway:NatGateway" for a in d["added"])
    assert not any(a["type"] == "pulumi:pulumi:Stack" for a in d["added"])  # the root matches across stacks
    text = diff_markdown(d)
    assert text.splitlines()[2].startswith("## `prod`: monthly cost will increase by $") and "| **total** |" in text


def test_headline_wording() -> None:
    assert headline(100, 80) == "monthly cost will decrease by $20.00 (-20%)"
    assert headline(100, 100) == "monthly cost will not change ($100.00)"
    assert headline(0, 5) == "monthly cost will increase by $5.00 (new)"


def test_capacity_verdict_changes(prod: Capture) -> None:
    small = plan_document(factory.capture(prod.config, [factory.asg("web", "web", 3, 4, ["m7g.large"])]))
    right = plan_document(factory.capture(prod.config, [factory.asg("web", "web", 3, 1000, ["m7g.large"])]))
    d = diff_documents(small, right)
    assert d["capacity_changes"] == [{"tier": "web", "measure": "instances at peak (max size)", "before": "under-provisioned", "after": "over-provisioned"}]


def test_cli_diff_exit_codes_and_formats(tmp_path: Path, prod: Capture) -> None:
    base, head = tmp_path / "base.json", tmp_path / "head.json"
    base.write_text(json.dumps(db_plan(prod.config, "postgres")))
    head.write_text(json.dumps(db_plan(prod.config, "mysql")))
    result = runner.invoke(app, ["diff", str(base), str(head)])
    assert result.exit_code == 1 and "blocking:" in result.stdout and "forces replacement" in result.stdout
    result = runner.invoke(app, ["diff", str(base), str(base), "--format", "json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["headline"].startswith("monthly cost will not change")
    result = runner.invoke(app, ["diff", str(base), str(head), "--format", "markdown"])
    assert result.exit_code == 1 and ":no_entry:" in result.stdout
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    result = runner.invoke(app, ["diff", str(bad), str(head)])
    assert result.exit_code == 2 and "not a scalestack-plan/1 document" in result.output


def test_replacement_follows_pulumi_aws_7_force_new() -> None:
    """ForceNew in pulumi-aws 7 (terraform-provider-aws v6): an RDS instance is renamed in
    place (ModifyDBInstance NewDBInstanceIdentifier); restoring, the national character
    set, a cache's port and a KMS key's spec/usage/region scope replace the resource."""
    from scalestack.diff import STATEFUL_TYPES, property_changes

    def forces(type_: str, key: str, before: Any, after: Any) -> bool:
        return bool(property_changes(type_, {key: before}, {key: after})[0]["forces_replacement"])

    rds = "aws:rds/instance:Instance"
    assert not forces(rds, "identifier", "mmp-prod", "mmp-prod-2") and not forces(rds, "dbSubnetGroupName", "a", "b")
    assert forces(rds, "ncharCharacterSetName", "AL16UTF16", "UTF8") and forces(rds, "snapshotIdentifier", None, "snap-1")
    assert forces(rds, "engine", "postgres", "mysql") and forces(rds, "kmsKeyId", "k1", "k2") and forces(rds, "storageEncrypted", False, True)
    assert forces("aws:elasticache/replicationGroup:ReplicationGroup", "port", 6379, 6380)
    assert forces("aws:kms/key:Key", "customerMasterKeySpec", "SYMMETRIC_DEFAULT", "RSA_2048") and forces("aws:kms/key:Key", "multiRegion", False, True)
    assert "aws:kms/key:Key" in STATEFUL_TYPES  # replacing or deleting the key strands everything encrypted under it
