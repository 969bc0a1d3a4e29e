"""Queue workers: SQS queues with SSE, long polling and a DLQ; the worker group scaled on
backlog per instance, with a role that may only consume its queues; queues on EKS too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.queues import CONSUMER_ACTIONS
from scalestack import capacity
from scalestack.offline import Capture
from tests.conftest import plan_variant

QUEUE = "aws:sqs/queue:Queue"


@pytest.mark.parametrize(("stack", "receives", "queues"), [("dev", 3, 2), ("prod", 5, 3)])
def test_queues_encrypted_long_polled_with_redrive(stack: str, receives: int, queues: int, request: pytest.FixtureRequest) -> None:
    capture: Capture = request.getfixturevalue(stack)
    workers = capture.config.workers
    found = {r.name: r for r in capture.by_type(QUEUE)}
    assert len(found) == queues
    dlq = found.pop("queues-dlq")
    assert dlq.inputs["sqsManagedSseEnabled"] is True and dlq.inputs["messageRetentionSeconds"] == 1_209_600
    for queue in found.values():
        inputs = queue.inputs
        assert inputs["sqsManagedSseEnabled"] is True and inputs["receiveWaitTimeSeconds"] == 20
        assert inputs["visibilityTimeoutSeconds"] > workers.job_timeout_s
        redrive = json.loads(inputs["redrivePolicy"])
        assert redrive == {"deadLetterTargetArn": dlq.outputs.get("arn", redrive["deadLetterTargetArn"]), "maxReceiveCount": receives}
        assert redrive["deadLetterTargetArn"].endswith(dlq.id.rsplit("/", 1)[1])
    assert ("queues-priority" in found) is workers.priority_queue


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_worker_group_tracks_backlog_per_instance(stack: str, request: pytest.FixtureRequest) -> None:
    capture: Capture = request.getfixturevalue(stack)
    config = capture.config
    tracking = capture.find("workers-backlog-tracking").inputs["targetTrackingConfiguration"]
    assert tracking["targetValue"] == pytest.approx(capacity.backlog_target(config.workers.acceptable_latency_s, config.load.seconds_per_job), abs=0.01)
    metrics = {m["id"]: m for m in tracking["customizedMetricSpecification"]["metrics"]}
    queue_ids = sorted(k for k in metrics if k.startswith("queue"))
    assert metrics["backlog"]["expression"] == f"({' + '.join(queue_ids)}) / instances" and metrics["backlog"]["returnData"] is True
    assert {metrics[q]["metricStat"]["metric"]["metricName"] for q in queue_ids} == {"ApproximateNumberOfMessagesVisible"}
    consumed = {r.id.rsplit("/", 1)[1] for r in capture.by_type("aws:sqs/queue:Queue") if r.name != "queues-dlq"}
    assert {metrics[q]["metricStat"]["metric"]["dimensions"][0]["value"] for q in queue_ids} == consumed
    instances = metrics["instances"]["metricStat"]["metric"]
    assert instances["metricName"] == "GroupInServiceInstances"
    assert instances["dimensions"] == [{"name": "AutoScalingGroupName", "value": capture.find("workers-asg").id}]
    policies = {r.name for r in capture.by_type("aws:autoscaling/policy:Policy") if r.name.startswith("workers-")}
    assert policies == {"workers-backlog-tracking"}


def test_worker_role_may_only_consume_its_queues(prod: Capture) -> None:
    (policy,) = [r for r in prod.by_type("aws:iam/rolePolicy:RolePolicy") if r.name.startswith("workers-")]
    (statement,) = json.loads(policy.inputs["policy"])["Statement"]
    assert statement["Effect"] == "Allow" and tuple(statement["Action"]) == CONSUMER_ACTIONS
    consumed = sorted(r.id.rsplit("/", 1)[1] for r in prod.by_type(QUEUE) if r.name != "queues-dlq")
    assert sorted(arn.rsplit(":", 1)[1] for arn in statement["Resource"]) == consumed
    assert not any("sqs:SendMessage" in a or a == "sqs:*" for a in statement["Action"])


def test_worker_group_is_its_own_tier(prod: Capture) -> None:
    group = prod.find("workers-asg").inputs
    assert {"key": "tier", "value": "workers", "propagateAtLaunch": True} in group["tags"]
    assert group["healthCheckType"] == "EC2" and not group.get("targetGroupArns")
    assert prod.find("workers-lt").inputs["vpcSecurityGroupIds"] == [prod.find("sg-workers").id]
    assert group["mixedInstancesPolicy"]["instancesDistribution"]["onDemandPercentageAboveBaseCapacity"] == 30


def test_on_eks_the_queues_exist_without_alb_or_groups(tmp_path: Path) -> None:
    capture = plan_variant(tmp_path, "prod", {"compute": {"platform": "eks"}})
    assert {r.name for r in capture.by_type(QUEUE)} == {"queues-jobs", "queues-priority", "queues-dlq"}
    assert not capture.by_type("aws:autoscaling/group:Group") and not capture.by_type("aws:lb/loadBalancer:LoadBalancer")
    assert capture.stack_outputs["job_queue_url"].startswith("https://sqs.us-east-1.amazonaws.com/")
