"""Scaling config: the phase table as policies, bad input as one line, and the
AutoScalingGroup component on its own (warm pool, rollback alarms, refusals)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from components.autoscaling import AutoScalingGroup, AutoScalingGroupArgs, WarmPoolSpec
from infra.config import PHASES, ConfigError, parse
from infra.wiring.groups import policy_kinds
from scalestack import REPO_ROOT, capacity
from scalestack.cli import app
from scalestack.offline import Capture, run_stack
from tests.conftest import shipped_config, write_stack

NS = "mortgagematch-scaling"
PHASE_POLICIES = {
    "assessment": set(),
    "planning": {"predictive-ForecastOnly"},
    "implementation": {"requests-tracking", "cpu-tracking", "step", "scheduled", "predictive-ForecastAndScale"},
    "optimization": {"requests-tracking", "cpu-tracking", "step", "scheduled", "predictive-ForecastAndScale"},
}


def minimal(phase: str = "implementation", environment: str = "dev", **sections: Any) -> dict[str, Any]:
    values: dict[str, Any] = {f"{NS}:environment": environment, f"{NS}:phase": phase, f"{NS}:tags": {"owner": "me", "cost-center": "cc1"}}
    values.update({f"{NS}:{k}": v for k, v in sections.items()})
    return values


@pytest.mark.parametrize("environment", ["dev", "prod"])
@pytest.mark.parametrize("phase", PHASES)
def test_each_phase_turns_on_exactly_its_policies(phase: str, environment: str) -> None:
    cfg = parse(minimal(phase, environment), [], "x")
    assert policy_kinds(cfg.web) == PHASE_POLICIES[phase]
    assert (cfg.web.spot_pct > 0) is (phase == "optimization"), "spot mix: opt-in in implementation, on in optimization"
    if cfg.workers.enabled:
        assert policy_kinds(cfg.workers) == {"backlog-tracking"}
    else:
        assert phase in ("assessment", "planning")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_planned_policies_match_the_config(stack: str, request: pytest.FixtureRequest) -> None:
    capture: Capture = request.getfixturevalue(stack)
    planned = {r.name.removeprefix("web-") for r in capture.by_type("aws:autoscaling/policy:Policy") if r.name.startswith("web-")}
    planned |= {"scheduled"} if capture.by_type("aws:autoscaling/schedule:Schedule") else set()
    expected = {k.replace("step", "cpu-step").replace("predictive-ForecastAndScale", "predictive") for k in policy_kinds(capture.config.web)}
    assert planned == expected == {"requests-tracking", "cpu-tracking", "cpu-step", "scheduled", "predictive"}


def test_planning_phase_forecasts_only_and_assessment_is_fixed(tmp_path: Path) -> None:
    config = shipped_config("dev")
    config[f"{NS}:phase"] = "planning"
    for key in ("web", "workers"):
        config[f"{NS}:{key}"] = {"instance_type": "t4g.small"}
    write_stack(tmp_path, "planning", config)
    capture = run_stack(tmp_path, "planning")
    (policy,) = capture.by_type("aws:autoscaling/policy:Policy")
    assert policy.inputs["predictiveScalingConfiguration"]["mode"] == "ForecastOnly"
    assert not capture.by_type("aws:autoscaling/schedule:Schedule") and not capture.by_type("aws:sqs/queue:Queue")
    group = capture.find("web-asg").inputs
    assert group["mixedInstancesPolicy"]["instancesDistribution"]["onDemandPercentageAboveBaseCapacity"] == 100


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        ({"web": {"instance_types": ["m7q.large"]}}, f"x: {NS}:web.instance_types.0: unknown EC2 instance type 'm7q.large'"),
        (
            {"web": {"instance_types": ["m7i.large"]}},
            f"x: {NS}:web.instance_types.0: must match the AMI architecture arm64 of t4g.small, got m7i.large (x86_64)",
        ),
        ({"web": {"architecture": "x86_64"}}, f"x: {NS}:web.instance_type: must be an x86_64 type (the AMI architecture), got t4g.small (arm64)"),
        ({"web": {"spot_pct": 101}}, f"x: {NS}:web.spot_pct: must be <= 100, got 101"),
        ({"workers": {"spot_pct": -5}}, f"x: {NS}:workers.spot_pct: must be >= 0, got -5"),
        ({"web": {"max_size": 3, "on_demand_base": 5}}, f"x: {NS}:web.on_demand_base: must be <= max_size (3), got 5"),
        ({"web": {"on_demand_base": 500}}, f"x: {NS}:web.on_demand_base: must be <= max_size ("),
        (
            {"web": {"scaling": {"scheduled": {"business_hours_start": "0 25 * * *"}}}},
            f"x: {NS}:web.scaling.scheduled.business_hours_start: cron field '25' must stay within 0-23",
        ),
        (
            {"web": {"scaling": {"scheduled": {"business_hours_end": "every day"}}}},
            f"x: {NS}:web.scaling.scheduled.business_hours_end: must be a 5-field cron expression",
        ),
        ({"web": {"scaling": {"scheduled": {"time_zone": "Mars/Olympus"}}}}, f"x: {NS}:web.scaling.scheduled.time_zone: must be an IANA time zone"),
        ({"workers": {"acceptable_latency_s": 0}}, f"x: {NS}:workers.acceptable_latency_s: must be > 0.0, got 0"),
        ({"load": {"seconds_per_job": -1}}, f"x: {NS}:load.seconds_per_job: must be > 0.0, got -1"),
        (
            {"web": {"spot_pct": 50, "warm_pool": {"enabled": True}}},
            f"x: {NS}:web.warm_pool.enabled: must be false while spot_pct > 0 (warm pools cannot hold spot instances), got spot_pct 50",
        ),
        (
            {"web": {"instance_type": "t4g.micro", "spot_pct": 50}},
            f"x: {NS}:web.instance_types: must list at least 3 arm64 alternatives to t4g.micro for a spot mix, got 1",
        ),
        ({"workers": {"job_timeout_s": 600, "visibility_timeout_s": 300}}, f"x: {NS}:workers.visibility_timeout_s: must be > job_timeout_s (600), got 300"),
        ({"web": {"certificate_arn": "arn:aws:iam::1:cert"}}, f"x: {NS}:web.certificate_arn: must be an ACM certificate ARN"),
        ({"web": {"max_instance_lifetime_s": 3600}}, f"x: {NS}:web.max_instance_lifetime_s: must be 0 or 86400-31536000, got 3600"),
    ],
)
def test_bad_scaling_input_is_one_line(sections: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse(minimal(**sections), [], "x")
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_cli_refuses_warm_pool_with_spot_in_one_line(tmp_path: Path) -> None:
    config = shipped_config("prod")
    config[f"{NS}:web"] = {**config[f"{NS}:web"], "warm_pool": {"enabled": True}}
    write_stack(tmp_path, "bad", config)
    result = CliRunner().invoke(app, ["plan", "bad", "--project-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: Pulumi.bad.yaml: {NS}:web.warm_pool.enabled: must be false while spot_pct > 0 (warm pools cannot hold spot instances), got spot_pct 70"
    )


def _component_program(**overrides: Any) -> Any:
    def program() -> None:
        args = dict(tier="jobs", subnet_ids=["subnet-1", "subnet-2"], security_group_ids=["sg-1"], instance_type="m7i.large", min_size=1, max_size=4)
        args.update(overrides)
        AutoScalingGroup("solo", AutoScalingGroupArgs(**args), opts=pulumi.ResourceOptions())

    return program


def test_component_alone_warm_pool_launches_template_and_rollback_alarms_wire_in() -> None:
    capture = run_stack(REPO_ROOT, "dev", program=_component_program(warm_pool=WarmPoolSpec(min_size=2), rollback_alarm_names=["web-5xx", "web-latency"]))
    group = capture.find("solo-asg").inputs
    assert "mixedInstancesPolicy" not in group and group["launchTemplate"]["id"] == capture.find("solo-lt").id
    assert group["warmPool"] == {"minSize": 2, "poolState": "Stopped", "instanceReusePolicy": {"reuseOnScaleIn": True}}
    assert group["instanceRefresh"]["preferences"]["alarmSpecification"] == {"alarms": ["web-5xx", "web-latency"]}
    assert {"key": "tier", "value": "jobs", "propagateAtLaunch": True} in group["tags"]
    assert capture.find("solo-lt").inputs["imageId"].startswith("ami-0"), "x86_64 AMI from the SSM public parameter"
    assert not capture.by_type("aws:autoscaling/policy:Policy"), "no policies unless asked"
    assert group["capacityRebalance"] is False, "capacity rebalancing only matters with spot"


def test_component_refuses_warm_pool_with_spot_and_base_above_max() -> None:
    base = dict(tier="t", subnet_ids=[], security_group_ids=[], instance_type="m7g.large", min_size=1, max_size=4)
    with pytest.raises(ValueError, match="warm pool cannot hold spot"):
        AutoScalingGroupArgs(**base, spot_pct=50, warm_pool=WarmPoolSpec())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="on-demand base 5 exceeds max size 4"):
        AutoScalingGroupArgs(**base, on_demand_base=5)  # type: ignore[arg-type]


@given(st.integers(0, 50), st.integers(0, 50), st.integers(0, 100), st.booleans())
def test_group_sizes_respect_the_model_and_overrides(model_min: int, extra: int, spot: int, set_base: bool) -> None:
    from infra.config.sections.web import Web

    model = capacity.GroupCapacity(at_peak=model_min + extra, with_az_loss=model_min + extra, at_baseline=max(1, model_min), per_instance=100.0)
    group = Web(spot_pct=spot, instance_type="m7g.large", on_demand_base=1 if set_base else None)
    sizes = capacity.group_sizes(group, model)
    assert sizes.min_size == model.min_size and sizes.max_size == model.max_size >= sizes.min_size
    assert sizes.on_demand_base == (1 if set_base else sizes.min_size)
    assert sizes.min_size <= sizes.business_hours_min <= sizes.max_size
