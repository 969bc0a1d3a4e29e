"""Schema, presets and phases of the typed stack configuration."""

from __future__ import annotations

from typing import Any

import pytest

from infra.config import ENVIRONMENTS, PHASES, ConfigError, SecretValue, parse
from infra.config.presets import SECTION_MODULES, preset_for
from tests.conftest import SHIPPED_STACKS, shipped_config

NS = "mortgagematch-scaling"


def minimal(**sections: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        f"{NS}:environment": "dev",
        f"{NS}:phase": "implementation",
        f"{NS}:tags": {"owner": "me", "cost-center": "cc1"},
    }
    values.update({f"{NS}:{k}": v for k, v in sections.items()})
    return values


def test_shipped_stacks_are_dev_and_prod_at_least() -> None:
    assert {"dev", "prod"} <= set(SHIPPED_STACKS)


@pytest.mark.parametrize("environment", ENVIRONMENTS)
@pytest.mark.parametrize("phase", PHASES)
def test_every_preset_combination_validates(environment: str, phase: str) -> None:
    cfg = parse({**minimal(), f"{NS}:environment": environment, f"{NS}:phase": phase}, [], "Pulumi.t.yaml")
    assert cfg.environment == environment and cfg.phase == phase


def test_presets_only_name_keys_their_section_has() -> None:
    for section, module in SECTION_MODULES.items():
        for table in (module.ENV_DEFAULTS, module.PHASE_DEFAULTS):
            assert set(table) <= set(ENVIRONMENTS) | set(PHASES), section


def test_environment_presets_differ_dev_vs_prod() -> None:
    dev = parse(minimal(), [], "Pulumi.dev.yaml")
    prod = parse({**minimal(), f"{NS}:environment": "prod"}, [], "Pulumi.prod.yaml")
    assert (dev.network.nat_gateways, dev.network.az_count) == ("single", 2)
    assert (prod.network.nat_gateways, prod.network.az_count) == ("per_az", 3)
    assert prod.database.multi_az and not dev.database.multi_az


def test_phase_decides_capabilities_and_stack_file_overrides() -> None:
    assessment = parse({**minimal(), f"{NS}:phase": "assessment"}, [], "x")
    assert not assessment.cache.enabled and not assessment.workers.enabled and not assessment.cdn.enabled
    assert assessment.monitoring.enabled, "assessment measures before it scales"
    implementation = parse(minimal(), [], "x")
    assert implementation.cache.enabled and implementation.workers.enabled
    override = parse({**minimal(cache={"enabled": True}), f"{NS}:phase": "assessment"}, [], "x")
    assert override.cache.enabled
    assert preset_for("prod", "optimization")["cost"]["budgets_enabled"] is True


def test_region_comes_from_aws_namespace() -> None:
    cfg = parse({**minimal(), "aws:region": "eu-west-1"}, [], "x")
    assert cfg.region == "eu-west-1" and cfg.azs == ["eu-west-1a", "eu-west-1b"]


def test_tags_include_environment_and_mandatory_keys() -> None:
    tags = parse(minimal(), [], "x").resource_tags()
    assert {tags["owner"], tags["cost-center"], tags["environment"]} == {"me", "cc1", "dev"}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (minimal(webb={}), f"x: {NS}:webb: unknown key; did you mean 'web'?"),
        (minimal(web={"instance_tpe": "m7g.large"}), f"x: {NS}:web.instance_tpe: unknown key; did you mean 'instance_type'?"),
        (minimal(web={"min_size": 4, "max_size": 2}), f"x: {NS}:web.max_size: must be >= min_size (4), got 2"),
        (minimal(web={"min_size": -1}), f"x: {NS}:web.min_size: must be >= 0, got -1"),
        (minimal(web={"slow_start_s": 10}), f"x: {NS}:web.slow_start_s: must be 0 (off) or 30-900 seconds (the target group's slow start range), got 10"),
        (minimal(network={"az_count": "two"}), f"x: {NS}:network.az_count: must be an integer, got str 'two'"),
        ({**minimal(network={"az_count": 4}), "aws:region": "eu-west-1"}, f"x: {NS}:network.az_count: must be <= 3 (AZs in eu-west-1), got 4"),
        ({**minimal(), f"{NS}:phase": "scaling"}, f"x: {NS}:phase: must be one of 'assessment', 'planning', 'implementation' or 'optimization', got 'scaling'"),
        ({**minimal(), f"{NS}:environment": "qa"}, f"x: {NS}:environment: must be one of 'dev', 'staging' or 'prod', got 'qa'"),
        ({k: v for k, v in minimal().items() if not k.endswith(":tags")}, f"x: {NS}:tags: required key is missing"),
        (
            {**minimal(), "mortgagematch-scalng:web": {}},
            "x: mortgagematch-scalng:web: unknown config namespace 'mortgagematch-scalng'; did you mean 'mortgagematch-scaling'?",
        ),
        (minimal(load={"baseline_rps": 100, "peak_rps": 50}), f"x: {NS}:load.peak_rps: must be >= baseline_rps (100), got 50"),
        (minimal(network={"cidr": "10.0.0.0/8"}), f"x: {NS}:network.cidr: must have a prefix from /16 to /20 (room for 3 subnet tiers x 6 AZs), got /8"),
        (minimal(web={"instance_type": "m7q.large"}), f"x: {NS}:web.instance_type: unknown EC2 instance type 'm7q.large'"),
    ],
)
def test_bad_values_give_one_line_naming_file_key_and_allowed(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse(values, [], "x")
    text = str(err.value)
    assert text.startswith(message)
    assert "\n" not in text


def test_secret_values_never_render() -> None:
    secret = SecretValue("hunter2-very-secret")
    assert "hunter2" not in repr(secret) and "hunter2" not in str(secret) and "hunter2" not in f"{secret}"


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_shipped_stack_files_validate(stack: str) -> None:
    cfg = parse(shipped_config(stack), [], f"Pulumi.{stack}.yaml")
    assert cfg.environment in ENVIRONMENTS
