"""Queue workers: background jobs pulled from SQS by their own Auto Scaling group."""

from __future__ import annotations

from typing import Optional

from pydantic import Field, model_validator

from infra.config.base import PresetTable
from infra.config.errors import KeyedError
from infra.config.sections.compute import InstanceGroup

SQS_MAX_VISIBILITY_S = 43_200


class Workers(InstanceGroup):
    acceptable_latency_s: float = Field(default=60.0, gt=0, description="How long a job may wait in the queue.")
    job_timeout_s: int = Field(default=300, ge=1, le=SQS_MAX_VISIBILITY_S - 1)
    visibility_timeout_s: Optional[int] = Field(default=None, ge=1, le=SQS_MAX_VISIBILITY_S, description="Unset: job timeout + 60 s.")
    max_receive_count: int = Field(default=5, ge=1, le=1000, description="Deliveries before a message moves to the DLQ.")
    priority_queue: bool = False
    message_retention_s: int = Field(default=345_600, ge=60, le=1_209_600)

    @property
    def visibility_timeout(self) -> int:
        return self.visibility_timeout_s if self.visibility_timeout_s is not None else min(self.job_timeout_s + 60, SQS_MAX_VISIBILITY_S)

    @model_validator(mode="after")
    def _visibility_covers_job(self) -> Workers:
        if self.visibility_timeout <= self.job_timeout_s:
            raise KeyedError("visibility_timeout_s", f"must be > job_timeout_s ({self.job_timeout_s}), got {self.visibility_timeout}")
        return self


ENV_DEFAULTS: PresetTable = {
    "dev": {"instance_type": "t4g.small"},
    "prod": {"instance_type": "c7g.large", "priority_queue": True},
}
# The guide brings queue workers with the implementation phase; they scale on backlog.
PHASE_DEFAULTS: PresetTable = {
    "assessment": {"enabled": False},
    "planning": {"enabled": False},
    "implementation": {"scaling": {"backlog_tracking": True}},
    "optimization": {"scaling": {"backlog_tracking": True}, "spot_pct": 70},
}
