"""Every alarm function under mocks, with fake dimension values: namespace, metric,
dimensions, statistic, threshold, period, evaluation, actions; the anomaly band; the
dashboard; cost controls wired to the topics. The stack lives in eu-west-1 so CloudFront
alarms and Cost Anomaly Detection must use us-east-1 and topics there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.monitoring import metrics as m
from components.monitoring.alarms import cache_member_ids
from components.monitoring.alerting import AlertTopics, AlertTopicsArgs
from components.monitoring.cost_controls import AnomalyArgs, BudgetArgs, CostControls, CostControlsArgs
from components.monitoring.dashboard import dashboard_body
from components.monitoring.registry import MonitoringRegistry
from infra.config import load_from_pulumi
from infra.providers import make_providers, opts_for
from scalestack import catalog
from scalestack.offline import Capture, CapturedResource, run_stack
from tests.conftest import shipped_config, write_stack

NS = "mortgagematch-scaling"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
LB, TG = "app/web-lb/0123456789abcdef", "targetgroup/web-tg/fedcba9876543210"
FAKE = {
    "lb": LB,
    "tg": TG,
    "web_group": "web-asg-1a2b3c",
    "worker_group": "workers-asg-4d5e6f",
    "queue": "jobs-7a8b9c",
    "dlq": "jobs-dlq-0d1e2f",
    "db": "db-primary",
    "replicas": ["db-replica-1", "db-replica-2"],
    "proxy": "db-proxy-1",
    "rg": "cache-rg",
    "distribution": "E2QWRUHAPOMQZL",
}
DB_CLASS = "db.r7g.large"


def _program() -> None:
    config = load_from_pulumi()
    providers = make_providers(config)
    parent = pulumi.ComponentResource("test:index:Tier", "tier", None, opts_for(providers))
    mon = config.monitoring
    subs = mon.subscriptions
    topics = AlertTopics(
        "alerts",
        AlertTopicsArgs(subs.warning_emails, subs.critical_emails, subs.paging_https_endpoints, config.region),
        global_provider=lambda: providers.global_,
        opts=opts_for(providers),
    )
    reg = MonitoringRegistry(mon, config.region, topics, lambda: providers.global_)
    reg.alb(parent, "web-lb", lb_arn_suffix=LB, tg_arn_suffix=TG)
    reg.asg(parent, "web", group_name=FAKE["web_group"], on_demand_base=2, on_demand_pct=25)
    reg.asg(parent, "workers-asg", group_name=FAKE["worker_group"], on_demand_base=0, on_demand_pct=0)
    reg.workers(parent, "workers", queue_name=FAKE["queue"], dlq_name=FAKE["dlq"], group_name=FAKE["worker_group"], backlog_target=100)
    reg.database(parent, "db", instance_id=FAKE["db"], instance_class=DB_CLASS, allocated_storage_gb=100, replica_ids=FAKE["replicas"])
    reg.proxy(parent, "proxy", proxy_name=FAKE["proxy"])
    reg.cache(parent, "cache", member_cluster_ids=cache_member_ids(FAKE["rg"], shards=1, nodes_per_shard=2, cluster_mode=False))
    reg.cdn(parent, "cdn", distribution_id=FAKE["distribution"])
    pulumi.export("dashboard", pulumi.Output.json_dumps(dashboard_body(reg.watched)))
    pulumi.export("rollback", reg.alarms[0].rollback_alarm_names)
    CostControls(
        "cost",
        CostControlsArgs(
            budget=BudgetArgs(1234.5, {"cost-center": "cc-9", "environment": "prod"}),
            anomaly=AnomalyArgs(monitor="tag", threshold_usd=50, threshold_pct=10, tag=("cost-center", "cc-9")),
            stack="t",
        ),
        routing=topics.routing,
        global_provider=providers.global_,
        global_routing=topics.for_global(),
        opts=opts_for(providers),
    )


@pytest.fixture(scope="module")
def cap(tmp_path_factory: pytest.TempPathFactory) -> Capture:
    project: Path = tmp_path_factory.mktemp("mon")
    config = shipped_config("prod")
    config["aws:region"] = "eu-west-1"
    config[f"{NS}:monitoring"] = {
        "subscriptions": {"warning_emails": ["ops@example.com"], "paging_https_endpoints": ["https://events.pagerduty.com/integration/abc/enqueue"]},
        "thresholds": {"alb": {"error_rate_pct": 2.5, "p99_latency_s": 0.8}, "database": {"connections_pct": 75}},
        "anomaly": {"band_width": 2.5},
    }
    write_stack(project, "mon", config)
    return run_stack(project, "mon", program=_program)


def alarm(cap: Capture, name: str) -> dict[str, Any]:
    return cap.find(name).inputs


def topic_arn(cap: Capture, name: str) -> str:
    return cap.find(name).id


def queries(inputs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {q["id"]: q for q in inputs["metricQueries"]}


def test_topics_are_encrypted_with_a_rotating_key_and_publishers_allowed(cap: Capture) -> None:
    key = cap.find("alerts-key")
    assert key.inputs["enableKeyRotation"] is True
    policy = json.loads(key.inputs["policy"])
    services = next(s for s in policy["Statement"] if s["Sid"] == "AlertPublishers")["Principal"]["Service"]
    assert {"cloudwatch.amazonaws.com", "budgets.amazonaws.com", "costalerts.amazonaws.com"} <= set(services)
    for severity in ("warning", "critical"):
        topic = cap.find(f"alerts-{severity}")
        assert topic.inputs["kmsMasterKeyId"] == f"arn:aws:kms:eu-west-1:123456789012:key/{key.id}"
        doc = json.loads(cap.find(f"alerts-{severity}-policy").inputs["policy"])
        publish = next(s for s in doc["Statement"] if s["Sid"] == "AlertPublishers")
        assert {"cloudwatch.amazonaws.com", "budgets.amazonaws.com", "costalerts.amazonaws.com"} <= set(publish["Principal"]["Service"])
        assert publish["Resource"] == topic.id and publish["Action"] == "SNS:Publish"


def test_subscriptions_from_config(cap: Capture) -> None:
    subs = [r.inputs for r in cap.by_type("aws:sns/topicSubscription:TopicSubscription") if not r.name.startswith("alerts-global")]
    assert {(s["protocol"], s["endpoint"], s["topic"]) for s in subs} == {
        ("email", "ops@example.com", topic_arn(cap, "alerts-warning")),
        ("https", "https://events.pagerduty.com/integration/abc/enqueue", topic_arn(cap, "alerts-critical")),
    }


def _assert_common(a: dict[str, Any], cap: Capture, severity: str, missing: str, periods: int = 5, datapoints: int = 3) -> None:
    warning, critical = topic_arn(cap, "alerts-warning"), topic_arn(cap, "alerts-critical")
    expected = [critical, warning] if severity == "critical" else [warning]
    assert a["alarmActions"] == expected and a["okActions"] == expected
    assert a["treatMissingData"] == missing
    assert (a["evaluationPeriods"], a["datapointsToAlarm"]) == (periods, datapoints)


def test_alb_alarms(cap: Capture) -> None:
    rate = alarm(cap, "web-lb-error_rate")
    q = queries(rate)
    assert q["error_rate"]["expression"] == "100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / requests" and q["error_rate"]["returnData"] is True
    for qid, metric in (("target5xx", "HTTPCode_Target_5XX_Count"), ("elb5xx", "HTTPCode_ELB_5XX_Count"), ("requests", "RequestCount")):
        assert q[qid]["metric"] == {"namespace": "AWS/ApplicationELB", "metricName": metric, "dimensions": {"LoadBalancer": LB}, "period": 60, "stat": "Sum"}
        assert q[qid]["returnData"] is False
    assert rate["threshold"] == 2.5 and rate["comparisonOperator"] == "GreaterThanThreshold"
    _assert_common(rate, cap, "critical", "notBreaching")
    latency = alarm(cap, "web-lb-latency")
    assert (latency["namespace"], latency["metricName"], latency["extendedStatistic"], latency["period"]) == (
        "AWS/ApplicationELB",
        "TargetResponseTime",
        "p99",
        60,
    )
    assert latency["dimensions"] == {"LoadBalancer": LB} and latency["threshold"] == 0.8 and "statistic" not in latency
    _assert_common(latency, cap, "warning", "notBreaching")
    unhealthy = alarm(cap, "web-lb-unhealthy_hosts")
    assert unhealthy["metricName"] == "UnHealthyHostCount" and unhealthy["statistic"] == "Maximum"
    assert unhealthy["dimensions"] == {"LoadBalancer": LB, "TargetGroup": TG} and unhealthy["threshold"] == 0
    rejected = alarm(cap, "web-lb-rejected_connections")
    assert rejected["metricName"] == "RejectedConnectionCount" and rejected["statistic"] == "Sum"
    _assert_common(rejected, cap, "critical", "notBreaching")


def test_rollback_names_are_the_5xx_and_latency_alarms(cap: Capture) -> None:
    assert cap.stack_outputs["rollback"] == [cap.find("web-lb-error_rate").id, cap.find("web-lb-latency").id]


@pytest.mark.parametrize(
    ("name", "metric", "stat", "operator", "missing"),
    [
        ("web-lb-requests_anomaly", "RequestCount", "Sum", "LessThanLowerOrGreaterThanUpperThreshold", "breaching"),
        ("web-lb-latency_anomaly", "TargetResponseTime", "p99", "GreaterThanUpperThreshold", "notBreaching"),
    ],
)
def test_anomaly_alarms_use_the_band(cap: Capture, name: str, metric: str, stat: str, operator: str, missing: str) -> None:
    a = alarm(cap, name)
    q = queries(a)
    source = next(v for k, v in q.items() if k != "band")
    assert q["band"]["expression"] == f"ANOMALY_DETECTION_BAND({source['id']}, 2.5)"
    assert a["thresholdMetricId"] == "band" and "threshold" not in a
    assert source["metric"]["metricName"] == metric and source["metric"]["stat"] == stat and source["returnData"] is True
    assert a["comparisonOperator"] == operator
    _assert_common(a, cap, "warning", missing, periods=5, datapoints=4)


def test_asg_alarms_and_one_spot_event_rule(cap: Capture) -> None:
    cpu = alarm(cap, "web-cpu")
    assert (cpu["namespace"], cpu["metricName"], cpu["statistic"], cpu["threshold"]) == ("AWS/EC2", "CPUUtilization", "Average", 80)
    assert cpu["dimensions"] == {"AutoScalingGroupName": FAKE["web_group"]}
    _assert_common(cpu, cap, "warning", "missing", periods=10, datapoints=8)
    at_max = alarm(cap, "web-at_max")
    q = queries(at_max)
    assert q["atmax"]["expression"] == "IF(inservice >= maxsize, 1, 0)"
    assert q["maxsize"]["metric"]["metricName"] == "GroupMaxSize" and q["inservice"]["metric"]["metricName"] == "GroupInServiceInstances"
    assert q["inservice"]["metric"]["namespace"] == "AWS/AutoScaling"
    assert at_max["threshold"] == 1 and at_max["comparisonOperator"] == "GreaterThanOrEqualToThreshold"
    _assert_common(at_max, cap, "critical", "missing", periods=15, datapoints=15)
    rules = cap.by_type("aws:cloudwatch/eventRule:EventRule")
    assert [r.name for r in rules] == ["web-spot-events"], "one rule per stack, not per group"
    assert json.loads(rules[0].inputs["eventPattern"]) == {
        "source": ["aws.ec2"],
        "detail-type": ["EC2 Spot Instance Interruption Warning", "EC2 Instance Rebalance Recommendation"],
    }
    assert cap.find("web-spot-events-sns").inputs["arn"] == topic_arn(cap, "alerts-warning")


def test_worker_alarms(cap: Capture) -> None:
    oldest = alarm(cap, "workers-oldest_message")
    assert (oldest["namespace"], oldest["metricName"], oldest["dimensions"]) == ("AWS/SQS", "ApproximateAgeOfOldestMessage", {"QueueName": FAKE["queue"]})
    dlq = alarm(cap, "workers-dlq")
    assert dlq["dimensions"] == {"QueueName": FAKE["dlq"]} and dlq["threshold"] == 0 and dlq["metricName"] == "ApproximateNumberOfMessagesVisible"
    _assert_common(dlq, cap, "warning", "notBreaching", periods=1, datapoints=1)
    backlog = alarm(cap, "workers-backlog")
    q = queries(backlog)
    assert q["backlog"]["expression"] == "visible / IF(inservice > 0, inservice, 1)"
    assert q["inservice"]["metric"]["dimensions"] == {"AutoScalingGroupName": FAKE["worker_group"]}
    assert backlog["threshold"] == 300, "3 x the backlog target of 100"
    _assert_common(backlog, cap, "critical", "notBreaching")


def test_rds_alarms_per_instance_and_replica(cap: Capture) -> None:
    conns = alarm(cap, "db-connections")
    assert conns["threshold"] == round(catalog.postgres_max_connections(DB_CLASS) * 0.75)
    assert (conns["namespace"], conns["metricName"], conns["dimensions"]) == ("AWS/RDS", "DatabaseConnections", {"DBInstanceIdentifier": FAKE["db"]})
    memory = alarm(cap, "db-freeable_memory")
    assert memory["comparisonOperator"] == "LessThanThreshold"
    assert memory["threshold"] == catalog.rds_classes()[DB_CLASS].memory_gib * 1024**3 * 0.10
    assert alarm(cap, "db-free_storage")["threshold"] == 100 * 1024**3 * 0.10
    for i, replica in enumerate(FAKE["replicas"], start=1):
        lag = alarm(cap, f"db-replica_lag-replica{i}")
        assert lag["dimensions"] == {"DBInstanceIdentifier": replica} and lag["metricName"] == "ReplicaLag" and lag["threshold"] == 30
        _assert_common(lag, cap, "warning", "breaching")
    assert not [r for r in cap.by_type(ALARM) if r.name == "db-replica_lag"], "the primary has no replica lag"


def test_proxy_and_cache_alarms(cap: Capture) -> None:
    borrow = alarm(cap, "proxy-borrow_latency")
    assert (borrow["metricName"], borrow["dimensions"], borrow["threshold"]) == ("DatabaseConnectionsBorrowLatency", {"ProxyName": FAKE["proxy"]}, 100_000)
    assert alarm(cap, "proxy-client_connections")["metricName"] == "ClientConnections"
    for node, member in ((1, "cache-rg-001"), (2, "cache-rg-002")):
        for role, metric in (
            ("engine_cpu", "EngineCPUUtilization"),
            ("memory", "DatabaseMemoryUsagePercentage"),
            ("evictions", "Evictions"),
            ("replication_lag", "ReplicationLag"),
        ):
            a = alarm(cap, f"cache-{role}-node{node}")
            assert (a["namespace"], a["metricName"], a["dimensions"]) == ("AWS/ElastiCache", metric, {"CacheClusterId": member})


def test_cdn_alarm_lives_in_us_east_1_with_topics_there(cap: Capture) -> None:
    a = cap.find("cdn-error_rate")
    assert "aws-global" in a.provider
    assert a.inputs["dimensions"] == {"DistributionId": FAKE["distribution"], "Region": "Global"}
    assert (a.inputs["namespace"], a.inputs["metricName"], a.inputs["statistic"]) == ("AWS/CloudFront", "5xxErrorRate", "Average")
    warning, critical = topic_arn(cap, "alerts-global-warning"), topic_arn(cap, "alerts-global-critical")
    assert warning.startswith("arn:aws:sns:us-east-1:") and a.inputs["alarmActions"] == [critical, warning]


def _dashboard(cap: Capture) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(cap.stack_outputs["dashboard"])
    return body


def _dimension_values(row: list[Any]) -> set[str]:
    if isinstance(row[0], dict):
        return set()
    dims = row[2:-1] if isinstance(row[-1], dict) else row[2:]
    return set(dims[1::2])


def test_dashboard_references_only_registered_resources(cap: Capture) -> None:
    body = _dashboard(cap)
    registered = {
        LB,
        TG,
        FAKE["web_group"],
        FAKE["worker_group"],
        FAKE["queue"],
        FAKE["dlq"],
        FAKE["db"],
        *FAKE["replicas"],
        FAKE["proxy"],
        FAKE["distribution"],
    }
    registered |= {"cache-rg-001", "cache-rg-002", "Global"}
    seen: set[str] = set()
    for widget in body["widgets"]:
        props = widget["properties"]
        assert widget["type"] == "metric" and props["metrics"], props["title"]
        for row in props["metrics"]:
            seen |= _dimension_values(row)
    assert seen == registered
    titles = " | ".join(w["properties"]["title"] for w in body["widgets"])
    for panel in ("Request rate", "Latency p50/p90/p99", "Error rates", "Capacity and spot share", "Worker backlog", "DB CPU", "DB connections", "Replica lag"):
        assert panel in titles
    for panel in ("Cache hit rate", "Cache memory and evictions", "CloudFront requests and cache hit rate"):
        assert panel in titles


def test_dashboard_metrics_come_from_the_shared_definitions(cap: Capture) -> None:
    rows = [row for w in _dashboard(cap)["widgets"] for row in w["properties"]["metrics"] if not isinstance(row[0], dict)]
    defined = {(x.namespace, x.name) for x in vars(m).values() if isinstance(x, m.Metric)}
    assert {(r[0], r[1]) for r in rows} <= defined
    latency = next(w for w in _dashboard(cap)["widgets"] if w["properties"]["title"].startswith("Latency"))
    assert [r[-1]["stat"] for r in latency["properties"]["metrics"]] == ["p50", "p90", "p99"]
    cdn = next(w for w in _dashboard(cap)["widgets"] if w["properties"]["title"].startswith("CloudFront"))
    assert cdn["properties"]["region"] == "us-east-1"


def test_budget_filters_by_tags_and_notifies_the_topics(cap: Capture) -> None:
    budget = cap.one("aws:budgets/budget:Budget").inputs
    assert (budget["budgetType"], budget["timeUnit"], budget["limitAmount"], budget["limitUnit"]) == ("COST", "MONTHLY", "1234.50", "USD")
    tags = {t["tags"]["key"]: t["tags"]["values"] for t in budget["filterExpression"]["ands"]}
    assert tags == {"cost-center": ["cc-9"], "environment": ["prod"]}
    warning, critical = topic_arn(cap, "alerts-warning"), topic_arn(cap, "alerts-critical")
    got = {(n["notificationType"], n["threshold"], tuple(n["subscriberSnsTopicArns"])) for n in budget["notifications"]}
    assert got == {("ACTUAL", 80, (warning,)), ("ACTUAL", 100, (critical,)), ("FORECASTED", 100, (warning,))}


def test_anomaly_detection_in_us_east_1_wired_to_the_topic(cap: Capture) -> None:
    monitor = cap.one("aws:costexplorer/anomalyMonitor:AnomalyMonitor")
    assert "aws-global" in monitor.provider and monitor.inputs["monitorType"] == "CUSTOM"
    assert json.loads(monitor.inputs["monitorSpecification"])["Tags"] == {"Key": "cost-center", "Values": ["cc-9"], "MatchOptions": ["EQUALS"]}
    sub: CapturedResource = cap.one("aws:costexplorer/anomalySubscription:AnomalySubscription")
    assert "aws-global" in sub.provider and sub.inputs["frequency"] == "IMMEDIATE"
    assert sub.inputs["monitorArnLists"] == [monitor.id]
    assert sub.inputs["subscribers"] == [{"type": "SNS", "address": topic_arn(cap, "alerts-global-warning")}]
    ors = sub.inputs["thresholdExpression"]["ors"]
    assert {(o["dimension"]["key"], o["dimension"]["values"][0]) for o in ors} == {
        ("ANOMALY_TOTAL_IMPACT_ABSOLUTE", "50"),
        ("ANOMALY_TOTAL_IMPACT_PERCENTAGE", "10"),
    }
