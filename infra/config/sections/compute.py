"""Compute: the platform choice and the shared shape of an instance group (web, workers)."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, field_validator, model_validator

from infra.config.base import PresetTable, Section
from infra.config.errors import KeyedError
from scalestack import catalog


class Compute(Section):
    platform: Literal["asg", "eks"] = "asg"


class InstanceGroup(Section):
    """Fields every Auto Scaling group tier shares. ``min_size``/``max_size`` left unset
    are derived from the load profile by the capacity model."""

    enabled: bool = True
    instance_type: str = "t4g.small"
    min_size: Optional[int] = Field(default=None, ge=0, le=1000)
    max_size: Optional[int] = Field(default=None, ge=1, le=1000)

    @field_validator("instance_type")
    @classmethod
    def _known_type(cls, v: str) -> str:
        if v not in catalog.ec2_types():
            raise ValueError(f"unknown EC2 instance type {v!r}; the catalogue knows {', '.join(sorted(catalog.ec2_types())[:6])}, ...")
        return v

    @model_validator(mode="after")
    def _min_le_max(self) -> InstanceGroup:
        if self.min_size is not None and self.max_size is not None and self.max_size < self.min_size:
            raise KeyedError("max_size", f"must be >= min_size ({self.min_size}), got {self.max_size}")
        return self


ENV_DEFAULTS: PresetTable = {}
PHASE_DEFAULTS: PresetTable = {}
