"""Web tier: the request-serving Auto Scaling group behind the load balancer, the ALB
(listeners, access logs, target group) and its WAF web ACL."""

from __future__ import annotations

import re
from typing import Literal, Optional

from pydantic import Field, field_validator

from infra.config.base import PresetTable, Section
from infra.config.sections.compute import InstanceGroup

_CERT_ARN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$")
MIN_SLOW_START_S = 30
TLS_POLICIES = ("ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-2-Res-2021-06", "ELBSecurityPolicy-TLS13-1-3-2021-06")


class Waf(Section):
    enabled: bool = True
    rate_limit: int = Field(default=2000, ge=10, le=2_000_000_000, description="Requests per IP per window before WAF blocks.")
    rate_window_s: Literal[60, 120, 300, 600] = 300
    common_rule_set: bool = True


class Web(InstanceGroup):
    certificate_arn: Optional[str] = Field(default=None, description="ACM certificate; unset serves HTTP only (dev).")
    ssl_policy: Literal[TLS_POLICIES] = "ELBSecurityPolicy-TLS13-1-2-2021-06"  # type: ignore[valid-type]
    app_port: int = Field(default=8080, ge=1, le=65535)
    health_check_path: str = Field(default="/healthz", pattern=r"^/")
    deregistration_delay_s: int = Field(default=30, ge=0, le=3600)
    slow_start_s: int = Field(default=60, ge=0, le=900)
    idle_timeout_s: int = Field(default=60, ge=1, le=4000)
    deletion_protection: Optional[bool] = Field(default=None, description="Unset: on in prod.")
    access_log_retention_days: int = Field(default=90, ge=1, le=3650)
    waf: Waf = Waf()

    @field_validator("slow_start_s")
    @classmethod
    def _slow_start(cls, v: int) -> int:
        if 0 < v < MIN_SLOW_START_S:
            raise ValueError(f"must be 0 (off) or {MIN_SLOW_START_S}-900 seconds (the target group's slow start range), got {v}")
        return v

    @field_validator("certificate_arn")
    @classmethod
    def _acm_arn(cls, v: Optional[str]) -> Optional[str]:
        if v is not None and not _CERT_ARN.match(v):
            raise ValueError(f"must be an ACM certificate ARN like arn:aws:acm:us-east-1:123456789012:certificate/<uuid>, got {v!r}")
        return v


ENV_DEFAULTS: PresetTable = {
    "dev": {"instance_type": "t4g.small", "access_log_retention_days": 14},
    "staging": {"instance_type": "t4g.medium"},
    "prod": {"instance_type": "m7g.large", "access_log_retention_days": 365},
}
_SCALED = {
    "requests_tracking": True,
    "cpu_tracking": True,
    "step": {"enabled": True},
    "scheduled": {"enabled": True},
    "predictive": {"mode": "ForecastAndScale"},
}
# The README phase table: fixed capacity -> forecasts -> every policy -> plus a spot mix.
PHASE_DEFAULTS: PresetTable = {
    "assessment": {"scaling": {"predictive": {"mode": "off"}}},
    "planning": {"scaling": {"predictive": {"mode": "ForecastOnly"}}},
    "implementation": {"scaling": _SCALED},
    "optimization": {"scaling": _SCALED, "spot_pct": 70},
}
