"""Each tier component owns its alarms: the ALB, the groups and the workers register with
the monitoring tier, and the instance refresh rolls back on the ALB's 5xx/latency alarms."""

from __future__ import annotations

import json

from scalestack.offline import Capture

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def alarms_of(capture: Capture, component_urn: str) -> dict[str, dict]:
    return {a.name: a.inputs for a in capture.by_type(ALARM) if a.parent == component_urn}


def test_alb_owns_its_alarms_and_refresh_rolls_back_on_them(prod: Capture) -> None:
    alb = prod.one("mortgagematch:web:LoadBalancer")
    alarms = alarms_of(prod, alb.urn)
    assert {"alb-error_rate", "alb-latency", "alb-unhealthy_hosts", "alb-rejected_connections", "alb-requests_anomaly", "alb-latency_anomaly"} <= set(alarms)
    refresh = prod.one("aws:autoscaling/group:Group", "web-asg").inputs["instanceRefresh"]["preferences"]
    names = refresh["alarmSpecification"]["alarms"]
    error_rate, latency = prod.find("alb-error_rate"), prod.find("alb-latency")
    assert refresh["autoRollback"] is True
    assert sorted(names) == sorted([error_rate.id, latency.id]), "rollback watches the ALB's 5xx-rate and p99 alarms"


def test_groups_and_workers_register_their_alarms(prod: Capture) -> None:
    web = prod.one("mortgagematch:compute:AutoScalingGroup", "web")
    workers = prod.one("mortgagematch:compute:AutoScalingGroup", "workers")
    web_alarms = alarms_of(prod, web.urn)
    assert {"web-cpu", "web-at_max"} <= set(web_alarms)
    worker_alarms = alarms_of(prod, workers.urn)
    assert {"workers-backlog", "workers-dlq", "workers-oldest_message", "workers-at_max"} <= set(worker_alarms)
    backlog = worker_alarms["workers-backlog"]
    expression = next(q for q in backlog["metricQueries"] if q.get("returnData"))
    assert "visible" in expression["expression"] and "inservice" in expression["expression"]
    critical = [a for a in prod.by_type(ALARM) if a.inputs.get("tags", {}).get("severity") == "critical"]
    assert critical and all(len(a.inputs["alarmActions"]) == 2 for a in critical), "critical alarms escalate to both topics"


def test_dashboard_has_panels_for_every_watched_tier(prod: Capture) -> None:
    body = json.loads(prod.one("aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"])
    text = json.dumps(body)
    alb = prod.one("aws:lb/loadBalancer:LoadBalancer")
    assert alb.state()["arnSuffix"] in text
    for group in prod.by_type("aws:autoscaling/group:Group"):
        assert group.id in text
    assert prod.one("aws:sqs/queue:Queue", "queues-jobs").id.rsplit("/", 1)[-1] in text
