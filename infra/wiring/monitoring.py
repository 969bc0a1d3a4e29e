"""Monitoring wiring: alert topics and the registry FIRST (so every tier can register what
it watches), the dashboard and cost controls LAST (once every tier has registered)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.monitoring.alerting import AlertTopics, AlertTopicsArgs
from components.monitoring.cost_controls import AnomalyArgs, BudgetArgs, CostControls, CostControlsArgs
from components.monitoring.dashboard import dashboard_body
from components.monitoring.registry import MonitoringRegistry
from infra.platform import Platform

MONITORING = "monitoring"
ALERTS = "alerts"


def registry(platform: Platform) -> MonitoringRegistry:
    """The registry tiers call (``platform.components["monitoring"]``)."""
    reg: MonitoringRegistry = platform.components[MONITORING]
    return reg


def wire_alerting(platform: Platform) -> None:
    config = platform.config
    mon = config.monitoring
    topics = None
    if mon.enabled:
        subs = mon.subscriptions
        topics = AlertTopics(
            ALERTS,
            AlertTopicsArgs(
                warning_emails=subs.warning_emails,
                critical_emails=subs.critical_emails,
                paging_https_endpoints=subs.paging_https_endpoints,
                region=config.region,
                kms_deletion_window_days=mon.kms_deletion_window_days,
            ),
            global_provider=lambda: platform.providers.global_,
            opts=platform.opts(),
        )
        platform.components[ALERTS] = topics
        platform.outputs["warning_topic_arn"] = topics.routing.warning
        platform.outputs["critical_topic_arn"] = topics.routing.critical
    reg = MonitoringRegistry(mon, config.region, topics, lambda: platform.providers.global_)
    platform.components[MONITORING] = reg
    # The network's NAT gateways (each tier registers its own resources as it is wired).
    reg.nat(platform.network, "network-nat", nat_gateway_ids=platform.network.nat_gateway_ids)


def wire_dashboard_and_costs(platform: Platform) -> None:
    config = platform.config
    reg = registry(platform)
    stack = f"{pulumi.get_project()}-{pulumi.get_stack()}"
    if reg.enabled and config.monitoring.dashboard and reg.watched:
        dashboard = aws.cloudwatch.Dashboard(
            "dashboard",
            dashboard_name=config.monitoring.dashboard_name or stack,
            dashboard_body=pulumi.Output.json_dumps(dashboard_body(reg.watched)),
            opts=platform.opts(),
        )
        platform.components["dashboard"] = dashboard
        platform.outputs["dashboard_name"] = dashboard.dashboard_name
    cost = config.cost
    budget = BudgetArgs(cost.monthly_budget_usd, {"cost-center": config.tags.cost_center, "environment": config.environment}) if cost.budgets_enabled else None
    ad = cost.anomaly_detection
    anomaly = (
        AnomalyArgs(ad.monitor, ad.frequency, ad.threshold_usd, ad.threshold_pct, tuple(ad.emails), ("cost-center", config.tags.cost_center))
        if ad.enabled
        else None
    )
    if budget is None and anomaly is None:
        return
    # Config validation guarantees monitoring (and so the topics) is on when cost controls are.
    topics: AlertTopics = platform.components[ALERTS]
    controls = CostControls(
        "cost",
        CostControlsArgs(budget=budget, anomaly=anomaly, stack=stack),
        routing=topics.routing,
        global_provider=platform.providers.global_ if anomaly else None,
        global_routing=topics.for_global() if anomaly else None,
        opts=platform.opts(),
    )
    platform.components["cost"] = controls
