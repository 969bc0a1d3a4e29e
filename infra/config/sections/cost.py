"""Cost controls: budget, anomaly detection, commitments."""

from __future__ import annotations

from pydantic import Field

from infra.config.base import PresetTable, Section


class Cost(Section):
    monthly_budget_usd: float = Field(default=1000.0, gt=0)
    budgets_enabled: bool = False


ENV_DEFAULTS: PresetTable = {"prod": {"monthly_budget_usd": 15000.0}, "dev": {"monthly_budget_usd": 600.0}}
# Budgets and anomaly detection arrive with the optimization phase.
PHASE_DEFAULTS: PresetTable = {"optimization": {"budgets_enabled": True}}
