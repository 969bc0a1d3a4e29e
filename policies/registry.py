"""The rule modules of the pack. Each module exports ``POLICIES``; adding a module is
one line in ``MODULES``."""

from __future__ import annotations

import importlib

from pulumi_policy import Policy

MODULES: tuple[str, ...] = (
    "security",
    "reliability",
    "cost",
    "cost_estimator",
    "rightsizing",
    "kubernetes",
)


def all_policies() -> list[Policy]:
    """Every policy of every module, refusing duplicate names (the engine keys config by name)."""
    policies: list[Policy] = []
    seen: dict[str, str] = {}
    for module in MODULES:
        for policy in importlib.import_module(f"policies.{module}").POLICIES:
            if policy.name in seen:
                raise ValueError(f"policy {policy.name!r} is defined in both {seen[policy.name]} and {module}")
            seen[policy.name] = module
            policies.append(policy)
    return policies
