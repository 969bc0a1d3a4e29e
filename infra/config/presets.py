"""Phase and environment presets. The stack file names its environment and phase; the
presets fill in what it leaves out. Precedence: schema default < environment preset <
phase preset < stack file."""

from __future__ import annotations

import copy
from types import ModuleType
from typing import Any

from infra.config.sections import cache, cdn, compute, cost, database, eks, load, monitoring, network, reserved, tags, web, workers

SECTION_MODULES: dict[str, ModuleType] = {
    "tags": tags,
    "load": load,
    "network": network,
    "compute": compute,
    "web": web,
    "workers": workers,
    "database": database,
    "cache": cache,
    "cdn": cdn,
    "monitoring": monitoring,
    "cost": cost,
    "eks": eks,
    "reserved": reserved,
}


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """A new dict: ``override`` wins; nested dicts merge; ``base`` is not modified."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def preset_for(environment: str, phase: str) -> dict[str, dict[str, Any]]:
    """Section name -> preset values for this environment and phase."""
    result: dict[str, dict[str, Any]] = {}
    for section, module in SECTION_MODULES.items():
        merged = deep_merge(module.ENV_DEFAULTS.get(environment, {}), module.PHASE_DEFAULTS.get(phase, {}))
        if merged:
            result[section] = merged
    return result


def apply_presets(values: dict[str, Any]) -> dict[str, Any]:
    """Merge the presets under the stack file's values (sections that are not mappings are
    left for validation to reject)."""
    environment, phase = values.get("environment"), values.get("phase")
    if not isinstance(environment, str) or not isinstance(phase, str):
        return values
    out = dict(values)
    for section, preset in preset_for(environment, phase).items():
        given = values.get(section, {})
        if isinstance(given, dict):
            out[section] = deep_merge(preset, given)
    return out
