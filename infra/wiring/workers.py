"""Worker tier wiring: the job queues (on every compute platform: EKS workers consume
them too) and, on the ASG platform, the worker group scaled on backlog per instance."""

from __future__ import annotations

from typing import Optional

import pulumi

from components.autoscaling import BacklogTracking
from components.queues import JobQueues, JobQueuesArgs
from infra.platform import Platform
from infra.wiring.groups import build_group, watch_group
from scalestack import capacity


def wire_queues(platform: Platform) -> None:
    workers = platform.config.workers
    if not workers.enabled:
        return
    queues = JobQueues(
        "queues",
        JobQueuesArgs(
            visibility_timeout_s=workers.visibility_timeout,
            max_receive_count=workers.max_receive_count,
            message_retention_s=workers.message_retention_s,
            priority_queue=workers.priority_queue,
        ),
        opts=platform.opts(),
    )
    platform.components["queues"] = queues
    if platform.config.compute.platform != "asg":
        # KEDA scales the worker pods: the queues' own alarms, no backlog-per-instance.
        watch_queues(platform, queues, queues)
    platform.outputs["job_queue_url"] = queues.queue.url
    platform.outputs["job_dlq_url"] = queues.dlq.url


def wire(platform: Platform) -> None:
    config = platform.config
    workers = config.workers
    if not workers.enabled or config.compute.platform != "asg":
        return
    queues: JobQueues = platform.components["queues"]
    model = capacity.worker_capacity(config.load, workers.instance_type, config.network.az_count, config.is_prod)
    target = capacity.backlog_target(workers.acceptable_latency_s, config.load.seconds_per_job)
    group = build_group(
        platform,
        "workers",
        workers,
        model,
        backlog=BacklogTracking(queue_names=[q.name for q in queues.consumed], target=round(target, 2)),
        role_policies={"consume-queues": queues.consumer_policy()},
    )
    watch_group(platform, group, "workers", workers, model)
    watch_queues(platform, group, queues, group_name=group.group.name, backlog_target=round(target, 2))
    platform.components["workers"] = group
    platform.outputs["workers_asg_name"] = group.group.name


def watch_queues(
    platform: Platform, parent: pulumi.Resource, queues: JobQueues, group_name: Optional[pulumi.Input[str]] = None, backlog_target: float = 0.0
) -> None:
    """Job age on every work queue, the DLQ, and (for a worker group) backlog per instance."""
    platform.components["monitoring"].workers(
        parent,
        "workers",
        queue_name=queues.queue.name,
        dlq_name=queues.dlq.name,
        group_name=group_name,
        backlog_target=backlog_target,
        priority_queue_name=queues.priority_queue.name if queues.priority_queue is not None else None,
    )
