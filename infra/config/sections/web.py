"""Web tier: the request-serving Auto Scaling group behind the load balancer."""

from __future__ import annotations

from infra.config.base import PresetTable
from infra.config.sections.compute import InstanceGroup


class Web(InstanceGroup):
    pass


ENV_DEFAULTS: PresetTable = {
    "dev": {"instance_type": "t4g.small"},
    "staging": {"instance_type": "t4g.medium"},
    "prod": {"instance_type": "m7g.large"},
}
PHASE_DEFAULTS: PresetTable = {}
