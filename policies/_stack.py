"""The stack's own configuration (load profile, environment, AZs) for rules that compare
resources with what the capacity model says the load needs.

The stack is named by the policy config value ``stack`` (the offline runner fills it in)
or by ``$PULUMI_STACK`` (set by the engine for analyzers); the file is read with the
project's one loader, so the pack sees exactly the config the program was built from."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Optional

from infra.config import ConfigError, StackConfig, load_stack_file
from policies._lib import Config

PROJECT_DIR = Path(__file__).resolve().parent.parent


class NoStackConfig(Exception):
    """The rule cannot run: it needs the load profile and has none."""


@lru_cache(maxsize=16)
def _load(path: str, mtime: float) -> StackConfig:
    return load_stack_file(Path(path))


def stack_config(config: Config) -> StackConfig:
    stack = config.get("stack") or os.environ.get("PULUMI_STACK")
    if not stack:
        raise NoStackConfig("no load profile: set the policy config value 'stack' (or run under the engine, which sets $PULUMI_STACK)")
    path = Path(config.get("projectDir") or PROJECT_DIR) / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise NoStackConfig(f"no load profile: {path} not found")
    try:
        return _load(str(path), path.stat().st_mtime)
    except ConfigError as exc:
        raise NoStackConfig(f"no load profile: {exc}") from None


def needs_profile_message(exc: NoStackConfig) -> str:
    return f"cannot check this rule: {exc}"


def profile_or_finding(config: Config) -> tuple[Optional[StackConfig], str]:
    """The stack's config, or None and the finding that says why the rule cannot run."""
    try:
        return stack_config(config), ""
    except NoStackConfig as exc:
        return None, needs_profile_message(exc)
