"""CDN: CloudFront in front of the load balancer."""

from __future__ import annotations

from typing import Literal

from infra.config.base import PresetTable, Section


class Cdn(Section):
    enabled: bool = True
    price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"] = "PriceClass_100"


ENV_DEFAULTS: PresetTable = {"prod": {"price_class": "PriceClass_200"}}
PHASE_DEFAULTS: PresetTable = {"assessment": {"enabled": False}, "planning": {"enabled": False}}
