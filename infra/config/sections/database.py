"""Database: RDS PostgreSQL primary, read replicas and the RDS Proxy."""

from __future__ import annotations

import re
from typing import Literal, Optional

from pydantic import Field, field_validator, model_validator

from infra.config.base import PresetTable, Section
from infra.config.errors import KeyedError
from scalestack import catalog

# RDS for PostgreSQL major versions AWS still offers (standard support or extended).
POSTGRES_MAJORS = (13, 14, 15, 16, 17)
_VERSION = re.compile(r"^(\d+)(\.\d+)?$")
_KMS_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key/[0-9a-f-]{36}|alias/[\w/-]+)$")
# ddd:hh24:mi-ddd:hh24:mi and hh24:mi-hh24:mi (RDS and ElastiCache window formats).
WEEKLY_WINDOW = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d$")
DAILY_WINDOW = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")


def check_kms_arn(v: Optional[str]) -> Optional[str]:
    if v is not None and not _KMS_ARN.match(v):
        raise ValueError(f"must be a KMS key or alias ARN like arn:aws:kms:us-east-1:123456789012:key/<uuid>, got {v!r}")
    return v


def check_window(v: str, pattern: re.Pattern[str], example: str) -> str:
    if not pattern.match(v):
        raise ValueError(f"must look like {example} (UTC), got {v!r}")
    return v


class Proxy(Section):
    """RDS Proxy: connection pooling in front of the primary."""

    enabled: Optional[bool] = Field(default=None, description="Unset: on when the capacity model says direct connections would exhaust the primary.")
    max_connections_percent: int = Field(default=90, ge=1, le=100)
    max_idle_connections_percent: int = Field(default=50, ge=0, le=100)
    idle_client_timeout_s: int = Field(default=1800, ge=1, le=28800)
    connection_borrow_timeout_s: int = Field(default=120, ge=0, le=3600)

    @model_validator(mode="after")
    def _idle_within_max(self) -> Proxy:
        if self.max_idle_connections_percent > self.max_connections_percent:
            raise KeyedError(
                "max_idle_connections_percent", f"must be <= max_connections_percent ({self.max_connections_percent}), got {self.max_idle_connections_percent}"
            )
        return self


class Database(Section):
    enabled: bool = True
    engine: Literal["postgres"] = "postgres"
    engine_version: str = "16.4"
    instance_class: str = "db.t4g.medium"
    multi_az: bool = True
    allocated_storage_gb: int = Field(default=50, ge=20, le=65536)
    max_allocated_storage_gb: int = Field(default=200, ge=20, le=65536, description="Storage autoscaling ceiling.")
    kms_key_arn: Optional[str] = Field(default=None, description="Unset: the AWS-managed aws/rds key.")
    backup_retention_days: int = Field(default=7, ge=0, le=35)
    backup_window: str = "03:00-04:00"
    maintenance_window: str = "sun:04:30-sun:05:30"
    performance_insights_retention_days: int = 7
    monitoring_interval_s: Literal[0, 1, 5, 10, 15, 30, 60] = 60
    deletion_protection: Optional[bool] = Field(default=None, description="Unset: on in prod.")
    replicas: Optional[int] = Field(default=None, ge=0, le=15, description="Unset: from the capacity model.")
    read_replicas_enabled: bool = True
    proxy: Proxy = Proxy()

    @field_validator("instance_class")
    @classmethod
    def _known_class(cls, v: str) -> str:
        if v not in catalog.rds_classes():
            raise ValueError(f"unknown RDS instance class {v!r}; e.g. {', '.join(sorted(catalog.rds_classes())[:5])}, ...")
        return v

    @field_validator("engine_version")
    @classmethod
    def _postgres_version(cls, v: str) -> str:
        m = _VERSION.match(v)
        if not m or int(m.group(1)) not in POSTGRES_MAJORS:
            raise ValueError(f"must be a PostgreSQL version like 16.4 with major {', '.join(map(str, POSTGRES_MAJORS))}, got {v!r}")
        return v

    @field_validator("kms_key_arn")
    @classmethod
    def _kms(cls, v: Optional[str]) -> Optional[str]:
        return check_kms_arn(v)

    @field_validator("backup_window")
    @classmethod
    def _backup_window(cls, v: str) -> str:
        return check_window(v, DAILY_WINDOW, "03:00-04:00")

    @field_validator("maintenance_window")
    @classmethod
    def _maintenance_window(cls, v: str) -> str:
        return check_window(v, WEEKLY_WINDOW, "sun:04:30-sun:05:30")

    @field_validator("performance_insights_retention_days")
    @classmethod
    def _pi_retention(cls, v: int) -> int:
        if v != 7 and not (v % 31 == 0 and 31 <= v <= 713) and v != 731:
            raise ValueError(f"must be 7, a multiple of 31 up to 713, or 731, got {v}")
        return v

    @model_validator(mode="after")
    def _storage_ceiling(self) -> Database:
        if self.max_allocated_storage_gb < self.allocated_storage_gb:
            raise KeyedError("max_allocated_storage_gb", f"must be >= allocated_storage_gb ({self.allocated_storage_gb}), got {self.max_allocated_storage_gb}")
        return self

    @model_validator(mode="after")
    def _replicas_need_backups(self) -> Database:
        """RDS creates a read replica only from a source with automated backups (retention >= 1)."""
        if self.backup_retention_days == 0 and self.read_replicas_enabled and self.replicas != 0:
            raise KeyedError("backup_retention_days", "must be >= 1 while read replicas are on (or set read_replicas_enabled: false), got 0")
        return self

    @property
    def major_version(self) -> str:
        return self.engine_version.split(".")[0]


ENV_DEFAULTS: PresetTable = {
    "dev": {"instance_class": "db.t4g.medium", "multi_az": False, "backup_retention_days": 1},
    "prod": {"instance_class": "db.r7g.large", "multi_az": True, "backup_retention_days": 14, "performance_insights_retention_days": 31},
}
# Read scaling and pooling arrive with the implementation phase.
PHASE_DEFAULTS: PresetTable = {
    "assessment": {"read_replicas_enabled": False, "proxy": {"enabled": False}},
    "planning": {"read_replicas_enabled": False, "proxy": {"enabled": False}},
}
