"""Reserved capacity: capacity reservations cover the prod web baseline across the AZs;
purchases exist only when the stack opts in during optimization, and say what they buy."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from components.reserved import spread
from infra.config.model import ENVIRONMENTS, PHASES
from infra.config.presets import preset_for
from scalestack import capacity
from scalestack.cli import app
from scalestack.offline import Capture, run_stack
from tests.conftest import shipped_config, write_stack
from tests.data_helpers import NS, config_error

RESERVATION = "aws:ec2/capacityReservation:CapacityReservation"
DB_RI = "aws:rds/reservedInstance:ReservedInstance"
CACHE_RI = "aws:elasticache/reservedCacheNode:ReservedCacheNode"


def test_spread_is_even_and_skips_empty_azs() -> None:
    assert spread(7, ["a", "b", "c"]) == {"a": 3, "b": 2, "c": 2}
    assert spread(2, ["a", "b", "c"]) == {"a": 1, "b": 1}
    assert sum(spread(11, ["a", "b"]).values()) == 11


def test_prod_reserves_the_web_baseline_in_every_az(prod: Capture) -> None:
    cfg = prod.config
    baseline = capacity.web_capacity(cfg.load, cfg.web.instance_type, len(cfg.azs), survive_az_loss=True).at_baseline
    found = prod.by_type(RESERVATION)
    assert sum(r.inputs["instanceCount"] for r in found) == baseline >= 3
    assert sorted(r.inputs["availabilityZone"] for r in found) == cfg.azs
    assert all(r.inputs["instanceType"] == "m7g.large" and r.inputs["instanceMatchCriteria"] == "targeted" for r in found)
    assert all(r.inputs["instancePlatform"] == "Linux/UNIX" and r.inputs["endDateType"] == "unlimited" for r in found)
    assert prod.stack_outputs["capacity_reservation_ids"] == [r.id for r in found]


def test_capacity_reservations_are_opt_in(dev: Capture) -> None:
    assert not dev.by_type(RESERVATION)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_purchase_in_shipped_stacks(request: pytest.FixtureRequest, stack: str) -> None:
    capture: Capture = request.getfixturevalue(stack)
    assert not capture.by_type(DB_RI) and not capture.by_type(CACHE_RI)
    assert not any("BUYS" in d for d in capture.diagnostics)


def test_presets_never_buy() -> None:
    for environment in ENVIRONMENTS:
        for phase in PHASES:
            reserved = preset_for(environment, phase).get("reserved", {})
            assert not any(isinstance(v, dict) and v.get("purchase") for v in reserved.values()), (environment, phase)


@pytest.fixture(scope="module")
def bought(tmp_path_factory: pytest.TempPathFactory) -> Capture:
    config = shipped_config("prod")
    config[f"{NS}:reserved"] = {
        "capacity_reservations": {"enabled": True},
        "database": {"purchase": True, "term_years": 3, "payment": "Partial Upfront"},
        "cache": {"purchase": True, "term_years": 1, "payment": "All Upfront"},
    }
    project: Path = tmp_path_factory.mktemp("bought")
    write_stack(project, "bought", config)
    return run_stack(project, "bought")


def test_opted_in_purchases_cover_the_steady_baseline(bought: Capture) -> None:
    db = {r.name: r.inputs for r in bought.by_type(DB_RI)}
    replicas = len([r for r in bought.by_type("aws:rds/instance:Instance") if r.inputs.get("replicateSourceDb")])
    assert {n: i["instanceCount"] for n, i in db.items()} == {"reserved-database-primary": 1, "reserved-database-replicas": replicas}
    assert db["reserved-database-primary"]["offeringId"] != db["reserved-database-replicas"]["offeringId"], "Multi-AZ and single-AZ offerings differ"
    group = bought.one("aws:elasticache/replicationGroup:ReplicationGroup").inputs
    node_count = group["numNodeGroups"] * (group["replicasPerNodeGroup"] + 1)
    nodes = bought.one(CACHE_RI).inputs
    assert nodes["cacheNodeCount"] == node_count == 6 and nodes["reservedCacheNodesOfferingId"]
    assert all(r.custom for r in bought.by_type(DB_RI))


def test_the_plan_says_plainly_what_it_buys(bought: Capture) -> None:
    notices = [d for d in bought.diagnostics if "BUYS" in d]
    assert len(notices) == 3 and all(d.startswith("warning: ") and "cannot be cancelled" in d for d in notices)
    primary = next(d for d in notices if "Multi-AZ" in d)
    assert "1 x db.r7g.xlarge Multi-AZ RDS reserved DB instance (3-year term, Partial Upfront)" in primary
    assert "upfront " in primary and " USD" in primary and "upfront 0.00" not in primary
    assert any("6 x cache.r7g.large ElastiCache reserved node (1-year term, All Upfront)" in d for d in notices)


@pytest.mark.parametrize("phase", ["assessment", "planning", "implementation"])
def test_purchase_outside_optimization_is_refused_in_one_line(phase: str) -> None:
    error = config_error("prod", phase, reserved={"database": {"purchase": True}})
    assert error == (
        f"Pulumi.prod.yaml: mortgagematch-scaling:reserved.database.purchase: may be true only in the optimization phase (this stack is in {phase}), got True"
    )


def test_bad_reserved_input_is_one_line() -> None:
    assert "reserved.cache.term_years: must be one of 1 or 3, got 2" in config_error(
        "prod", "optimization", reserved={"cache": {"purchase": True, "term_years": 2}}
    )
    assert "reserved.cache.purchase: may be true only while cache.enabled is true" in config_error(
        "prod", "optimization", cache={"enabled": False}, reserved={"cache": {"purchase": True}}
    )
    assert "reserved.database.payment: must be one of" in config_error("prod", "optimization", reserved={"database": {"payment": "Monthly"}})


def test_cli_refuses_a_purchase_outside_optimization_with_exit_2(tmp_path: Path) -> None:
    config = shipped_config("dev")
    config[f"{NS}:reserved"] = {"cache": {"purchase": True}}
    write_stack(tmp_path, "buy", config)
    result = CliRunner().invoke(app, ["plan", "buy", "--project-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: Pulumi.buy.yaml: mortgagematch-scaling:reserved.cache.purchase: "
        "may be true only in the optimization phase (this stack is in implementation), got True"
    )


def test_web_group_launches_into_the_reservations_first(prod: Capture) -> None:
    spec = prod.one("aws:autoscaling/group:Group", "web-asg").inputs["capacityReservationSpecification"]
    assert spec["capacityReservationPreference"] == "capacity-reservations-first"
    assert sorted(spec["capacityReservationTarget"]["capacityReservationIds"]) == sorted(r.id for r in prod.by_type(RESERVATION))
    assert "capacityReservationSpecification" not in prod.one("aws:autoscaling/group:Group", "workers-asg").inputs
