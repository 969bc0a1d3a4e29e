"""What the tiers share while the program builds the stack: config, providers, the
network and security groups, and whatever earlier tiers created (by name)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.network import Network
from components.security_groups import SecurityGroups
from infra.config import StackConfig
from infra.providers import Providers, opts_for


@dataclass
class Platform:
    config: StackConfig
    providers: Providers
    network: Network
    security: SecurityGroups
    components: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)

    def opts(self) -> pulumi.ResourceOptions:
        """Options for a top-level component (inherits the regional provider)."""
        return opts_for(self.providers)

    def get(self, name: str) -> Any:
        """A component an earlier tier created, or None when that tier is off."""
        return self.components.get(name)
