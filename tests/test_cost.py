"""Cost estimator: hand-computed figures from the catalogue (month = 730 h)."""

from __future__ import annotations

import pytest

from infra.config import StackConfig
from scalestack import capacity, cost, pricing
from scalestack.offline import Capture
from tests import factory

H = 730
US = pricing.for_region("us-east-1")


def priced(config: StackConfig, *resources: object) -> cost.Estimate:
    return cost.estimate(factory.capture(config, list(resources)))  # type: ignore[arg-type]


def one(est: cost.Estimate, name: str) -> cost.ResourceCost:
    return next(r for r in est.resources.values() if r.name == name)


def test_idle_alb_is_hourly_price_times_730(dev: Capture) -> None:
    idle = dev.config.model_copy(update={"load": dev.config.load.model_copy(update={"baseline_rps": 1e-9, "peak_rps": 1e-9, "job_rate_per_s": 0})})
    est = priced(idle, factory.resource("aws:lb/loadBalancer:LoadBalancer", "alb", {"loadBalancerType": "application"}, module="alb"))
    assert one(est, "alb").monthly_usd == pytest.approx(0.0225 * 730, abs=1e-6)


def test_nat_is_hourly_plus_data(dev: Capture) -> None:
    est = priced(dev.config, factory.resource("aws:ec2/natGateway:NatGateway", "nat", {}, module="network"))
    gb = capacity.usage_volumes(dev.config.load, cdn=False).nat_gb
    assert gb > 0
    assert one(est, "nat").monthly_usd == pytest.approx(0.045 * 730 + 0.045 * gb)


def test_public_ipv4_and_free_resources(dev: Capture) -> None:
    est = priced(dev.config, factory.resource("aws:ec2/eip:Eip", "eip"), factory.resource("aws:ec2/vpc:Vpc", "vpc"))
    assert one(est, "eip").monthly_usd == pytest.approx(0.005 * 730)
    vpc = one(est, "vpc")
    assert vpc.monthly_usd == 0 and vpc.components[0].purchase_option == cost.FREE


def test_multi_az_doubles_the_db_instance_and_storage_is_gp3(dev: Capture) -> None:
    est = priced(dev.config, factory.rds("single", "db.r7g.large", storage=100), factory.rds("multi", "db.r7g.large", multi_az=True, storage=100))
    single, multi = one(est, "single").components, one(est, "multi").components
    assert single[0].monthly_usd == pytest.approx(0.239 * H)
    assert multi[0].monthly_usd == pytest.approx(2 * single[0].monthly_usd)
    assert single[1].monthly_usd == pytest.approx(100 * 0.115) and multi[1].monthly_usd == pytest.approx(100 * 0.23)


def test_replica_inherits_engine_and_performance_insights_beyond_free_tier(dev: Capture) -> None:
    primary = factory.rds("db", "db.r7g.large", engine="mysql")
    replica = factory.rds(
        "db-replica-1", "db.r7g.large", engine=None, replicateSourceDb="db", performanceInsightsEnabled=True, performanceInsightsRetentionPeriod=31
    )
    est = priced(dev.config, primary, replica)
    comps = one(est, "db-replica-1").components
    assert "mysql" in comps[0].name and "replica" in comps[0].name
    assert comps[0].unit_price_usd == pytest.approx(US.rds_hour("db.r7g.large", "mysql", False))
    assert comps[-1].monthly_usd == pytest.approx(2 * 0.0125 * H)  # 2 vCPU, retention > 7 days


def test_rds_reserved_instance_carries_the_discounted_cost_and_covers_the_instance(dev: Capture) -> None:
    from scalestack.mocks import CALLS

    offering = CALLS["aws:rds/getReservedInstanceOffering:getReservedInstanceOffering"](
        {"dbInstanceClass": "db.r7g.large", "duration": 31536000, "multiAz": True, "offeringType": "No Upfront", "productDescription": "postgresql"},
        "us-east-1",
    )
    ri = factory.resource("aws:rds/reservedInstance:ReservedInstance", "ri", {"offeringId": offering["offeringId"], "instanceCount": 1}, module="cost")
    est = priced(dev.config, factory.rds("db", "db.r7g.large", multi_az=True), ri)
    on_demand = 2 * 0.239 * H
    assert one(est, "ri").monthly_usd == pytest.approx(on_demand * (1 - 0.31), rel=1e-4)
    assert one(est, "db").monthly_usd == 0
    assert est.by_purchase_option()[cost.RESERVED] == pytest.approx(on_demand * 0.69, rel=1e-4)


def test_asg_priced_at_expected_average_with_spot_above_base(prod: Capture) -> None:
    cfg = prod.config
    group = factory.asg("web-asg", "web", min_size=3, max_size=40, override_types=["m7g.large", "m6g.large"], base=2, pct=25)
    est = priced(cfg, group)
    n = capacity.expected_web_instances(cfg.load, "m7g.large", 3, 40)
    assert 3 < n < 40  # the average, neither min nor max
    od = 2 + (n - 2) * 0.25
    comps = {c.purchase_option: c for c in one(est, "web-asg").components}
    assert comps[cost.ON_DEMAND].monthly_usd == pytest.approx(od * 0.0816 * H)
    assert comps[cost.SPOT].monthly_usd == pytest.approx((n - od) * 0.0816 * pricing.spot_factor("m7g.large") * H, rel=1e-5)
    assert one(est, "web-asg").tier == "web"


