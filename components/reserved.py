"""Reserved capacity: EC2 capacity reservations for the web tier's steady baseline, and
purchased commitments (RDS reserved DB instances, ElastiCache reserved nodes).

Capacity reservations guarantee capacity in each AZ (billed at the on-demand rate whether
used or not; they can be cancelled). Reserved DB instances and cache nodes are
*purchases*: applying the stack buys a 1- or 3-year commitment that can't be cancelled,
so the program states the commitment as a warning on every run that includes one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.naming import child, token
from infra.config.sections.reserved import PaymentOption

SECONDS_PER_YEAR = 31536000


def spread(count: int, azs: Sequence[str]) -> dict[str, int]:
    """``count`` instances over the AZs as evenly as possible (earlier AZs take the remainder)."""
    base, extra = divmod(count, len(azs))
    return {az: base + (1 if i < extra else 0) for i, az in enumerate(azs) if base + (1 if i < extra else 0)}


@dataclass
class CapacityReservationArgs:
    instance_type: str
    count: int  # the baseline: the web group's minimum
    azs: Sequence[str]
    instance_platform: str = "Linux/UNIX"


class CapacityReservations(pulumi.ComponentResource):
    """Targeted reservations, one per AZ; the web ASG lists ``ids`` in its
    ``capacity_reservation_specification`` (preference ``capacity-reservations-first``)."""

    def __init__(self, name: str, args: CapacityReservationArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(token("reserved", "CapacityReservations"), name, None, opts)
        self.by_az = {
            az: aws.ec2.CapacityReservation(
                f"{name}-{az}",
                instance_type=args.instance_type,
                instance_platform=args.instance_platform,
                availability_zone=az,
                instance_count=n,
                instance_match_criteria="targeted",
                end_date_type="unlimited",
                ebs_optimized=True,
                tags={"Name": f"{name}-{az}", "tier": "web"},
                opts=child(self),
            )
            for az, n in spread(args.count, args.azs).items()
        }
        self.reservations = list(self.by_az.values())
        self.ids = [r.id for r in self.reservations]
        self.preference = "capacity-reservations-first"
        self.register_outputs({"ids": self.ids})


@dataclass
class Offer:
    """One commitment to buy: what, how many, for how long, paid how."""

    label: str  # e.g. "database-primary"
    node_class: str
    count: int
    term_years: int
    payment: PaymentOption
    multi_az: bool = False


@dataclass
class PurchaseArgs:
    database: list[Offer] = field(default_factory=list)
    cache: list[Offer] = field(default_factory=list)
    cache_engine: str = "valkey"


def commitment_notice(kind: str, offer: Offer, fixed_price: float, currency: str) -> str:
    az = " Multi-AZ" if offer.multi_az else ""
    return (
        f"reserved capacity: applying this stack BUYS {offer.count} x {offer.node_class}{az} {kind} "
        f"({offer.term_years}-year term, {offer.payment}) - a commitment that cannot be cancelled; "
        f"upfront {fixed_price * offer.count:,.2f} {currency} plus the offering's hourly charge for every hour of the term"
    )


class Purchases(pulumi.ComponentResource):
    """RDS reserved DB instances and ElastiCache reserved nodes. ``retain_on_delete``:
    removing one from the program can't refund it, so Pulumi must not pretend to."""

    def __init__(self, name: str, args: PurchaseArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(token("reserved", "Purchases"), name, None, opts)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        self.db_reservations: list[aws.rds.ReservedInstance] = []
        self.cache_reservations: list[aws.elasticache.ReservedCacheNode] = []
        for offer in args.database:
            db_offering = aws.rds.get_reserved_instance_offering_output(
                db_instance_class=offer.node_class,
                duration=offer.term_years * SECONDS_PER_YEAR,
                multi_az=offer.multi_az,
                offering_type=offer.payment,
                product_description="postgresql",
                opts=invoke,
            )
            db_offering.apply(
                lambda o, offer=offer: pulumi.log.warn(commitment_notice("RDS reserved DB instance", offer, o.fixed_price, o.currency_code), self)
            )
            self.db_reservations.append(
                aws.rds.ReservedInstance(
                    f"{name}-{offer.label}",
                    offering_id=db_offering.offering_id,
                    instance_count=offer.count,
                    tags={"Name": f"{name}-{offer.label}"},
                    opts=child(self, retain_on_delete=True),
                )
            )
        for offer in args.cache:
            cache_offering = aws.elasticache.get_reserved_cache_node_offering_output(
                cache_node_type=offer.node_class,
                duration=f"P{offer.term_years}Y",
                offering_type=offer.payment,
                product_description=args.cache_engine,
                opts=invoke,
            )
            cache_offering.apply(lambda o, offer=offer: pulumi.log.warn(commitment_notice("ElastiCache reserved node", offer, o.fixed_price, "USD"), self))
            self.cache_reservations.append(
                aws.elasticache.ReservedCacheNode(
                    f"{name}-{offer.label}",
                    reserved_cache_nodes_offering_id=cache_offering.offering_id,
                    cache_node_count=offer.count,
                    tags={"Name": f"{name}-{offer.label}"},
                    opts=child(self, retain_on_delete=True),
                )
            )
        self.register_outputs({"db_reservations": [r.id for r in self.db_reservations], "cache_reservations": [r.id for r in self.cache_reservations]})
