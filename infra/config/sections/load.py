"""The load profile: what the platform must serve. The capacity model turns it into
instance counts, replicas, cache sizes and usage volumes."""

from __future__ import annotations

from pydantic import Field, model_validator

from infra.config.base import PresetTable, Section
from infra.config.errors import KeyedError


class LoadProfile(Section):
    baseline_rps: float = Field(default=50.0, gt=0, description="Steady requests/s outside peaks.")
    peak_rps: float = Field(default=500.0, gt=0, description="Requests/s at today's peak.")
    monthly_growth_pct: float = Field(default=5.0, ge=0, le=100)
    horizon_months: int = Field(default=12, ge=0, le=60, description="Plan capacity this far ahead.")
    headroom_pct: float = Field(default=30.0, ge=0, le=200)
    rps_per_vcpu: float = Field(default=50.0, gt=0, description="Requests/s one vCPU serves at target CPU.")
    rps_per_instance: dict[str, float] = Field(default_factory=dict, description="Measured requests/s per instance type; overrides rps_per_vcpu.")
    db_queries_per_request: float = Field(default=2.0, ge=0)
    db_qps_per_vcpu: float = Field(default=300.0, gt=0, description="Queries/s one DB vCPU serves at target CPU.")
    db_pool_size: int = Field(default=10, ge=1, le=500, description="DB connections each app or worker instance holds.")
    db_read_share: float = Field(default=0.8, ge=0, le=1, description="Share of DB queries that are reads.")
    cache_working_set_gb: float = Field(default=1.0, ge=0)
    job_rate_per_s: float = Field(default=1.0, ge=0, description="Background jobs enqueued per second at peak.")
    seconds_per_job: float = Field(default=2.0, gt=0)
    avg_response_kb: float = Field(default=40.0, gt=0, description="Mean response size, for data volumes.")

    @model_validator(mode="after")
    def _peak_covers_baseline(self) -> LoadProfile:
        if self.peak_rps < self.baseline_rps:
            raise KeyedError("peak_rps", f"must be >= baseline_rps ({self.baseline_rps:g}), got {self.peak_rps:g}")
        for type_name, rps in self.rps_per_instance.items():
            if rps <= 0:
                raise KeyedError(f"rps_per_instance.{type_name}", f"must be > 0, got {rps:g}")
        return self


ENV_DEFAULTS: PresetTable = {}
PHASE_DEFAULTS: PresetTable = {}
