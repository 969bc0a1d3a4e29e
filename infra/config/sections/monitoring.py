"""Monitoring and alerting. On in every phase: the guide measures before it scales."""

from __future__ import annotations

from infra.config.base import PresetTable, Section


class Monitoring(Section):
    enabled: bool = True


ENV_DEFAULTS: PresetTable = {}
PHASE_DEFAULTS: PresetTable = {}
