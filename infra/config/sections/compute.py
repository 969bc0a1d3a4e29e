"""Compute: the platform choice and the shared shape of an instance group (web, workers):
launch template, mixed instances (spot above an on-demand base), instance refresh, warm
pool, lifecycle hook and the scaling policies the phase switches on."""

from __future__ import annotations

import re
from typing import Literal, Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from infra.config.base import PresetTable, Section
from infra.config.errors import KeyedError
from scalestack import catalog

Arch = Literal["arm64", "x86_64"]
PredictiveMode = Literal["off", "ForecastOnly", "ForecastAndScale"]
SpotStrategy = Literal["price-capacity-optimized", "capacity-optimized", "capacity-optimized-prioritized", "lowest-price"]
TerminationPolicy = Literal[
    "Default", "AllocationStrategy", "OldestLaunchTemplate", "OldestLaunchConfiguration", "ClosestToNextInstanceHour", "NewestInstance", "OldestInstance"
]

# Auto Scaling cron: minute hour day-of-month month day-of-week (UTC unless a time zone is set).
_CRON_FIELD = re.compile(r"^(\*|\?|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(/[0-9]+)?(,(\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(/[0-9]+)?)*$")
_CRON_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_NAMES = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC", "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}
MIN_LIFETIME_S, MAX_LIFETIME_S = 86_400, 31_536_000
MIN_SPOT_ALTERNATIVES = 3  # spot pools are per type and AZ: diversify


