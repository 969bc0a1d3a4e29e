"""Edge tier wiring: CloudFront in front of the load balancer, and reserved capacity
(capacity reservations for the web baseline; RDS / ElastiCache purchases when opted in)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.cdn import Cdn, CdnArgs
from components.reserved import CapacityReservationArgs, CapacityReservations, Offer, PurchaseArgs, Purchases
from infra.config import StackConfig
from infra.config.sections.reserved import Purchase
from infra.platform import Platform
from scalestack import capacity


def wire_cdn(platform: Platform) -> None:
    """CloudFront needs the web tier's ALB and origin-verify secret; without them
    (web tier off, or the EKS platform whose Ingress owns its ALB) there is nothing to put an edge in front of."""
    config = platform.config
    alb, secret = platform.get("alb"), platform.get("cdn_origin_secret")
    if not config.cdn.enabled or alb is None or secret is None:
        return
    cdn = Cdn(
        "cdn",
        CdnArgs(
            settings=config.cdn,
            origin_domain=config.cdn.origin_domain_name or alb.dns_name,
            origin_verify_secret=secret.result,
            origin_shield_region=config.region,
            global_provider=platform.providers.global_,
            origin_protocol_policy="https-only" if alb.https_listener is not None else "http-only",
        ),
        opts=platform.opts(),
    )
    platform.components["cdn"] = cdn
    if config.cdn.origin_hosted_zone_id and config.cdn.origin_domain_name:
        aws.route53.Record(
            "cdn-origin-record",
            zone_id=config.cdn.origin_hosted_zone_id,
            name=config.cdn.origin_domain_name,
            type="A",
            aliases=[{"name": alb.dns_name, "zone_id": alb.zone_id, "evaluate_target_health": True}],
            opts=pulumi.ResourceOptions(parent=cdn),
        )
    platform.components["monitoring"].cdn(cdn, "cdn", distribution_id=cdn.distribution.id, additional_metrics=cdn.additional_metrics)
    platform.outputs["cdn_domain_name"] = cdn.domain_name
    platform.outputs["cdn_distribution_id"] = cdn.distribution.id


def web_baseline(config: StackConfig) -> int:
    if config.web.min_size is not None:
        return config.web.min_size
    return capacity.web_capacity(config.load, config.web.instance_type, len(config.azs), config.is_prod).at_baseline


def wire_capacity_reservations(platform: Platform) -> None:
    """Runs before the web tier: its group targets the reservations."""
    config = platform.config
    if config.reserved.capacity_reservations.enabled and config.web.enabled:
        reservations = CapacityReservations(
            "capacity-reservations",
            CapacityReservationArgs(
                instance_type=config.web.instance_type,
                count=web_baseline(config),
                azs=config.azs,
                instance_platform=config.reserved.capacity_reservations.instance_platform,
            ),
            opts=platform.opts(),
        )
        platform.components["capacity_reservations"] = reservations
        platform.outputs["capacity_reservation_ids"] = reservations.ids


def wire_purchases(platform: Platform) -> None:
    """Runs after the data tier: the purchases cover what it created."""
    args = purchases(platform)
    if args.database or args.cache:
        platform.components["purchases"] = Purchases("reserved", args, opts=platform.opts())


def _offers(label: str, purchase: Purchase, node_class: str, parts: list[tuple[str, int, bool]]) -> list[Offer]:
    """The offers to buy: ``purchase.count`` of the first part if set, else each part's steady count."""
    if not purchase.purchase:
        return []
    if purchase.count is not None:
        parts = [(parts[0][0], purchase.count, parts[0][2])]
    return [Offer(f"{label}-{part}", node_class, n, purchase.term_years, purchase.payment, multi_az) for part, n, multi_az in parts if n > 0]


def purchases(platform: Platform) -> PurchaseArgs:
    """Purchases only exist when the stack file opts in (validated: optimization phase only)."""
    config, reserved = platform.config, platform.config.reserved
    args = PurchaseArgs(cache_engine=config.cache.engine)
    db = platform.get("database")
    if db is not None:
        parts = [("primary", 1, config.database.multi_az), ("replicas", len(db.replicas), False)]
        args.database = _offers("database", reserved.database, config.database.instance_class, parts)
    cache = platform.get("cache")
    if cache is not None:
        args.cache = _offers("cache", reserved.cache, cache.node_type, [("nodes", cache.node_count, False)])
    return args
