"""Shared base for every config model: strict types, unknown keys refused, immutable."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

PresetTable = dict[str, dict[str, Any]]
"""phase or environment name -> partial section values (the section's own keys)."""


class Section(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, populate_by_name=True)