def check_cron(expr: str) -> str:
    """A five-field cron expression as Auto Scaling scheduled actions accept it."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"must be a 5-field cron expression (minute hour day month weekday), got {expr!r}")
    for text, (low, high) in zip(fields, _CRON_RANGES):
        if not _CRON_FIELD.match(text):
            raise ValueError(f"must be a 5-field cron expression (minute hour day month weekday), got {expr!r}")
        for token in re.split(r"[,/-]", text):
            if token in ("*", "?") or token.upper() in _NAMES:
                continue
            if not token.isdigit() or not low <= int(token) <= max(high, 59 if "/" in text else high):
                raise ValueError(f"cron field {text!r} must stay within {low}-{high}, got {expr!r}")
    return expr


def check_instance_type(v: str) -> str:
    """An EC2 type the instance catalogue knows (sizes, prices and alternatives come from it)."""
    if v not in catalog.ec2_types():
        raise ValueError(f"unknown EC2 instance type {v!r}; the catalogue knows {', '.join(sorted(catalog.ec2_types())[:6])}, ...")
    return v


def check_min_le_max(min_size: Optional[int], max_size: Optional[int]) -> None:
    if min_size is not None and max_size is not None and max_size < min_size:
        raise KeyedError("max_size", f"must be >= min_size ({min_size}), got {max_size}")


def check_time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"must be an IANA time zone such as 'America/New_York' or 'Etc/UTC', got {name!r}") from None
    return name


class Compute(Section):
    platform: Literal["asg", "eks"] = "asg"


class StepScaling(Section):
    """CPU step scaling for sudden spikes: one step per ``step_width_pct`` above the threshold."""

    enabled: bool = False
    cpu_threshold_pct: float = Field(default=80.0, gt=0, le=100)
    step_width_pct: float = Field(default=10.0, gt=0, le=50)
    adjustments: list[int] = Field(default_factory=lambda: [1, 2, 4], min_length=1, max_length=20, description="Instances to add per step (<= 20 steps).")


class ScheduledScaling(Section):
    """A business-hours floor: raise the minimum before the working day, lower it after."""

    enabled: bool = False
    time_zone: str = "America/New_York"
    business_hours_start: str = "0 8 * * MON-FRI"
    business_hours_end: str = "0 19 * * MON-FRI"
    business_hours_min_size: Optional[int] = Field(default=None, ge=0, le=1000, description="Unset: twice the capacity model's minimum, within max.")

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, v: str) -> str:
        return check_time_zone(v)

    @field_validator("business_hours_start", "business_hours_end")
    @classmethod
    def _cron(cls, v: str) -> str:
        return check_cron(v)


class Predictive(Section):
    mode: PredictiveMode = "off"
    max_capacity_buffer_pct: int = Field(default=10, ge=0, le=100)
    scheduling_buffer_s: int = Field(default=300, ge=0, le=3600)
    cpu_target_pct: float = Field(default=50.0, gt=0, le=100)


class Scaling(Section):
    """Which policies the group carries. The phase presets switch them; the stack file may override."""

    requests_tracking: bool = False
    request_target_utilization_pct: float = Field(default=70.0, gt=0, le=100, description="Target = per-instance rps x this.")
    cpu_tracking: bool = False
    cpu_target_pct: float = Field(default=50.0, gt=0, le=100)
    backlog_tracking: bool = False
    step: StepScaling = StepScaling()
    scheduled: ScheduledScaling = ScheduledScaling()
    predictive: Predictive = Predictive()


class InstanceRefresh(Section):
    min_healthy_pct: int = Field(default=90, ge=0, le=100)
    max_healthy_pct: int = Field(default=120, ge=100, le=200)
    checkpoints: list[int] = Field(default_factory=lambda: [33, 100])
    checkpoint_delay_s: int = Field(default=300, ge=0, le=172_800)
    auto_rollback: bool = True

    @field_validator("checkpoints")
    @classmethod
    def _ascending(cls, v: list[int]) -> list[int]:
        if v and (sorted(set(v)) != v or v[0] < 1 or v[-1] != 100):
            raise ValueError(f"must be ascending percentages from 1 ending at 100, got {v}")
        return v


class WarmPool(Section):
    enabled: bool = False
    min_size: int = Field(default=0, ge=0, le=1000)
    pool_state: Literal["Stopped", "Running", "Hibernated"] = "Stopped"
    reuse_on_scale_in: bool = True


def _default_termination() -> list[TerminationPolicy]:
    """Retire old templates first, then keep the spot mix balanced, then the oldest."""
    return ["OldestLaunchTemplate", "AllocationStrategy", "OldestInstance"]


class InstanceGroup(Section):
    """Fields every Auto Scaling group tier shares. ``min_size``/``max_size`` left unset
    are derived from the load profile by the capacity model."""

    enabled: bool = True
    instance_type: str = "t4g.small"
    instance_types: list[str] = Field(
        default_factory=list, description="Alternatives for the mixed-instances policy; empty: same-size types derived from the catalogue."
    )
    architecture: Optional[Arch] = Field(default=None, description="AMI architecture; unset: the instance type's.")
    min_size: Optional[int] = Field(default=None, ge=0, le=1000)
    max_size: Optional[int] = Field(default=None, ge=1, le=1000)
    user_data: str = ""
    root_volume_gb: int = Field(default=20, ge=8, le=16384)
    detailed_monitoring: bool = True
    on_demand_base: Optional[int] = Field(default=None, ge=0, le=1000, description="Instances always on-demand; unset: the group's minimum.")
    spot_pct: int = Field(default=0, ge=0, le=100, description="Share of capacity above the base that runs on spot.")
    spot_allocation_strategy: SpotStrategy = "price-capacity-optimized"
    capacity_rebalance: bool = True
    health_check_grace_s: int = Field(default=300, ge=0, le=7200)
    default_instance_warmup_s: int = Field(default=180, ge=0, le=3600)
    max_instance_lifetime_s: int = Field(default=0, ge=0, le=MAX_LIFETIME_S)
    termination_policies: list[TerminationPolicy] = Field(default_factory=_default_termination)
    maintenance_min_healthy_pct: int = Field(default=90, ge=0, le=100)
    maintenance_max_healthy_pct: int = Field(default=120, ge=100, le=200)
    drain_timeout_s: int = Field(default=300, ge=30, le=7200, description="Lifecycle hook heartbeat for graceful drain.")
    refresh: InstanceRefresh = InstanceRefresh()
    warm_pool: WarmPool = WarmPool()
    scaling: Scaling = Scaling()

    @field_validator("instance_type")
    @classmethod
    def _known_type(cls, v: str) -> str:
        return check_instance_type(v)

    @property
    def arch(self) -> str:
        return catalog.ec2_type(self.instance_type).arch

    def alternatives(self) -> list[str]:
        """The mixed-instances overrides after the primary: explicit, else same-size types."""
        if self.instance_types:
            return [t for t in self.instance_types if t != self.instance_type]
        try:
            return catalog.same_size_alternatives(self.instance_type, minimum=0, widen_burstable=True)
        except ValueError:
            return []

    @model_validator(mode="after")
    def _consistent(self) -> InstanceGroup:
        check_min_le_max(self.min_size, self.max_size)
        if self.architecture is not None and self.arch != self.architecture:
            raise KeyedError("instance_type", f"must be an {self.architecture} type (the AMI architecture), got {self.instance_type} ({self.arch})")
        for i, name in enumerate(self.instance_types):
            if name not in catalog.ec2_types():
                raise KeyedError(f"instance_types.{i}", f"unknown EC2 instance type {name!r}")
            if catalog.ec2_type(name).arch != self.arch:
                raise KeyedError(
                    f"instance_types.{i}", f"must match the AMI architecture {self.arch} of {self.instance_type}, got {name} ({catalog.ec2_type(name).arch})"
                )
        if self.max_size is not None and self.on_demand_base is not None and self.on_demand_base > self.max_size:
            raise KeyedError("on_demand_base", f"must be <= max_size ({self.max_size}), got {self.on_demand_base}")
        if self.spot_pct > 0 and self.warm_pool.enabled:
            raise KeyedError("warm_pool.enabled", f"must be false while spot_pct > 0 (warm pools cannot hold spot instances), got spot_pct {self.spot_pct}")
        if self.spot_pct > 0 and len(self.alternatives()) < MIN_SPOT_ALTERNATIVES:
            raise KeyedError(
                "instance_types",
                f"must list at least {MIN_SPOT_ALTERNATIVES} {self.arch} alternatives to {self.instance_type} for a spot mix, got {len(self.alternatives())}",
            )
        if 0 < self.max_instance_lifetime_s < MIN_LIFETIME_S:
            raise KeyedError("max_instance_lifetime_s", f"must be 0 or {MIN_LIFETIME_S}-{MAX_LIFETIME_S}, got {self.max_instance_lifetime_s}")
        return self


ENV_DEFAULTS: PresetTable = {}
PHASE_DEFAULTS: PresetTable = {}
