"""Network: the VPC, its three subnet tiers per AZ, NAT and flow logs."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, field_validator

from infra.config.base import PresetTable, Section

# CloudWatch Logs accepts only these retention values.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)


def check_log_retention(v: int) -> int:
    if v not in LOG_RETENTION_DAYS:
        raise ValueError(f"must be one of CloudWatch's retention values {list(LOG_RETENTION_DAYS)}, got {v}")
    return v


class FlowLogs(Section):
    enabled: bool = True
    retention_days: int = 90
    traffic_type: Literal["ALL", "ACCEPT", "REJECT"] = "ALL"

    @field_validator("retention_days")
    @classmethod
    def _cloudwatch_retention(cls, v: int) -> int:
        return check_log_retention(v)


class Network(Section):
    az_count: int = Field(default=2, ge=1, le=6)
    cidr: str = "10.0.0.0/16"
    nat_gateways: Literal["none", "single", "per_az"] = "per_az"
    s3_endpoint: bool = True
    flow_logs: FlowLogs = FlowLogs()

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, v: str) -> str:
        try:
            net = ipaddress.IPv4Network(v, strict=True)
        except ValueError:
            raise ValueError(f"must be an IPv4 network in CIDR form like 10.0.0.0/16, got {v!r}") from None
        if not 16 <= net.prefixlen <= 20:
            raise ValueError(f"must have a prefix from /16 to /20 (room for 3 subnet tiers x 6 AZs), got /{net.prefixlen}")
        if not net.is_private:
            raise ValueError(f"must be a private (RFC 1918) range, got {v}")
        return v


ENV_DEFAULTS: PresetTable = {
    "dev": {"az_count": 2, "nat_gateways": "single", "flow_logs": {"retention_days": 14}},
    "staging": {"az_count": 2, "nat_gateways": "single", "flow_logs": {"retention_days": 30}},
    "prod": {"az_count": 3, "nat_gateways": "per_az", "flow_logs": {"retention_days": 365}},
}
PHASE_DEFAULTS: PresetTable = {}
