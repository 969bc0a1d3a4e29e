"""Cache: an ElastiCache (Valkey or Redis OSS) replication group."""

from __future__ import annotations

import re
from typing import Literal, Optional

from pydantic import Field, field_validator, model_validator

from infra.config.base import PresetTable, Section
from infra.config.errors import KeyedError
from infra.config.secrets import Secret
from infra.config.sections.database import DAILY_WINDOW, WEEKLY_WINDOW, check_kms_arn, check_window
from infra.config.sections.network import check_log_retention
from scalestack import catalog

# Engine versions ElastiCache offers for replication groups (major.minor).
ENGINE_VERSIONS = {"valkey": ("7.2", "8.0", "8.1"), "redis": ("6.2", "7.0", "7.1")}
MAX_SHARDS = 500
MAX_REPLICAS = 5
MAX_NODES = 500
MAXMEMORY_POLICIES = ("volatile-lru", "allkeys-lru", "volatile-lfu", "allkeys-lfu", "volatile-random", "allkeys-random", "volatile-ttl", "noeviction")
_VERSION = re.compile(r"^\d+\.\d+$")
IAM_AUTH_MIN_REDIS_MAJOR = 7  # ElastiCache IAM authentication: Redis OSS 7.0+, every Valkey version offered


class Cache(Section):
    enabled: bool = True
    engine: Literal["valkey", "redis"] = "valkey"
    engine_version: str = "8.0"
    node_type: Optional[str] = Field(default=None, description="Unset: the capacity model picks it from the working set.")
    cluster_mode: bool = False
    shards: Optional[int] = Field(default=None, description="Cluster mode only. Unset: from the capacity model.")
    replicas_per_shard: int = 0
    multi_az: bool = False
    auth_token: Optional[Secret] = Field(default=None, description="A secret AUTH token; unset: an IAM-authenticated RBAC user group.")
    kms_key_arn: Optional[str] = None
    maxmemory_policy: str = "allkeys-lru"
    snapshot_retention_days: int = Field(default=1, ge=0, le=35)
    snapshot_window: str = "02:00-03:00"
    maintenance_window: str = "sun:05:30-sun:06:30"
    slow_log_retention_days: int = 30

    @field_validator("node_type")
    @classmethod
    def _known_node(cls, v: Optional[str]) -> Optional[str]:
        if v is not None and v not in catalog.cache_node_types():
            raise ValueError(f"unknown ElastiCache node type {v!r}; e.g. {', '.join(sorted(catalog.cache_node_types())[:5])}, ...")
        return v

    @field_validator("shards")
    @classmethod
    def _shards(cls, v: Optional[int]) -> Optional[int]:
        if v is not None and not 1 <= v <= MAX_SHARDS:
            raise ValueError(f"must be from 1 to {MAX_SHARDS} shards, got {v}")
        return v

    @field_validator("replicas_per_shard")
    @classmethod
    def _replicas(cls, v: int) -> int:
        if not 0 <= v <= MAX_REPLICAS:
            raise ValueError(f"must be from 0 to {MAX_REPLICAS} replicas per shard, got {v}")
        return v

    @field_validator("maxmemory_policy")
    @classmethod
    def _policy(cls, v: str) -> str:
        if v not in MAXMEMORY_POLICIES:
            raise ValueError(f"must be one of {', '.join(MAXMEMORY_POLICIES)}, got {v!r}")
        return v

    @field_validator("kms_key_arn")
    @classmethod
    def _kms(cls, v: Optional[str]) -> Optional[str]:
        return check_kms_arn(v)

    @field_validator("snapshot_window")
    @classmethod
    def _snapshot_window(cls, v: str) -> str:
        return check_window(v, DAILY_WINDOW, "02:00-03:00")

    @field_validator("maintenance_window")
    @classmethod
    def _maintenance_window(cls, v: str) -> str:
        return check_window(v, WEEKLY_WINDOW, "sun:05:30-sun:06:30")

    @field_validator("slow_log_retention_days")
    @classmethod
    def _log_retention(cls, v: int) -> int:
        return check_log_retention(v)

    @model_validator(mode="after")
    def _consistent(self) -> Cache:
        allowed = ENGINE_VERSIONS[self.engine]
        if not _VERSION.match(self.engine_version) or self.engine_version not in allowed:
            raise KeyedError("engine_version", f"must be one of {', '.join(allowed)} for {self.engine}, got {self.engine_version!r}")
        if not self.cluster_mode and self.shards not in (None, 1):
            raise KeyedError("shards", f"must be 1 without cluster_mode (cluster mode disabled has one shard), got {self.shards}")
        if self.shards is not None and self.shards * (1 + self.replicas_per_shard) > MAX_NODES:
            nodes = self.shards * (1 + self.replicas_per_shard)
            raise KeyedError(
                "shards", f"shards x (1 + replicas_per_shard) must be <= {MAX_NODES} nodes, got {self.shards} x {1 + self.replicas_per_shard} = {nodes}"
            )
        if self.auth_token is None and self.engine == "redis" and int(self.engine_version.split(".")[0]) < IAM_AUTH_MIN_REDIS_MAJOR:
            raise KeyedError(
                "auth_token",
                f"must be set for redis {self.engine_version} (the default IAM-authenticated user needs Redis OSS 7.0+ or Valkey 7.2+), got nothing",
            )
        if self.multi_az and self.replicas_per_shard < 1:
            raise KeyedError("replicas_per_shard", f"must be >= 1 when multi_az is on (failover needs a replica), got {self.replicas_per_shard}")
        return self


ENV_DEFAULTS: PresetTable = {
    "dev": {"snapshot_retention_days": 1},
    "prod": {"node_type": "cache.r7g.large", "multi_az": True, "replicas_per_shard": 1, "cluster_mode": True, "snapshot_retention_days": 7},
}
PHASE_DEFAULTS: PresetTable = {"assessment": {"enabled": False}, "planning": {"enabled": False}}
