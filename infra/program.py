"""The program: validated config -> components. ``pulumi up`` and the offline planner
both run ``main()``; nothing here knows which one is driving it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Optional

import pulumi

from components.network import Network, NetworkArgs
from components.security_groups import SecurityGroups
from infra.config import ConfigError, StackConfig, load_from_pulumi
from infra.platform import Platform
from infra.providers import make_providers, opts_for
from infra.wiring import data, edge, eks, web, workers
from infra.wiring.data import proxy_enabled
from infra.wiring.monitoring import wire_alerting, wire_dashboard_and_costs

Tier = Callable[[Platform], None]

# Tiers in dependency order; each reads earlier tiers from ``platform.components``.
# Alerting runs first (tiers register their alarms with it), dashboard and costs last.
TIERS: list[Tier] = [
    wire_alerting,
    edge.wire_capacity_reservations,  # before the web group, which targets them
    workers.wire_queues,
    web.wire,
    workers.wire,
    eks.wire,
    data.wire,
    edge.wire_cdn,
    edge.wire_purchases,
    wire_dashboard_and_costs,
]


def tier_roles(config: StackConfig) -> list[str]:
    """Security-group roles for the tiers this stack enables."""
    roles = ["alb", "web"]
    if config.workers.enabled:
        roles.append("workers")
    if config.database.enabled:
        roles.append("database")
        if proxy_enabled(config):
            roles.append("proxy")
    if config.cache.enabled:
        roles.append("cache")
    if config.compute.platform == "eks":
        roles.append("eks-cluster")
    return roles


def build(config: StackConfig, tiers: Optional[Sequence[Tier]] = None) -> Platform:
    """Create every component the config enables (``tiers``: tests may run extra tiers first)."""
    providers = make_providers(config)
    net = config.network
    network = Network(
        "network",
        NetworkArgs(
            cidr=net.cidr,
            azs=config.azs,
            region=config.region,
            nat_gateways=net.nat_gateways,
            s3_endpoint=net.s3_endpoint,
            flow_logs=net.flow_logs.enabled,
            flow_log_retention_days=net.flow_logs.retention_days,
            flow_log_traffic_type=net.flow_logs.traffic_type,
        ),
        opts=opts_for(providers),
    )
    security = SecurityGroups("sg", network.vpc_id, tier_roles(config), opts=opts_for(providers))
    platform = Platform(config=config, providers=providers, network=network, security=security)
    platform.outputs.update(
        {
            "environment": config.environment,
            "phase": config.phase,
            "vpc_id": network.vpc_id,
            "public_subnet_ids": network.public_subnet_ids,
            "private_subnet_ids": network.private_subnet_ids,
            "isolated_subnet_ids": network.isolated_subnet_ids,
        }
    )
    for tier in TIERS if tiers is None else tiers:
        tier(platform)
    return platform


def main() -> None:
    try:
        config = load_from_pulumi()
    except ConfigError as exc:
        # RunError prints the message without a traceback and creates nothing.
        raise pulumi.RunError(str(exc)) from None
    for key, value in build(config).outputs.items():
        pulumi.export(key, value)
