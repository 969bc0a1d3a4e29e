"""Shared fixtures: each shipped stack is planned once per test process."""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from scalestack import REPO_ROOT
from scalestack.offline import Capture, run_stack, stack_names

SHIPPED_STACKS = stack_names(REPO_ROOT)


@cache
def captured(stack: str) -> Capture:
    return run_stack(REPO_ROOT, stack)


@pytest.fixture(scope="session")
def dev() -> Capture:
    return captured("dev")


@pytest.fixture(scope="session")
def prod() -> Capture:
    return captured("prod")


def shipped_config(stack: str) -> dict[str, Any]:
    """The ``config:`` mapping of a shipped stack file, for tests to vary."""
    doc = yaml.safe_load((REPO_ROOT / f"Pulumi.{stack}.yaml").read_text())
    return copy.deepcopy(doc["config"])


def write_stack(project_dir: Path, stack: str, config: dict[str, Any]) -> Path:
    """A minimal project holding one stack file with ``config``."""
    project_dir.mkdir(parents=True, exist_ok=True)
    (project_dir / "Pulumi.yaml").write_text((REPO_ROOT / "Pulumi.yaml").read_text())
    path = project_dir / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump({"config": config}, sort_keys=False))
    return path


def plan_variant(tmp_path: Path, base_stack: str, overrides: dict[str, Any], stack: str = "variant") -> Capture:
    """Plan a shipped stack with some project keys replaced (``{"web": {...}}``)."""
    config = shipped_config(base_stack)
    for key, value in overrides.items():
        full = key if ":" in key else f"mortgagematch-scaling:{key}"
        if value is None:
            config.pop(full, None)
        elif isinstance(value, dict) and isinstance(config.get(full), dict):
            config[full] = {**config[full], **value}
        else:
            config[full] = value
    write_stack(tmp_path, stack, config)
    return run_stack(tmp_path, stack)
