"""Database: RDS PostgreSQL primary, read replicas and the RDS Proxy."""

from __future__ import annotations

from typing import Optional

from pydantic import Field, field_validator

from infra.config.base import PresetTable, Section
from scalestack import catalog


class Database(Section):
    enabled: bool = True
    engine_version: str = "16.4"
    instance_class: str = "db.t4g.medium"
    multi_az: bool = True
    allocated_storage_gb: int = Field(default=50, ge=20, le=65536)
    backup_retention_days: int = Field(default=7, ge=0, le=35)
    replicas: Optional[int] = Field(default=None, ge=0, le=15, description="Unset: from the capacity model.")
    read_replicas_enabled: bool = True

    @field_validator("instance_class")
    @classmethod
    def _known_class(cls, v: str) -> str:
        if v not in catalog.rds_classes():
            raise ValueError(f"unknown RDS instance class {v!r}; e.g. {', '.join(sorted(catalog.rds_classes())[:5])}, ...")
        return v


ENV_DEFAULTS: PresetTable = {
    "dev": {"instance_class": "db.t4g.medium", "multi_az": False, "backup_retention_days": 1},
    "prod": {"instance_class": "db.r7g.large", "multi_az": True, "backup_retention_days": 14},
}
# Read scaling arrives with the implementation phase.
PHASE_DEFAULTS: PresetTable = {
    "assessment": {"read_replicas_enabled": False},
    "planning": {"read_replicas_enabled": False},
}
