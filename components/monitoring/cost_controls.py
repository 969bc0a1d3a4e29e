"""Cost controls (Well-Architected COST02-BP05): a monthly AWS Budget filtered by the
stack's cost-allocation tags, and Cost Anomaly Detection (a monitor plus a subscription).
Cost Anomaly Detection lives in us-east-1: the caller passes that provider and the
us-east-1 topics."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Optional

import pulumi
import pulumi_aws as aws

from components.monitoring.alerting import Routing
from components.naming import child, token


@dataclass(frozen=True)
class BudgetArgs:
    amount_usd: float
    tags: Mapping[str, str]
    """Cost-allocation tags the budget counts (all must match)."""


@dataclass(frozen=True)
class AnomalyArgs:
    monitor: Literal["service", "tag"] = "service"
    frequency: Literal["IMMEDIATE", "DAILY", "WEEKLY"] = "IMMEDIATE"
    threshold_usd: Optional[float] = 100.0
    threshold_pct: Optional[float] = None
    emails: Sequence[str] = ()
    tag: tuple[str, str] = ("cost-center", "")
    """(key, value) for a CUSTOM monitor."""


@dataclass(frozen=True)
class CostControlsArgs:
    budget: Optional[BudgetArgs] = None
    anomaly: Optional[AnomalyArgs] = None
    stack: str = "stack"


# (notification type, percent of the budget, severity): warn early on actual spend, page
# when the budget is spent; a forecast overrun is a warning with time left to act.
BUDGET_NOTIFICATIONS = (("ACTUAL", 80, "warning"), ("ACTUAL", 100, "critical"), ("FORECASTED", 100, "warning"))


def budget_notifications(routing: Routing) -> list[aws.budgets.BudgetNotificationArgs]:
    """AWS Budgets allows one SNS subscriber per notification: critical ones go to the
    critical topic (which pages), the rest to the warning topic."""
    return [
        aws.budgets.BudgetNotificationArgs(
            notification_type=kind,
            comparison_operator="GREATER_THAN",
            threshold=pct,
            threshold_type="PERCENTAGE",
            subscriber_sns_topic_arns=[routing.critical if severity == "critical" else routing.warning],
        )
        for kind, pct, severity in BUDGET_NOTIFICATIONS
    ]


def tag_filter(tags: Mapping[str, str]) -> aws.budgets.BudgetFilterExpressionArgs:
    """AND of exact tag matches (a single tag needs no AND)."""
    terms = [aws.budgets.BudgetFilterExpressionAndArgs(tags=aws.budgets.BudgetFilterExpressionAndTagsArgs(key=k, values=[v])) for k, v in tags.items()]
    if len(terms) == 1:
        key, value = next(iter(tags.items()))
        return aws.budgets.BudgetFilterExpressionArgs(tags=aws.budgets.BudgetFilterExpressionTagsArgs(key=key, values=[value]))
    return aws.budgets.BudgetFilterExpressionArgs(ands=terms)


def threshold_expression(args: AnomalyArgs) -> aws.costexplorer.AnomalySubscriptionThresholdExpressionArgs:
    """Alert when the anomaly's impact reaches the absolute and/or percentage threshold
    (both given: either one suffices)."""
    dims = []
    if args.threshold_usd is not None:
        dims.append(("ANOMALY_TOTAL_IMPACT_ABSOLUTE", args.threshold_usd))
    if args.threshold_pct is not None:
        dims.append(("ANOMALY_TOTAL_IMPACT_PERCENTAGE", args.threshold_pct))
    terms = [
        aws.costexplorer.AnomalySubscriptionThresholdExpressionDimensionArgs(key=k, match_options=["GREATER_THAN_OR_EQUAL"], values=[f"{v:g}"]) for k, v in dims
    ]
    if len(terms) == 1:
        return aws.costexplorer.AnomalySubscriptionThresholdExpressionArgs(dimension=terms[0])
    return aws.costexplorer.AnomalySubscriptionThresholdExpressionArgs(
        ors=[aws.costexplorer.AnomalySubscriptionThresholdExpressionOrArgs(dimension=t) for t in terms]  # type: ignore[arg-type]
    )


class CostControls(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        args: CostControlsArgs,
        routing: Routing,
        global_provider: Optional[aws.Provider] = None,
        global_routing: Optional[Routing] = None,
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        super().__init__(token("monitoring", "CostControls"), name, None, opts)
        outputs: dict[str, pulumi.Input[str]] = {}
        if args.budget is not None:
            budget = aws.budgets.Budget(
                f"{name}-monthly",
                name=f"{args.stack}-monthly",
                budget_type="COST",
                time_unit="MONTHLY",
                limit_amount=f"{args.budget.amount_usd:.2f}",
                limit_unit="USD",
                filter_expression=tag_filter(args.budget.tags),
                notifications=budget_notifications(routing),
                opts=child(self),
            )
            outputs["budget_name"] = budget.name
        if args.anomaly is not None:
            extra = child(self, provider=global_provider) if global_provider is not None else child(self)
            routing_us = global_routing or routing
            monitor = self._monitor(name, args, extra)
            a = args.anomaly
            if a.frequency == "IMMEDIATE":
                subscribers = [aws.costexplorer.AnomalySubscriptionSubscriberArgs(type="SNS", address=routing_us.warning)]
            else:
                subscribers = [aws.costexplorer.AnomalySubscriptionSubscriberArgs(type="EMAIL", address=e) for e in a.emails]
            subscription = aws.costexplorer.AnomalySubscription(
                f"{name}-anomaly-subscription",
                name=f"{args.stack}-cost-anomalies",
                frequency=a.frequency,
                monitor_arn_lists=[monitor.arn],
                subscribers=subscribers,
                threshold_expression=threshold_expression(a),
                opts=extra,
            )
            outputs["anomaly_monitor_arn"] = monitor.arn
            outputs["anomaly_subscription_arn"] = subscription.arn
        self.register_outputs(outputs)

    def _monitor(self, name: str, args: CostControlsArgs, extra: pulumi.ResourceOptions) -> aws.costexplorer.AnomalyMonitor:
        a = args.anomaly
        assert a is not None
        if a.monitor == "service":
            return aws.costexplorer.AnomalyMonitor(
                f"{name}-anomaly-monitor", name=f"{args.stack}-services", monitor_type="DIMENSIONAL", monitor_dimension="SERVICE", opts=extra
            )
        key, value = a.tag
        spec = json.dumps({"Tags": {"Key": key, "Values": [value], "MatchOptions": ["EQUALS"]}})
        return aws.costexplorer.AnomalyMonitor(
            f"{name}-anomaly-monitor", name=f"{args.stack}-{key}", monitor_type="CUSTOM", monitor_specification=spec, opts=extra
        )
