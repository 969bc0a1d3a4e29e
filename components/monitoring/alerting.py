"""Alert routing: a warning and a critical SNS topic, KMS-encrypted, with policies that let
CloudWatch, EventBridge, AWS Budgets and Cost Anomaly Detection publish, and the
subscriptions from config. Escalation: critical alarms notify both topics.

CloudWatch alarms may only notify topics in their own region, so alarms on us-east-1-only
metrics (CloudFront) and the cost-anomaly subscription get a second topic pair there when
the stack lives elsewhere (``for_global()``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Optional

import pulumi
import pulumi_aws as aws

from components.naming import child, token

Severity = Literal["warning", "critical"]
# Services that publish alerts to our topics (and so must use the topics' KMS key).
PUBLISHERS = ("cloudwatch.amazonaws.com", "events.amazonaws.com", "budgets.amazonaws.com", "costalerts.amazonaws.com")


@dataclass(frozen=True)
class Routing:
    """Topic ARNs of one region and who gets told for which severity."""

    warning: pulumi.Output[str]
    critical: pulumi.Output[str]

    def actions(self, severity: Severity) -> list[pulumi.Output[str]]:
        """Escalation: a critical alarm pages (critical topic) and still lands in the warning feed."""
        return [self.critical, self.warning] if severity == "critical" else [self.warning]


@dataclass(frozen=True)
class AlertTopicsArgs:
    warning_emails: Sequence[str] = ()
    critical_emails: Sequence[str] = ()
    paging_https_endpoints: Sequence[str] = ()
    region: str = "us-east-1"
    kms_deletion_window_days: int = 30
    subscriptions: dict[Severity, list[tuple[str, str]]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        subs: dict[Severity, list[tuple[str, str]]] = {
            "warning": [("email", e) for e in self.warning_emails],
            "critical": [("email", e) for e in self.critical_emails] + [("https", u) for u in self.paging_https_endpoints],
        }
        object.__setattr__(self, "subscriptions", subs)


def key_policy(account: str) -> str:
    """The account administers the key; the publishing services may only encrypt for SNS."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "AccountAdmin", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"},
                {
                    "Sid": "AlertPublishers",
                    "Effect": "Allow",
                    "Principal": {"Service": list(PUBLISHERS)},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                    "Resource": "*",
                },
            ],
        }
    )


def topic_policy(topic_arn: str, account: str) -> str:
    """Owner access, publish for the alerting services from this account only, TLS only."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Owner",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                    "Action": [
                        "SNS:GetTopicAttributes",
                        "SNS:SetTopicAttributes",
                        "SNS:AddPermission",
                        "SNS:RemovePermission",
                        "SNS:DeleteTopic",
                        "SNS:Subscribe",
                        "SNS:ListSubscriptionsByTopic",
                        "SNS:Publish",
                    ],
                    "Resource": topic_arn,
                },
                {
                    "Sid": "AlertPublishers",
                    "Effect": "Allow",
                    "Principal": {"Service": list(PUBLISHERS)},
                    "Action": "SNS:Publish",
                    "Resource": topic_arn,
                    "Condition": {"StringEquals": {"aws:SourceAccount": account}},
                },
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "SNS:Publish",
                    "Resource": topic_arn,
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
            ],
        }
    )


class AlertTopics(pulumi.ComponentResource):
    """Warning + critical topics in the stack's region (``routing``), and on demand the same
    pair in us-east-1 (``for_global()``)."""

    routing: Routing

    def __init__(
        self,
        name: str,
        args: AlertTopicsArgs,
        global_provider: Optional[Callable[[], aws.Provider]] = None,
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        super().__init__(token("monitoring", "AlertTopics"), name, None, opts)
        self._name = name
        self._args = args
        self._global_provider = global_provider
        self._global: Optional[Routing] = None
        self.routing = self._pair(name, None)
        self.register_outputs({"warning_topic_arn": self.routing.warning, "critical_topic_arn": self.routing.critical})

    def for_global(self) -> Routing:
        """Topics in us-east-1 (the region of CloudFront metrics and Cost Anomaly Detection)."""
        if self._args.region == "us-east-1" or self._global_provider is None:
            return self.routing
        if self._global is None:
            self._global = self._pair(f"{self._name}-global", self._global_provider())
        return self._global

    def _pair(self, prefix: str, provider: Optional[aws.Provider]) -> Routing:
        extra = {"provider": provider} if provider is not None else {}
        account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self, **extra)).account_id  # type: ignore[arg-type]
        key = aws.kms.Key(
            f"{prefix}-key",
            description="Encrypts the alert topics (CloudWatch, EventBridge, Budgets, Cost Anomaly Detection publish)",
            enable_key_rotation=True,
            deletion_window_in_days=self._args.kms_deletion_window_days,
            policy=account.apply(key_policy),
            opts=child(self, **extra),
        )
        aws.kms.Alias(f"{prefix}-key-alias", name=f"alias/{prefix}-alerts", target_key_id=key.key_id, opts=child(self, **extra))
        arns: dict[Severity, pulumi.Output[str]] = {}
        for severity in ("warning", "critical"):
            topic = aws.sns.Topic(
                f"{prefix}-{severity}",
                kms_master_key_id=key.arn,
                display_name=f"{severity} alerts",
                tags={"severity": severity},
                opts=child(self, **extra),
            )
            aws.sns.TopicPolicy(
                f"{prefix}-{severity}-policy",
                arn=topic.arn,
                policy=pulumi.Output.all(topic.arn, account).apply(lambda v: topic_policy(v[0], v[1])),
                opts=child(self, **extra),
            )
            for i, (protocol, endpoint) in enumerate(self._args.subscriptions[severity]):
                aws.sns.TopicSubscription(
                    f"{prefix}-{severity}-{protocol}-{i}",
                    topic=topic.arn,
                    protocol=protocol,
                    endpoint=endpoint,
                    # HTTPS paging endpoints confirm automatically; give them time.
                    endpoint_auto_confirms=protocol == "https",
                    opts=child(self, **extra),
                )
            arns[severity] = topic.arn
        return Routing(warning=arns["warning"], critical=arns["critical"])
