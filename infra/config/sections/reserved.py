"""Reserved capacity: EC2 capacity reservations for the prod baseline (opt-in) and
purchased commitments (RDS reserved instances, ElastiCache reserved nodes).

Purchases are never switched on by a preset: they are bought the moment the stack is
applied and cannot be cancelled, so the stack file must say ``purchase: true``."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field

from infra.config.base import PresetTable, Section

PaymentOption = Literal["No Upfront", "Partial Upfront", "All Upfront"]


class Purchase(Section):
    purchase: bool = False
    term_years: Literal[1, 3] = 1
    payment: PaymentOption = "No Upfront"
    count: Optional[int] = Field(default=None, ge=1, le=100, description="Unset: the steady baseline (primary, replicas / every cache node).")


class CapacityReservations(Section):
    enabled: bool = False
    instance_platform: Literal["Linux/UNIX", "Red Hat Enterprise Linux", "Windows"] = "Linux/UNIX"


class Reserved(Section):
    capacity_reservations: CapacityReservations = CapacityReservations()
    database: Purchase = Purchase()
    cache: Purchase = Purchase()


ENV_DEFAULTS: PresetTable = {}
# No phase presets on purpose: commitments are an explicit decision in the stack file.
PHASE_DEFAULTS: PresetTable = {}
