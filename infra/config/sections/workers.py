"""Queue workers: background jobs pulled from SQS by their own Auto Scaling group."""

from __future__ import annotations

from infra.config.base import PresetTable
from infra.config.sections.compute import InstanceGroup


class Workers(InstanceGroup):
    pass


ENV_DEFAULTS: PresetTable = {
    "dev": {"instance_type": "t4g.small"},
    "prod": {"instance_type": "c7g.large"},
}
# The guide brings queue workers with the implementation phase.
PHASE_DEFAULTS: PresetTable = {
    "assessment": {"enabled": False},
    "planning": {"enabled": False},
}
