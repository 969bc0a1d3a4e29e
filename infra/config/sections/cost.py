"""Cost controls: budget, anomaly detection, commitments."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, model_validator

from infra.config.base import PresetTable, Section
from infra.config.errors import KeyedError
from infra.config.sections.monitoring import _check_email


class AnomalyDetection(Section):
    """AWS Cost Anomaly Detection: one monitor, one subscription."""

    enabled: bool = False
    # AWS allows one DIMENSIONAL (SERVICE) monitor per account: the default watches this
    # stack's own cost-center tag, so several stacks can share an account.
    monitor: Literal["service", "tag"] = Field(default="tag", description="CUSTOM by the cost-center tag, or DIMENSIONAL by SERVICE.")
    frequency: Literal["IMMEDIATE", "DAILY", "WEEKLY"] = Field(default="IMMEDIATE", description="IMMEDIATE goes to SNS; DAILY/WEEKLY to email.")
    threshold_usd: Optional[float] = Field(default=100.0, gt=0, description="Absolute impact; alert at or above.")
    threshold_pct: Optional[float] = Field(default=None, gt=0, le=1000, description="Percentage impact; alert at or above.")
    emails: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> AnomalyDetection:
        for address in self.emails:
            try:
                _check_email(address)
            except ValueError as exc:
                raise KeyedError("emails", str(exc)) from None
        if self.threshold_usd is None and self.threshold_pct is None:
            raise KeyedError("threshold_usd", "set threshold_usd or threshold_pct, got neither")
        if self.frequency != "IMMEDIATE" and not self.emails:
            raise KeyedError("emails", f"must list at least one address for {self.frequency} summaries (only IMMEDIATE goes to SNS), got []")
        return self


class Cost(Section):
    monthly_budget_usd: float = Field(default=1000.0, gt=0)
    budgets_enabled: bool = False
    anomaly_detection: AnomalyDetection = AnomalyDetection()


ENV_DEFAULTS: PresetTable = {"prod": {"monthly_budget_usd": 15000.0}, "dev": {"monthly_budget_usd": 600.0}}
# Budgets and anomaly detection arrive with the optimization phase (earlier when the stack asks).
PHASE_DEFAULTS: PresetTable = {"optimization": {"budgets_enabled": True, "anomaly_detection": {"enabled": True}}}
