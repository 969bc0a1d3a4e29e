"""Cache: an ElastiCache (Valkey or Redis OSS) replication group."""

from __future__ import annotations

from typing import Literal

from pydantic import field_validator

from infra.config.base import PresetTable, Section
from scalestack import catalog


class Cache(Section):
    enabled: bool = True
    engine: Literal["valkey", "redis"] = "valkey"
    node_type: str = "cache.t4g.small"

    @field_validator("node_type")
    @classmethod
    def _known_node(cls, v: str) -> str:
        if v not in catalog.cache_node_types():
            raise ValueError(f"unknown ElastiCache node type {v!r}; e.g. {', '.join(sorted(catalog.cache_node_types())[:5])}, ...")
        return v


ENV_DEFAULTS: PresetTable = {"prod": {"node_type": "cache.r7g.large"}}
PHASE_DEFAULTS: PresetTable = {"assessment": {"enabled": False}, "planning": {"enabled": False}}
