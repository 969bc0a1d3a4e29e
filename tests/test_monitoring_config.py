"""Monitoring and cost config: one-line errors for bad input, phase presets, and what the
shipped stacks get (only what exists is watched; a tier that is off has no alarms or panels)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from components.monitoring.dashboard import Watched, dashboard_body
from infra.config import PHASES, ConfigError, parse
from scalestack.offline import Capture
from tests.conftest import plan_variant

NS = "mortgagematch-scaling"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def values(phase: str = "implementation", **sections: Any) -> dict[str, Any]:
    out: dict[str, Any] = {f"{NS}:environment": "prod", f"{NS}:phase": phase, f"{NS}:tags": {"owner": "me", "cost-center": "cc1"}}
    out.update({f"{NS}:{k}": v for k, v in sections.items()})
    return out


BAD: dict[str, tuple[dict[str, Any], str]] = {
    "percent above 100": (
        {"monitoring": {"thresholds": {"alb": {"error_rate_pct": 150}}}},
        "mortgagematch-scaling:monitoring.thresholds.alb.error_rate_pct: must be <= 100.0, got 150",
    ),
    "negative percent": ({"monitoring": {"thresholds": {"cache": {"memory_pct": -1}}}}, "monitoring.thresholds.cache.memory_pct: must be >= 0.0, got -1"),
    "negative latency": ({"monitoring": {"thresholds": {"alb": {"p99_latency_s": -0.5}}}}, "monitoring.thresholds.alb.p99_latency_s: must be > 0.0, got -0.5"),
    "invalid email": (
        {"monitoring": {"subscriptions": {"warning_emails": ["ops-at-example.com"]}}},
        "monitoring.subscriptions.warning_emails: must be an email address like oncall@example.com, got 'ops-at-example.com'",
    ),
    "http endpoint": (
        {"monitoring": {"subscriptions": {"paging_https_endpoints": ["http://pager.example.com/hook"]}}},
        "monitoring.subscriptions.paging_https_endpoints: must be an https:// URL with a host, got 'http://pager.example.com/hook'",
    ),
    "budget zero": ({"cost": {"monthly_budget_usd": 0}}, "mortgagematch-scaling:cost.monthly_budget_usd: must be > 0.0, got 0"),
    "budget negative": ({"cost": {"monthly_budget_usd": -5}}, "cost.monthly_budget_usd: must be > 0.0, got -5"),
    "band zero": ({"monitoring": {"anomaly": {"band_width": 0}}}, "mortgagematch-scaling:monitoring.anomaly.band_width: must be > 0.0, got 0"),
    "m of n": (
        {"monitoring": {"evaluation": {"evaluation_periods": 3, "datapoints_to_alarm": 4}}},
        "monitoring.evaluation.datapoints_to_alarm: must be <= evaluation_periods (3), got 4",
    ),
    "high-resolution period": (
        {"monitoring": {"evaluation": {"period_s": 30}}},
        "monitoring.evaluation.period_s: must be a multiple of 60 seconds (AWS service metrics have 1-minute resolution), got 30",
    ),
    "window over a day": (
        {"monitoring": {"evaluation": {"period_s": 1800, "evaluation_periods": 60}}},
        "monitoring.evaluation.evaluation_periods: must be <= 48 with period_s 1800 (CloudWatch evaluates at most 1 day, 7 days for periods >= 1 h), got 60",
    ),
    "anomaly window over a day": (
        {"monitoring": {"evaluation": {"period_s": 3540, "evaluation_periods": 2, "datapoints_to_alarm": 2}, "anomaly": {"evaluation_periods": 30}}},
        "monitoring.anomaly.evaluation_periods: must be <= 24 with evaluation.period_s 3540 (CloudWatch evaluates at most 1 day, 7 days for periods >= 1 h)"
        ", got 30",
    ),
    "daily digest without email": (
        {"cost": {"anomaly_detection": {"enabled": True, "frequency": "DAILY"}}},
        "cost.anomaly_detection.emails: must list at least one address for DAILY summaries (only IMMEDIATE goes to SNS), got []",
    ),
    "no anomaly threshold": (
        {"cost": {"anomaly_detection": {"threshold_usd": None}}},
        "cost.anomaly_detection.threshold_usd: set threshold_usd or threshold_pct, got neither",
    ),
    "budgets without topics": (
        {"monitoring": {"enabled": False}, "cost": {"budgets_enabled": True}},
        "cost.budgets_enabled: must be false while monitoring.enabled is false (cost alerts go to the alert topics), got True",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_monitoring_and_cost_input_is_one_line(case: str) -> None:
    sections, expected = BAD[case]
    with pytest.raises(ConfigError) as err:
        parse(values(**sections), [], "Pulumi.prod.yaml")
    message = str(err.value)
    assert "\n" not in message and message.startswith("Pulumi.prod.yaml: mortgagematch-scaling:")
    assert message.endswith(expected), message


@pytest.mark.parametrize("phase", PHASES)
def test_monitoring_is_fully_on_in_every_phase(phase: str) -> None:
    cfg = parse(values(phase), [], "x")
    assert cfg.monitoring.enabled and cfg.monitoring.dashboard and cfg.monitoring.anomaly.enabled
    on = phase == "optimization"
    assert (cfg.cost.budgets_enabled, cfg.cost.anomaly_detection.enabled) == (on, on)


def test_cost_controls_earlier_when_config_asks() -> None:
    cfg = parse(values("assessment", cost={"budgets_enabled": True, "anomaly_detection": {"enabled": True, "threshold_pct": 20}}), [], "x")
    assert cfg.cost.budgets_enabled and cfg.cost.anomaly_detection.threshold_pct == 20


def test_dev_implementation_watches_what_exists(dev: Capture) -> None:
    alarms = [a for a in dev.by_type(ALARM) if a.inputs.get("namespace") == "AWS/NATGateway"]
    assert [a.name for a in alarms] == ["network-nat-port_allocation-1"], "dev has one NAT gateway"
    assert alarms[0].inputs["namespace"] == "AWS/NATGateway" and alarms[0].inputs["metricName"] == "ErrorPortAllocation"
    nat = dev.one("aws:ec2/natGateway:NatGateway")
    assert alarms[0].inputs["dimensions"] == {"NatGatewayId": nat.id}
    body = json.loads(dev.one("aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"])
    assert "NAT gateways" in [w["properties"]["title"] for w in body["widgets"]]
    assert not dev.by_type("aws:budgets/budget:Budget") and not dev.by_type("aws:costexplorer/anomalyMonitor:AnomalyMonitor")
    assert dev.one("mortgagematch:monitoring:AlertTopics")


def test_prod_optimization_has_budget_and_anomaly_detection(prod: Capture) -> None:
    budget = prod.one("aws:budgets/budget:Budget").inputs
    assert budget["limitAmount"] == "20000.00"
    assert {t["tags"]["key"]: t["tags"]["values"] for t in budget["filterExpression"]["ands"]} == {"cost-center": ["cc-1042"], "environment": ["prod"]}
    monitor = prod.one("aws:costexplorer/anomalyMonitor:AnomalyMonitor")
    assert monitor.inputs["monitorType"] == "CUSTOM" and "aws-global" in monitor.provider, "one SERVICE monitor per account: watch the stack's tag"
    spec = json.loads(monitor.inputs["monitorSpecification"])
    assert spec["Tags"] == {"Key": "cost-center", "Values": ["cc-1042"], "MatchOptions": ["EQUALS"]}
    assert len([a for a in prod.by_type(ALARM) if a.inputs.get("namespace") == "AWS/NATGateway"]) == 3, "one NAT gateway per AZ"


def test_monitoring_off_removes_alarms_dashboard_and_topics(tmp_path: Path) -> None:
    cap = plan_variant(tmp_path, "dev", {"monitoring": {"enabled": False}})
    for kind in ("aws:cloudwatch/dashboard:Dashboard", "aws:sns/topic:Topic", "mortgagematch:monitoring:AlertTopics"):
        assert not cap.by_type(kind), kind
    notifying = [a for a in cap.by_type(ALARM) if any(":sns:" in str(action) for action in a.inputs.get("alarmActions", []))]
    assert not notifying, "only scaling alarms (which act on scaling policies) remain"


def test_unregistered_tier_has_no_panels() -> None:
    db = Watched("database", "db", {"DBInstanceIdentifier": "db-1"}, "us-east-1", members=[{"DBInstanceIdentifier": "db-2"}])
    alb = Watched("alb", "web", {"LoadBalancer": "app/x/1", "TargetGroup": "targetgroup/x/2"}, "us-east-1")
    with_db = {w["properties"]["title"] for w in dashboard_body([alb, db])["widgets"]}
    without_db = {w["properties"]["title"] for w in dashboard_body([alb])["widgets"]}
    assert {"DB CPU: db", "DB connections: db", "Replica lag: db"} == with_db - without_db
    assert not any("DB" in t or "Cache" in t for t in without_db)
    json.dumps(dashboard_body([alb, db]))


def _alarm_window(inputs: dict[str, Any]) -> tuple[int, int]:
    period = inputs.get("period") or max(q["metric"]["period"] for q in inputs["metricQueries"] if q.get("metric"))
    return period, inputs["evaluationPeriods"]


def test_every_alarm_window_fits_cloudwatchs_limit_for_long_periods(tmp_path: Path) -> None:
    """PutMetricAlarm rejects period x evaluation periods over 1 day (7 days for periods of
    an hour or more): the alarms with their own longer windows (group CPU, at max) too."""
    evaluation = {"period_s": 86400, "evaluation_periods": 1, "datapoints_to_alarm": 1}
    capture = plan_variant(tmp_path, "dev", {"monitoring": {"evaluation": evaluation}})
    alarms = capture.by_type(ALARM)
    assert alarms
    for alarm in alarms:
        period, periods = _alarm_window(alarm.inputs)
        assert period * periods <= (86400 if period < 3600 else 604800), (alarm.name, period, periods)
