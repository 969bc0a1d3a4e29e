"""Capacity verdicts per tier: required (capacity model) vs configured (the plan)."""

from __future__ import annotations

import pytest

from infra.config import StackConfig
from scalestack import capacity
from scalestack.capacity_report import assess
from scalestack.offline import Capture
from tests import factory


def verdicts(config: StackConfig, *resources: object) -> dict[tuple[str, str], capacity.TierVerdict]:
    return {(v.tier, v.measure): v for v in assess(factory.capture(config, list(resources)))}  # type: ignore[arg-type]


def test_verdict_thresholds() -> None:
    assert capacity.verdict(10, 9) == capacity.UNDER
    assert capacity.verdict(10, 10) == capacity.RIGHT
    assert capacity.verdict(10, 25) == capacity.RIGHT  # 40 % utilisation is the edge (COST06-BP03)
    assert capacity.verdict(10, 26) == capacity.OVER
    assert capacity.verdict(0, 0) == capacity.RIGHT


def test_web_group_against_peak_with_one_az_lost(prod: Capture) -> None:
    cfg = prod.config
    need = capacity.web_capacity(cfg.load, "m7g.large", cfg.network.az_count, survive_az_loss=True)
    v = verdicts(cfg, factory.asg("web", "web", 3, need.max_size - 1, ["m7g.large"]))[("web", "instances at peak (max size)")]
    assert (v.required, v.configured, v.verdict) == (need.max_size, need.max_size - 1, capacity.UNDER)
    assert f"one AZ lost {need.with_az_loss}" in v.note
    ok = verdicts(cfg, factory.asg("web", "web", 3, need.max_size, ["m7g.large"]))[("web", "instances at peak (max size)")]
    assert ok.verdict == capacity.RIGHT


def test_workers_replicas_proxy_and_cache(prod: Capture) -> None:
    cfg = prod.config
    replicas = capacity.read_replicas(cfg.load, "db.r7g.xlarge")
    assert replicas >= 1
    vs = verdicts(
        cfg,
        factory.asg("workers", "workers", 2, 400, ["c7g.large"], module="workers"),
        factory.asg("web", "web", 3, 80, ["m7g.large"]),
        factory.rds("db", "db.r7g.xlarge", multi_az=True),
        factory.resource(
            "aws:elasticache/replicationGroup:ReplicationGroup",
            "cache",
            {"nodeType": "cache.r7g.large", "engine": "valkey", "numNodeGroups": 3, "replicasPerNodeGroup": 1},
        ),
    )
    assert vs[("workers", "instances at peak (max size)")].verdict == capacity.OVER
    rep = vs[("database", "read replicas")]
    assert (rep.required, rep.configured, rep.verdict) == (replicas, 0, capacity.UNDER)
    proxy = vs[("database", "RDS Proxy")]
    assert proxy.required == 1 and proxy.verdict == capacity.UNDER  # 480 instances x 10 connections
    cache = vs[("cache", "usable memory GB")]
    assert cache.required == pytest.approx(18 * 1.3) and cache.configured == pytest.approx(3 * 13.07 * 0.75, rel=0.01)
    assert cache.verdict == capacity.RIGHT and cache.note == "6 nodes"


def test_usage_volumes_hand_computed(dev: Capture) -> None:
    load = dev.config.load  # baseline 20, peak 120 rps, 40 KB responses
    avg = 20 * 20 / 24 + 120 * 4 / 24
    assert capacity.average_rps(load) == pytest.approx(avg)
    u = capacity.usage_volumes(load, cdn=True, workers=0)
    assert u.requests == pytest.approx(avg * 730 * 3600)
    assert u.cloudfront_gb == pytest.approx(u.requests * 40 / 1024**2) and u.nat_gb == pytest.approx(0.1 * u.cloudfront_gb)
    assert u.alb_lcu == pytest.approx(max(avg / 10 / 25, avg * 3600 * 40 / 1024**2))
    assert capacity.usage_volumes(load, cdn=False).cloudfront_gb == 0


def test_expected_instances_between_min_and_max(prod: Capture) -> None:
    n = capacity.expected_web_instances(prod.config.load, "m7g.large", 3, 80)
    assert 3 < n < 80
    assert capacity.expected_web_instances(prod.config.load, "m7g.large", 50, 80) == 50  # min dominates
