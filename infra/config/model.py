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
from infra.config.sections.eks import EKS_PHASES, Eks
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
    eks: Eks = Eks()
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

    @model_validator(mode="after")
    def _cost_alerts_need_topics(self) -> StackConfig:
        """Budgets and cost anomalies notify the alert topics, which monitoring creates."""
        if not self.monitoring.enabled:
            for key, on in (("cost.budgets_enabled", self.cost.budgets_enabled), ("cost.anomaly_detection.enabled", self.cost.anomaly_detection.enabled)):
                if on:
                    raise KeyedError(key, "must be false while monitoring.enabled is false (cost alerts go to the alert topics), got True")
        return self

    @model_validator(mode="after")
    def _groups_fit(self) -> StackConfig:
        from scalestack import capacity  # the model imports the config sections

        for tier, group, model in (
            ("web", self.web, capacity.web_capacity),
            ("workers", self.workers, capacity.worker_capacity),
        ):
            sizes = capacity.group_sizes(group, model(self.load, group.instance_type, self.network.az_count, self.is_prod))
            if sizes.on_demand_base > sizes.max_size:
                raise KeyedError(f"{tier}.on_demand_base", f"must be <= max_size ({sizes.max_size}), got {sizes.on_demand_base}")
            if sizes.business_hours_min > sizes.max_size:
                raise KeyedError(f"{tier}.scaling.scheduled.business_hours_min_size", f"must be <= max_size ({sizes.max_size}), got {sizes.business_hours_min}")
            if group.warm_pool.enabled and group.warm_pool.min_size > sizes.max_size:
                raise KeyedError(f"{tier}.warm_pool.min_size", f"must be <= max_size ({sizes.max_size}), got {group.warm_pool.min_size}")
        return self

    @model_validator(mode="after")
    def _https_origin_has_a_name(self) -> StackConfig:
        """CloudFront verifies an HTTPS origin's certificate against the origin's name; the
        ALB's own DNS name can never be on an ACM certificate (every request would be a 502)."""
        serves_https = self.compute.platform == "asg" and self.web.enabled and self.web.certificate_arn is not None
        if self.cdn.enabled and serves_https and self.cdn.origin_domain_name is None:
            raise KeyedError(
                "cdn.origin_domain_name",
                "must be set when CloudFront fronts the HTTPS ALB: a name on the ALB's certificate that resolves to the ALB, got nothing",
            )
        return self

    @model_validator(mode="after")
    def _platform_fits_phase(self) -> StackConfig:
        if self.compute.platform == "eks" and self.phase not in EKS_PHASES:
            raise KeyedError(
                "compute.platform",
                f"must be 'asg' in phase {self.phase!r} (eks needs the autoscaling of the {' or '.join(EKS_PHASES)} phase), got 'eks'",
            )
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
