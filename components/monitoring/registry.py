"""The monitoring registry the platform carries (``platform.components["monitoring"]``).
Each tier calls one method for what it created; the registry creates that tier's alarms
(thresholds from config, routing from the alert topics) and remembers the resource for
the dashboard. A tier that is off never calls it: no alarms, no panels."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Optional

import pulumi
import pulumi_aws as aws

from components.monitoring import alarms
from components.monitoring.alarms import TierAlarms
from components.monitoring.alerting import AlertTopics, Routing
from components.monitoring.dashboard import Watched
from infra.config.sections.monitoring import Monitoring


class MonitoringRegistry:
    def __init__(
        self,
        config: Monitoring,
        region: str,
        topics: Optional[AlertTopics],
        global_provider: Callable[[], aws.Provider],
    ) -> None:
        self.config = config
        self.region = region
        self.topics = topics
        self._global_provider = global_provider
        self.watched: list[Watched] = []
        self.alarms: list[TierAlarms] = []
        self._spot_rule = False

    @property
    def enabled(self) -> bool:
        return self.config.enabled and self.topics is not None

    @property
    def routing(self) -> Routing:
        assert self.topics is not None, "monitoring is off"
        return self.topics.routing

    def _watch(self, alarm_set: Callable[..., TierAlarms], parent: pulumi.Resource, watched: Watched, **ids: Any) -> TierAlarms:
        """Create one tier's alarms with its thresholds (``monitoring.thresholds.<kind>``),
        the routing and the evaluation settings, and remember the resource for the dashboard."""
        ids.setdefault("topics", self.routing)
        result = alarm_set(parent, watched.name, thresholds=getattr(self.config.thresholds, watched.kind), evaluation=self.config.evaluation, **ids)
        self.alarms.append(result)
        self.watched.append(watched)
        return result

    def alb(self, parent: pulumi.Resource, name: str, *, lb_arn_suffix: pulumi.Input[str], tg_arn_suffix: pulumi.Input[str]) -> TierAlarms:
        if not self.enabled:
            return TierAlarms("alb")
        anomaly = self.config.anomaly if self.config.anomaly.enabled else None
        dims = {"LoadBalancer": lb_arn_suffix, "TargetGroup": tg_arn_suffix}
        return self._watch(
            alarms.alb_alarms, parent, Watched("alb", name, dims, self.region), lb_arn_suffix=lb_arn_suffix, tg_arn_suffix=tg_arn_suffix, anomaly=anomaly
        )

    def asg(
        self,
        parent: pulumi.Resource,
        name: str,
        *,
        group_name: pulumi.Input[str],
        on_demand_base: Optional[int] = None,
        on_demand_pct: Optional[float] = None,
    ) -> TierAlarms:
        """``on_demand_base``/``on_demand_pct``: the mixed instances split when the group uses spot."""
        if not self.enabled:
            return TierAlarms("asg")
        uses_spot = on_demand_pct is not None and on_demand_pct < 100
        spot_rule = uses_spot and self.config.spot_events and not self._spot_rule
        self._spot_rule = self._spot_rule or spot_rule
        facts = {"on_demand_base": on_demand_base or 0, "on_demand_pct": on_demand_pct} if uses_spot else {}
        watched = Watched("asg", name, {"AutoScalingGroupName": group_name}, self.region, facts=facts)
        return self._watch(alarms.asg_alarms, parent, watched, group_name=group_name, spot_events=spot_rule)

    def workers(
        self,
        parent: pulumi.Resource,
        name: str,
        *,
        queue_name: pulumi.Input[str],
        dlq_name: pulumi.Input[str],
        group_name: Optional[pulumi.Input[str]] = None,
        backlog_target: float = 0.0,
        priority_queue_name: Optional[pulumi.Input[str]] = None,
    ) -> TierAlarms:
        """``group_name``: the worker Auto Scaling group (none for KEDA-scaled pods)."""
        if not self.enabled:
            return TierAlarms("workers")
        dims: dict[str, pulumi.Input[str]] = {"QueueName": queue_name}
        if group_name is not None:
            dims["AutoScalingGroupName"] = group_name
        return self._watch(
            alarms.worker_alarms,
            parent,
            Watched("workers", name, dims, self.region, facts={"dlq_name": dlq_name}),
            queue_name=queue_name,
            dlq_name=dlq_name,
            group_name=group_name,
            backlog_target=backlog_target,
            priority_queue_name=priority_queue_name,
        )

    def database(
        self,
        parent: pulumi.Resource,
        name: str,
        *,
        instance_id: pulumi.Input[str],
        instance_class: str,
        allocated_storage_gb: int,
        replica_ids: Sequence[pulumi.Input[str]] = (),
    ) -> TierAlarms:
        if not self.enabled:
            return TierAlarms("database")
        members = [{"DBInstanceIdentifier": r} for r in replica_ids]
        return self._watch(
            alarms.rds_alarms,
            parent,
            Watched("database", name, {"DBInstanceIdentifier": instance_id}, self.region, members=members),
            instance_id=instance_id,
            instance_class=instance_class,
            allocated_storage_gb=allocated_storage_gb,
            replica_ids=replica_ids,
        )

    def proxy(self, parent: pulumi.Resource, name: str, *, proxy_name: pulumi.Input[str]) -> TierAlarms:
        if not self.enabled:
            return TierAlarms("proxy")
        return self._watch(alarms.proxy_alarms, parent, Watched("proxy", name, {"ProxyName": proxy_name}, self.region), proxy_name=proxy_name)

    def cache(self, parent: pulumi.Resource, name: str, *, member_cluster_ids: Sequence[pulumi.Input[str]]) -> TierAlarms:
        if not self.enabled:
            return TierAlarms("cache")
        members = [{"CacheClusterId": c} for c in member_cluster_ids]
        return self._watch(alarms.cache_alarms, parent, Watched("cache", name, {}, self.region, members=members), member_cluster_ids=member_cluster_ids)

    def cdn(self, parent: pulumi.Resource, name: str, *, distribution_id: pulumi.Input[str], additional_metrics: bool = False) -> TierAlarms:
        """``additional_metrics``: the distribution publishes cache hit rate (a paid subscription)."""
        if not self.enabled or self.topics is None:
            return TierAlarms("cdn")
        watched = Watched("cdn", name, {"DistributionId": distribution_id, "Region": "Global"}, self.region, facts={"additional_metrics": additional_metrics})
        return self._watch(
            alarms.cdn_alarms, parent, watched, distribution_id=distribution_id, provider=self._global_provider(), topics=self.topics.for_global()
        )

    def nat(self, parent: pulumi.Resource, name: str, *, nat_gateway_ids: Sequence[pulumi.Input[str]]) -> TierAlarms:
        if not self.enabled or not nat_gateway_ids:
            return TierAlarms("nat")
        members = [{"NatGatewayId": n} for n in nat_gateway_ids]
        return self._watch(alarms.nat_alarms, parent, Watched("nat", name, {}, self.region, members=members), nat_gateway_ids=nat_gateway_ids)
