"""The program: validated config -> components. ``pulumi up`` and the offline planner
both run ``main()``; nothing here knows which one is driving it."""

from __future__ import annotations

import pulumi

from components.network import Network, NetworkArgs
from infra.config import ConfigError, StackConfig, load_from_pulumi
from infra.providers import make_providers, opts_for


def build(config: StackConfig) -> dict[str, object]:
    """Create every component the config enables; returns the stack outputs."""
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
    return {
        "environment": config.environment,
        "phase": config.phase,
        "vpc_id": network.vpc_id,
        "public_subnet_ids": network.public_subnet_ids,
        "private_subnet_ids": network.private_subnet_ids,
        "isolated_subnet_ids": network.isolated_subnet_ids,
    }


def main() -> None:
    try:
        config = load_from_pulumi()
    except ConfigError as exc:
        # RunError prints the message without a traceback and creates nothing.
        raise pulumi.RunError(str(exc)) from None
    for key, value in build(config).items():
        pulumi.export(key, value)
