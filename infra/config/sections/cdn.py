"""CDN: CloudFront in front of the load balancer (and an optional static-assets bucket)."""

from __future__ import annotations

import re
from typing import Literal, Optional

from pydantic import Field, field_validator, model_validator

from infra.config.base import PresetTable, Section
from infra.config.errors import KeyedError

# CloudFront takes viewer certificates only from ACM in us-east-1.
_ACM_US_EAST_1 = re.compile(r"^arn:aws:acm:us-east-1:\d{12}:certificate/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_HOSTNAME = re.compile(r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class Cdn(Section):
    enabled: bool = True
    price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"] = "PriceClass_100"
    certificate_arn: Optional[str] = Field(default=None, description="ACM certificate in us-east-1; unset: CloudFront's default certificate (dev).")
    aliases: list[str] = Field(default_factory=list, description="Alternate domain names; need certificate_arn.")
    minimum_protocol_version: Literal["TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025"] = "TLSv1.2_2021"
    origin_shield: bool = False
    static_assets: bool = True
    static_path_pattern: str = "/static/*"
    static_ttl_s: int = Field(default=86400 * 30, ge=1, le=31536000, description="Default TTL; the static cache policy's minimum TTL is 1 s.")
    api_path_pattern: str = "/api/*"
    secondary_origin_domain: Optional[str] = Field(default=None, description="A standby origin; CloudFront fails over to it on 5xx.")
    logging: bool = True
    additional_metrics: bool = Field(default=False, description="CloudFront's paid per-distribution metrics (cache hit rate, origin latency).")
    log_retention_days: int = Field(default=90, ge=1, le=3650)
    waf_rate_limit: int = Field(default=2000, ge=10, le=2_000_000_000, description="Requests per IP per window before WAF blocks.")
    waf_rate_window_s: Literal[60, 120, 300, 600] = 300
    origin_domain_name: Optional[str] = Field(
        default=None,
        description="The name CloudFront uses to reach an HTTPS ALB: covered by the ALB's certificate, resolving to the ALB "
        "(CloudFront checks the origin certificate against it; the ALB's *.elb.amazonaws.com name can't be on an ACM certificate).",
    )
    origin_hosted_zone_id: Optional[str] = Field(default=None, description="Route 53 zone in which to alias origin_domain_name to the ALB.")

    @field_validator("certificate_arn")
    @classmethod
    def _acm_us_east_1(cls, v: Optional[str]) -> Optional[str]:
        if v is not None and not _ACM_US_EAST_1.match(v):
            raise ValueError(f"must be an ACM certificate ARN in us-east-1 (arn:aws:acm:us-east-1:<account>:certificate/<uuid>), got {v!r}")
        return v

    @field_validator("aliases")
    @classmethod
    def _hostnames(cls, v: list[str]) -> list[str]:
        for name in v:
            if not _HOSTNAME.match(name):
                raise ValueError(f"must be lower-case DNS names like www.example.com, got {name!r}")
        return v

    @field_validator("secondary_origin_domain", "origin_domain_name")
    @classmethod
    def _origin_names(cls, v: Optional[str]) -> Optional[str]:
        if v is not None and not _HOSTNAME.match(v):
            raise ValueError(f"must be a DNS name like origin.example.com, got {v!r}")
        return v

    @field_validator("origin_hosted_zone_id")
    @classmethod
    def _zone(cls, v: Optional[str]) -> Optional[str]:
        if v is not None and not re.fullmatch(r"Z[A-Z0-9]{1,31}", v):
            raise ValueError(f"must be a Route 53 hosted zone id like Z0123456789ABCDEFGHIJ, got {v!r}")
        return v

    @field_validator("static_path_pattern", "api_path_pattern")
    @classmethod
    def _pattern(cls, v: str) -> str:
        if not v.startswith("/") or len(v) > 255:
            raise ValueError(f"must be a CloudFront path pattern starting with '/', got {v!r}")
        return v

    @model_validator(mode="after")
    def _aliases_need_certificate(self) -> Cdn:
        if self.aliases and self.certificate_arn is None:
            raise KeyedError("certificate_arn", f"must be set when aliases are given ({', '.join(self.aliases)}), got nothing")
        if self.origin_hosted_zone_id is not None and self.origin_domain_name is None:
            raise KeyedError("origin_domain_name", "must be set with origin_hosted_zone_id (the record to create), got nothing")
        return self


ENV_DEFAULTS: PresetTable = {"prod": {"price_class": "PriceClass_200", "origin_shield": True, "additional_metrics": True}}
PHASE_DEFAULTS: PresetTable = {"assessment": {"enabled": False}, "planning": {"enabled": False}}
