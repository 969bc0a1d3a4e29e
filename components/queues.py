"""Job queues for the background workers: a standard SQS queue with SSE and long polling,
an optional high-priority queue, and one dead-letter queue both redrive to after
``max_receive_count`` failed deliveries (REL05-BP04: bounded queues with a DLQ)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.naming import child, token

LONG_POLL_S = 20  # the SQS maximum: fewer empty receives, lower cost
DLQ_RETENTION_S = 1_209_600  # 14 days, the SQS maximum: time to inspect failures

CONSUMER_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:GetQueueUrl")


@dataclass(frozen=True)
class JobQueuesArgs:
    visibility_timeout_s: int
    max_receive_count: int = 5
    message_retention_s: int = 345_600
    priority_queue: bool = False


def consumer_policy(queue_arns: list[str]) -> str:
    """IAM policy that lets a worker consume these queues and nothing else."""
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Sid": "ConsumeJobQueues", "Effect": "Allow", "Action": list(CONSUMER_ACTIONS), "Resource": queue_arns}]}
    )


class JobQueues(pulumi.ComponentResource):
    queue: aws.sqs.Queue
    dlq: aws.sqs.Queue
    priority_queue: Optional[aws.sqs.Queue]

    def __init__(self, name: str, args: JobQueuesArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(token("workers", "JobQueues"), name, None, opts)
        self.dlq = aws.sqs.Queue(f"{name}-dlq", sqs_managed_sse_enabled=True, message_retention_seconds=DLQ_RETENTION_S, opts=child(self))
        redrive = self.dlq.arn.apply(lambda arn: json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": args.max_receive_count}))
        self.queue = self._queue(f"{name}-jobs", args, redrive)
        self.priority_queue = self._queue(f"{name}-priority", args, redrive) if args.priority_queue else None
        sources = [q.arn for q in self.consumed]
        aws.sqs.RedriveAllowPolicy(
            f"{name}-dlq-redrive-allow",
            queue_url=self.dlq.url,
            redrive_allow_policy=pulumi.Output.all(*sources).apply(lambda arns: json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": list(arns)})),
            opts=child(self),
        )
        self.register_outputs({f"{q._name}_url": q.url for q in (*self.consumed, self.dlq)})

    def _queue(self, resource_name: str, args: JobQueuesArgs, redrive: pulumi.Input[str]) -> aws.sqs.Queue:
        return aws.sqs.Queue(
            resource_name,
            sqs_managed_sse_enabled=True,
            receive_wait_time_seconds=LONG_POLL_S,
            visibility_timeout_seconds=args.visibility_timeout_s,
            message_retention_seconds=args.message_retention_s,
            redrive_policy=redrive,
            opts=child(self),
        )

    @property
    def consumed(self) -> list[aws.sqs.Queue]:
        """The queues workers pull from (not the DLQ: SQS moves messages there itself)."""
        return [self.queue, *([self.priority_queue] if self.priority_queue else [])]

    def consumer_policy(self) -> pulumi.Output[str]:
        return pulumi.Output.all(*[q.arn for q in self.consumed]).apply(lambda arns: consumer_policy(list(arns)))