def test_capacity_reservation_billed_once_and_covers_on_demand(prod: Capture) -> None:
    cr = factory.resource("aws:ec2/capacityReservation:CapacityReservation", "cr", {"instanceType": "c7g.large", "instanceCount": 2}, module="workers")
    group = factory.asg("workers-asg", "workers", min_size=2, max_size=2, override_types=["c7g.large"], module="workers")
    est = priced(prod.config, group, cr)
    assert one(est, "cr").monthly_usd == pytest.approx(2 * 0.0725 * H)
    assert one(est, "workers-asg").monthly_usd == 0


def test_cache_nodes_cluster_mode_and_valkey_discount(dev: Capture) -> None:
    rg = factory.resource(
        "aws:elasticache/replicationGroup:ReplicationGroup",
        "cache",
        {"nodeType": "cache.r7g.large", "engine": "valkey", "numNodeGroups": 2, "replicasPerNodeGroup": 1},
    )
    est = priced(dev.config, rg)
    assert one(est, "cache").monthly_usd == pytest.approx(4 * 0.219 * 0.8 * H)
    assert cost.cache_nodes({"numCacheClusters": 3}) == 3


def test_edge_monitoring_and_small_items(dev: Capture) -> None:
    usage = capacity.usage_volumes(dev.config.load, cdn=True)
    est = priced(
        dev.config,
        factory.resource("aws:cloudfront/distribution:Distribution", "cdn"),
        factory.resource("aws:wafv2/webAcl:WebAcl", "waf", {"rules": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}),
        factory.resource("aws:cloudwatch/metricAlarm:MetricAlarm", "cpu", {"metricName": "CPUUtilization"}),
        factory.resource(
            "aws:cloudwatch/metricAlarm:MetricAlarm",
            "anomaly",
            {"thresholdMetricId": "ad1", "metricQueries": [{"id": "ad1", "expression": "ANOMALY_DETECTION_BAND(m1, 2)"}]},
        ),
        factory.resource("aws:cloudwatch/dashboard:Dashboard", "dash"),
        factory.resource("aws:kms/key:Key", "key"),
        factory.resource("aws:secretsmanager/secret:Secret", "secret"),
        factory.resource("aws:eks/cluster:Cluster", "eks"),
        factory.resource("aws:eks/nodeGroup:NodeGroup", "ng", {"instanceTypes": ["m7g.large"], "capacityType": "SPOT", "scalingConfig": {"desiredSize": 3}}),
    )
    assert one(est, "cdn").monthly_usd == pytest.approx(usage.response_gb * 0.085 + usage.requests / 10_000 * 0.01)
    assert one(est, "waf").monthly_usd == pytest.approx(5 + 3 + usage.requests / 1e6 * 0.6)
    assert one(est, "cpu").monthly_usd == pytest.approx(0.10) and one(est, "anomaly").monthly_usd == pytest.approx(0.30)
    assert (one(est, "dash").monthly_usd, one(est, "key").monthly_usd, one(est, "secret").monthly_usd) == pytest.approx((3.0, 1.0, 0.40))
    assert one(est, "eks").monthly_usd == pytest.approx(0.10 * H)
    assert one(est, "ng").monthly_usd == pytest.approx(3 * 0.0816 * pricing.spot_factor("m7g.large") * H, rel=1e-5)


def test_queue_requests_follow_the_job_rate_and_dlq_is_idle(dev: Capture) -> None:
    est = priced(dev.config, factory.resource("aws:sqs/queue:Queue", "jobs"), factory.resource("aws:sqs/queue:Queue", "jobs-dlq"))
    jobs = capacity.average_job_rate(dev.config.load) * capacity.SECONDS_PER_MONTH
    assert one(est, "jobs").monthly_usd == pytest.approx(jobs * 3 / 1e6 * 0.40)
    assert one(est, "jobs-dlq").monthly_usd == 0


def test_missing_price_is_reported_not_guessed(dev: Capture) -> None:
    est = priced(dev.config, factory.rds("db", "db.x2g.large"))
    assert "no RDS price" in one(est, "db").error and est.summary()["errors"]


def test_eu_region_is_priced_from_its_own_figures() -> None:
    eu = pricing.for_region("eu-west-1")
    assert not eu.fallback and eu.ec2_hour("m7g.large") > US.ec2_hour("m7g.large")
    assert pricing.for_region("us-west-2").fallback


def test_dev_costs_less_than_prod(dev: Capture, prod: Capture) -> None:
    assert 0 < cost.estimate(dev).monthly_usd < cost.estimate(prod).monthly_usd


def test_totals_add_up_by_tier_and_purchase_option(prod: Capture) -> None:
    est = cost.estimate(prod)
    assert sum(est.by_tier().values()) == pytest.approx(est.monthly_usd, abs=0.05)
    assert sum(est.by_purchase_option().values()) == pytest.approx(est.monthly_usd, abs=0.05)
    # subnets carry a "tier" tag meaning their subnet tier; it must not become a cost tier
    assert "private" not in est.by_tier()


def test_asg_type_from_launch_template_and_untagged_group_at_desired(dev: Capture) -> None:
    lt = factory.resource("aws:ec2/launchTemplate:LaunchTemplate", "web-lt", {"instanceType": "t4g.small"}, module="web", id_="lt-0abc")
    group = factory.resource(
        "aws:autoscaling/group:Group",
        "batch",
        {"minSize": 1, "maxSize": 10, "desiredCapacity": 2, "launchTemplate": {"id": "lt-0abc", "version": "$Latest"}},
        module="batch",
    )
    est = priced(dev.config, lt, group)
    (comp,) = one(est, "batch").components
    assert (comp.purchase_option, comp.quantity, comp.unit_price_usd) == (cost.ON_DEMAND, 2 * H, 0.0168)
    assert one(est, "batch").tier == "batch"
