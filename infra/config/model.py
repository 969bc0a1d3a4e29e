"""The root of the typed stack configuration."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from infra.config.base import Section
from infra.config.errors import KeyedError
from infra.config.sections.cache import Cache
from infra.config.sections.cdn import Cdn
from infra.config.sections.compute import Compute
from infra.config.sections.cost import Cost
from infra.config.sections.database import Database
from infra.config.sections.load import LoadProfile
from infra.config.sections.monitoring import Monitoring
from infra.config.sections.network import Network
from infra.config.sections.reserved import Reserved
from infra.config.sections.tags import Tags
from infra.config.sections.web import Web
from infra.config.sections.workers import Workers
from scalestack import catalog

Environment = Literal["dev", "staging", "prod"]
Phase = Literal["assessment", "planning", "implementation", "optimization"]
PHASES: tuple[Phase, ...] = ("assessment", "planning", "implementation", "optimization")
ENVIRONMENTS: tuple[Environment, ...] = ("dev", "staging", "prod")


class StackConfig(Section):
    environment: Environment
    phase: Phase
    region: str = "us-east-1"
    tags: Tags
    load: LoadProfile = LoadProfile()
    network: Network = Network()
    compute: Compute = Compute()
    web: Web = Web()
    workers: Workers = Workers()
    database: Database = Database()
    cache: Cache = Cache()
    cdn: Cdn = Cdn()
    monitoring: Monitoring = Monitoring()
    cost: Cost = Cost()
    reserved: Reserved = Reserved()

    @property
    def is_prod(self) -> bool:
        return self.environment == "prod"

    @property
    def azs(self) -> list[str]:
        """The AZ names the stack spans, in the region's order."""
        return catalog.regions()[self.region][: self.network.az_count]

    def resource_tags(self) -> dict[str, str]:
        """Tags every taggable resource carries (applied as provider default tags)."""
        return {
            "owner": self.tags.owner,
            "cost-center": self.tags.cost_center,
            "environment": self.environment,
            "phase": self.phase,
            "managed-by": "pulumi",
            **self.tags.extra,
        }

    @model_validator(mode="after")
    def _region_fits(self) -> StackConfig:
        regions = catalog.regions()
        if self.region not in regions:
            raise KeyedError("region", f"must be one of {', '.join(regions)}, got {self.region!r}")
        available = len(regions[self.region])
        if self.network.az_count > available:
            raise KeyedError("network.az_count", f"must be <= {available} (AZs in {self.region}), got {self.network.az_count}")
        self._check_data_and_edge()
        return self

    def _check_data_and_edge(self) -> None:
        """Rules that need the environment or phase next to the data and edge sections."""
        if self.is_prod and self.database.enabled and self.database.backup_retention_days < 7:
            raise KeyedError("database.backup_retention_days", f"must be >= 7 in prod, got {self.database.backup_retention_days}")
        for section in ("database", "cache"):
            purchase = getattr(self.reserved, section)
            if purchase.purchase and self.phase != "optimization":
                raise KeyedError(f"reserved.{section}.purchase", f"may be true only in the optimization phase (this stack is in {self.phase}), got True")
            if purchase.purchase and not getattr(self, section).enabled:
                raise KeyedError(f"reserved.{section}.purchase", f"may be true only while {section}.enabled is true, got True")
