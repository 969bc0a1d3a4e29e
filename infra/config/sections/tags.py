"""Mandatory cost-allocation tags. ``environment`` is added from the stack's environment."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from infra.config.base import PresetTable, Section

_TAG_KEY = re.compile(r"^[\w.:/=+\-@ ]{1,128}$")


class Tags(Section):
    owner: str = Field(min_length=1, max_length=256)
    cost_center: str = Field(alias="cost-center", min_length=1, max_length=256)
    extra: dict[str, str] = Field(default_factory=dict, description="More tags for every resource.")

    @field_validator("extra")
    @classmethod
    def _valid_keys(cls, v: dict[str, str]) -> dict[str, str]:
        for key in v:
            if not _TAG_KEY.match(key) or key.lower().startswith("aws:"):
                raise ValueError(f"tag key {key!r} is not allowed (1-128 chars, no 'aws:' prefix)")
        return v


ENV_DEFAULTS: PresetTable = {}
PHASE_DEFAULTS: PresetTable = {}
