"""Per-tier alarms, created as children of the tier's component from the metric
definitions in ``metrics.py``. Each function takes typed identifiers of what it watches,
the thresholds (config sections, whose defaults are the sane defaults) and the alert
routing, and returns the alarms it made.

Every alarm has ``ok_actions`` (recoveries are news too), M-of-N datapoints (no flapping
on one noisy minute) and a ``treat_missing_data`` chosen per alarm: the comment at each
call says why."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Optional

import pulumi
import pulumi_aws as aws

from components.monitoring import metrics as m
from components.monitoring.alerting import Routing, Severity
from components.naming import child
from infra.config.sections.monitoring import (
    AlbThresholds,
    Anomaly,
    AsgThresholds,
    CacheThresholds,
    CdnThresholds,
    DatabaseThresholds,
    Evaluation,
    NatThresholds,
    ProxyThresholds,
    WorkerThresholds,
    max_evaluation_periods,
)
from scalestack import catalog

Missing = Literal["breaching", "notBreaching", "ignore", "missing"]
Comparison = Literal[
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
    "LessThanLowerOrGreaterThanUpperThreshold",
    "GreaterThanUpperThreshold",
]
DEFAULT_EVALUATION = Evaluation()


@dataclass
class TierAlarms:
    """The alarms one call created, by role (``error_rate``, ``latency``, ...)."""

    tier: str
    alarms: dict[str, aws.cloudwatch.MetricAlarm] = field(default_factory=dict)
    rules: list[aws.cloudwatch.EventRule] = field(default_factory=list)

    def names(self, *roles: str) -> list[pulumi.Output[str]]:
        """Alarm names, e.g. for an instance refresh ``alarm_specification``."""
        return [self.alarms[r].name for r in roles if r in self.alarms]

    @property
    def rollback_alarm_names(self) -> list[pulumi.Output[str]]:
        """The ALB alarms an instance refresh rolls back on: 5xx rate and p99 latency."""
        return self.names("error_rate", "latency")


@dataclass(frozen=True)
class _Ctx:
    parent: pulumi.Resource
    name: str
    topics: Routing
    evaluation: Evaluation
    result: TierAlarms
    provider: Optional[aws.Provider] = None

    def _opts(self) -> pulumi.ResourceOptions:
        return child(self.parent, provider=self.provider) if self.provider else child(self.parent)

    def alarm(
        self,
        role: str,
        series: m.Series,
        dims: m.Dims,
        *,
        threshold: pulumi.Input[float],
        comparison: Comparison,
        severity: Severity,
        missing: Missing,
        description: str,
        periods: Optional[int] = None,
        datapoints: Optional[int] = None,
        suffix: str = "",
    ) -> aws.cloudwatch.MetricAlarm:
        ev = self.evaluation
        periods = periods or ev.evaluation_periods
        datapoints = min(datapoints or ev.datapoints_to_alarm, periods)
        source: dict[str, object]
        source = series.alarm_args(dims, ev.period_s) if isinstance(series, m.Metric) else {"metric_queries": series.queries(dims, ev.period_s)}
        logical = f"{self.name}-{role}{suffix}"
        actions = self.topics.actions(severity)
        alarm = aws.cloudwatch.MetricAlarm(
            logical,
            alarm_description=f"[{severity}] {description}",
            comparison_operator=comparison,
            threshold=threshold,
            evaluation_periods=periods,
            datapoints_to_alarm=datapoints,
            treat_missing_data=missing,
            alarm_actions=actions,
            ok_actions=actions,
            tags={"severity": severity, "tier": self.result.tier},
            opts=self._opts(),
            **source,  # type: ignore[arg-type]
        )
        self.result.alarms[f"{role}{suffix}"] = alarm
        return alarm

    def anomaly(self, role: str, metric: m.Metric, dims: m.Dims, anomaly: Anomaly, comparison: Comparison, missing: Missing, description: str) -> None:
        """An anomaly-detection alarm: the threshold is the band, not a number."""
        band = aws.cloudwatch.MetricAlarmMetricQueryArgs(id="band", expression=m.anomaly_band(metric, anomaly.band_width), label="expected", return_data=True)
        query = metric.query(dims, return_data=True, period=self.evaluation.period_s)
        actions = self.topics.actions("warning")
        self.result.alarms[role] = aws.cloudwatch.MetricAlarm(
            f"{self.name}-{role}",
            alarm_description=f"[warning] {description} (outside {anomaly.band_width:g} standard deviations of the learned band)",
            comparison_operator=comparison,
            threshold_metric_id="band",
            metric_queries=[query, band],
            evaluation_periods=anomaly.evaluation_periods,
            datapoints_to_alarm=anomaly.datapoints_to_alarm,
            treat_missing_data=missing,
            alarm_actions=actions,
            ok_actions=actions,
            tags={"severity": "warning", "tier": self.result.tier},
            opts=self._opts(),
        )


def alb_alarms(
    parent: pulumi.Resource,
    name: str,
    *,
    lb_arn_suffix: pulumi.Input[str],
    tg_arn_suffix: pulumi.Input[str],
    topics: Routing,
    thresholds: AlbThresholds = AlbThresholds(),
    evaluation: Evaluation = DEFAULT_EVALUATION,
    anomaly: Optional[Anomaly] = Anomaly(),
) -> TierAlarms:
    """5xx rate, p99 latency, unhealthy hosts, rejected connections, and anomaly alarms on
    request count and p99 latency."""
    ctx = _Ctx(parent, name, topics, evaluation, TierAlarms("alb"))
    lb = {"LoadBalancer": lb_arn_suffix}
    tg = {"LoadBalancer": lb_arn_suffix, "TargetGroup": tg_arn_suffix}
    # No requests -> no rate: quiet is not an error.
    ctx.alarm(
        "error_rate",
        m.ALB_5XX_RATE,
        lb,
        threshold=thresholds.error_rate_pct,
        comparison="GreaterThanThreshold",
        severity="critical",
        missing="notBreaching",
        description=f"ALB 5xx rate above {thresholds.error_rate_pct:g}%",
    )
    # No requests -> no latency datapoints; nothing to judge.
    ctx.alarm(
        "latency",
        m.ALB_LATENCY,
        lb,
        threshold=thresholds.p99_latency_s,
        comparison="GreaterThanThreshold",
        severity="warning",
        missing="notBreaching",
        description=f"target p99 response time above {thresholds.p99_latency_s:g}s",
    )
    # Published every minute while targets are registered; a gap (deploy, re-registration) is
    # no evidence either way, so keep the current state.
    ctx.alarm(
        "unhealthy_hosts",
        m.ALB_UNHEALTHY,
        tg,
        threshold=thresholds.unhealthy_hosts,
        comparison="GreaterThanThreshold",
        severity="warning",
        missing="missing",
        description=f"more than {thresholds.unhealthy_hosts} unhealthy targets",
    )
    # Only published when connections are rejected.
    ctx.alarm(
        "rejected_connections",
        m.ALB_REJECTED,
        lb,
        threshold=thresholds.rejected_connections,
        comparison="GreaterThanThreshold",
        severity="critical",
        missing="notBreaching",
        description="ALB rejects connections (max connections reached)",
    )
    if anomaly is not None and anomaly.enabled:
        # The ALB publishes no RequestCount when traffic stops entirely: that is the worst anomaly.
        ctx.anomaly("requests_anomaly", m.ALB_REQUESTS, lb, anomaly, "LessThanLowerOrGreaterThanUpperThreshold", "breaching", "request count unusual")
        ctx.anomaly("latency_anomaly", m.ALB_LATENCY, lb, anomaly, "GreaterThanUpperThreshold", "notBreaching", "p99 latency unusually high")
    return ctx.result


SPOT_EVENT_TYPES = ("EC2 Spot Instance Interruption Warning", "EC2 Instance Rebalance Recommendation")


def spot_event_rule(parent: pulumi.Resource, name: str, topic_arn: pulumi.Input[str]) -> aws.cloudwatch.EventRule:
    """Forward spot interruption warnings and rebalance recommendations to SNS. The events
    carry only the instance id, so one rule per stack serves every group."""
    rule = aws.cloudwatch.EventRule(
        f"{name}-spot-events",
        description="EC2 spot interruption warnings and rebalance recommendations",
        event_pattern=json.dumps({"source": ["aws.ec2"], "detail-type": list(SPOT_EVENT_TYPES)}),
        opts=child(parent),
    )
    aws.cloudwatch.EventTarget(f"{name}-spot-events-sns", rule=rule.name, arn=topic_arn, opts=child(parent))
    return rule


def asg_alarms(
    parent: pulumi.Resource,
    name: str,
    *,
    group_name: pulumi.Input[str],
    topics: Routing,
    thresholds: AsgThresholds = AsgThresholds(),
    evaluation: Evaluation = DEFAULT_EVALUATION,
    spot_events: bool = False,
) -> TierAlarms:
    """Sustained high CPU; group at max capacity (in service >= the live GroupMaxSize, so a
    changed max never leaves a stale threshold); optionally the spot event rule."""
    ctx = _Ctx(parent, name, topics, evaluation, TierAlarms("asg"))
    group = {"AutoScalingGroupName": group_name}
    # Longer fixed windows below are capped to what CloudWatch accepts for this period.
    longest = max_evaluation_periods(evaluation.period_s)
    # An empty group has no CPU datapoints; the capacity alarm covers that case.
    ctx.alarm(
        "cpu",
        m.ASG_CPU,
        group,
        threshold=thresholds.cpu_pct,
        comparison="GreaterThanThreshold",
        severity="warning",
        missing="missing",
        description=f"group CPU above {thresholds.cpu_pct:g}%",
        periods=max(evaluation.evaluation_periods, min(10, longest)),
        datapoints=max(evaluation.datapoints_to_alarm, min(8, longest)),
    )
    at_max_periods = min(longest, max(1, math.ceil(thresholds.at_max_minutes * 60 / evaluation.period_s)))
    # Group metrics arrive every minute while collection is on: a gap is a collection problem.
    ctx.alarm(
        "at_max",
        m.ASG_AT_MAX,
        group,
        threshold=1,
        comparison="GreaterThanOrEqualToThreshold",
        severity="critical",
        missing="missing",
        description=f"in service >= max size for {thresholds.at_max_minutes} min: no room to scale",
        periods=at_max_periods,
        datapoints=at_max_periods,
    )
    if spot_events:
        ctx.result.rules.append(spot_event_rule(parent, name, topics.warning))
    return ctx.result


def worker_alarms(
    parent: pulumi.Resource,
    name: str,
    *,
    queue_name: pulumi.Input[str],
    dlq_name: pulumi.Input[str],
    group_name: Optional[pulumi.Input[str]],
    backlog_target: float,
    topics: Routing,
    thresholds: WorkerThresholds = WorkerThresholds(),
    evaluation: Evaluation = DEFAULT_EVALUATION,
    priority_queue_name: Optional[pulumi.Input[str]] = None,
) -> TierAlarms:
    """Age of the oldest message (per work queue), DLQ not empty, and, for an Auto Scaling
    group (``group_name``; KEDA-scaled pods have none), backlog per instance far above target."""
    ctx = _Ctx(parent, name, topics, evaluation, TierAlarms("workers"))
    queue = {"QueueName": queue_name}
    work_queues = [("oldest_message", queue)] + ([("priority_oldest_message", {"QueueName": priority_queue_name})] if priority_queue_name is not None else [])
    # SQS stops publishing for queues idle for hours: an idle queue is a healthy one.
    for key, dims in work_queues:
        ctx.alarm(
            key,
            m.QUEUE_OLDEST,
            dims,
            threshold=thresholds.oldest_message_age_s,
            comparison="GreaterThanThreshold",
            severity="warning",
            missing="notBreaching",
            description=f"oldest job waits more than {thresholds.oldest_message_age_s}s",
        )
    # Any dead letter needs a human; one datapoint is enough (no flapping: it stays until drained).
    ctx.alarm(
        "dlq",
        m.DLQ_VISIBLE,
        {"QueueName": dlq_name},
        threshold=0,
        comparison="GreaterThanThreshold",
        severity="warning",
        missing="notBreaching",
        description="dead-letter queue is not empty",
        periods=1,
        datapoints=1,
    )
    if group_name is None:
        return ctx.result
    limit = backlog_target * thresholds.backlog_factor
    ctx.alarm(
        "backlog",
        m.BACKLOG_PER_INSTANCE,
        {"QueueName": queue_name, "AutoScalingGroupName": group_name},
        threshold=limit,
        comparison="GreaterThanThreshold",
        severity="critical",
        missing="notBreaching",
        description=f"backlog per instance above {limit:g} ({thresholds.backlog_factor:g} x target {backlog_target:g})",
    )
    return ctx.result


def rds_alarms(
    parent: pulumi.Resource,
    name: str,
    *,
    instance_id: pulumi.Input[str],
    instance_class: str,
    allocated_storage_gb: int,
    replica_ids: Sequence[pulumi.Input[str]] = (),
    topics: Routing,
    thresholds: DatabaseThresholds = DatabaseThresholds(),
    evaluation: Evaluation = DEFAULT_EVALUATION,
) -> TierAlarms:
    """CPU, freeable memory, free storage, connections vs the class's max_connections for
    the primary and each replica; replica lag for each replica."""
    ctx = _Ctx(parent, name, topics, evaluation, TierAlarms("database"))
    spec = catalog.rds_classes()[instance_class]
    memory_floor = spec.memory_gib * 1024**3 * thresholds.freeable_memory_min_pct / 100
    storage_floor = allocated_storage_gb * 1024**3 * thresholds.free_storage_min_pct / 100
    max_conns = catalog.postgres_max_connections(instance_class)
    conn_limit = round(max_conns * thresholds.connections_pct / 100)
    members: list[tuple[str, pulumi.Input[str]]] = [("", instance_id)] + [(f"-replica{i + 1}", r) for i, r in enumerate(replica_ids)]
    for suffix, ident in members:
        db = {"DBInstanceIdentifier": ident}
        # RDS reports these every minute; a gap is CloudWatch's problem, not evidence: keep state.
        ctx.alarm(
            "cpu",
            m.DB_CPU,
            db,
            threshold=thresholds.cpu_pct,
            comparison="GreaterThanThreshold",
            severity="warning",
            missing="missing",
            description=f"DB CPU above {thresholds.cpu_pct:g}%",
            suffix=suffix,
        )
        ctx.alarm(
            "freeable_memory",
            m.DB_FREEABLE_MEMORY,
            db,
            threshold=memory_floor,
            comparison="LessThanThreshold",
            severity="critical",
            missing="missing",
            description=f"freeable memory below {thresholds.freeable_memory_min_pct:g}% of {instance_class}",
            suffix=suffix,
        )
        ctx.alarm(
            "free_storage",
            m.DB_FREE_STORAGE,
            db,
            threshold=storage_floor,
            comparison="LessThanThreshold",
            severity="critical",
            missing="missing",
            description=f"free storage below {thresholds.free_storage_min_pct:g}% of {allocated_storage_gb} GB",
            suffix=suffix,
        )
        ctx.alarm(
            "connections",
            m.DB_CONNECTIONS,
            db,
            threshold=conn_limit,
            comparison="GreaterThanThreshold",
            severity="critical",
            missing="missing",
            description=f"connections above {thresholds.connections_pct:g}% of max_connections {max_conns}",
            suffix=suffix,
        )
        if suffix:
            # A replica that stops reporting lag has usually stopped replicating.
            ctx.alarm(
                "replica_lag",
                m.DB_REPLICA_LAG,
                db,
                threshold=thresholds.replica_lag_s,
                comparison="GreaterThanThreshold",
                severity="warning",
                missing="breaching",
                description=f"replica lag above {thresholds.replica_lag_s:g}s",
                suffix=suffix,
            )
    return ctx.result


def proxy_alarms(
    parent: pulumi.Resource,
    name: str,
    *,
    proxy_name: pulumi.Input[str],
    topics: Routing,
    thresholds: ProxyThresholds = ProxyThresholds(),
    evaluation: Evaluation = DEFAULT_EVALUATION,
) -> TierAlarms:
    """Client connections and connection borrow latency."""
    ctx = _Ctx(parent, name, topics, evaluation, TierAlarms("proxy"))
    proxy = {"ProxyName": proxy_name}
    # Both are only published while clients are connected: idle is fine.
    ctx.alarm(
        "client_connections",
        m.PROXY_CLIENT_CONNECTIONS,
        proxy,
        threshold=thresholds.client_connections,
        comparison="GreaterThanThreshold",
        severity="warning",
        missing="notBreaching",
        description=f"proxy client connections above {thresholds.client_connections}",
    )
    ctx.alarm(
        "borrow_latency",
        m.PROXY_BORROW_LATENCY,
        proxy,
        threshold=thresholds.borrow_latency_ms * 1000,
        comparison="GreaterThanThreshold",
        severity="warning",
        missing="notBreaching",
        description=f"connection borrow latency above {thresholds.borrow_latency_ms:g} ms: the pool is exhausted",
    )
    return ctx.result


def cache_member_ids(replication_group_id: pulumi.Input[str], shards: int, nodes_per_shard: int, cluster_mode: bool) -> list[pulumi.Output[str]]:
    """The member cluster ids ElastiCache assigns (known before creation, unlike the
    ``member_clusters`` output): ``<rg>-001`` .. or ``<rg>-0001-001`` in cluster mode."""
    rg = pulumi.Output.from_input(replication_group_id)
    if cluster_mode:
        suffixes = [f"{s:04d}-{n:03d}" for s in range(1, shards + 1) for n in range(1, nodes_per_shard + 1)]
    else:
        suffixes = [f"{n:03d}" for n in range(1, nodes_per_shard + 1)]
    return [pulumi.Output.concat(rg, "-", suffix) for suffix in suffixes]


def cache_alarms(
    parent: pulumi.Resource,
    name: str,
    *,
    member_cluster_ids: Sequence[pulumi.Input[str]],
    topics: Routing,
    thresholds: CacheThresholds = CacheThresholds(),
    evaluation: Evaluation = DEFAULT_EVALUATION,
) -> TierAlarms:
    """Engine CPU, memory %, evictions and replication lag on every member node (roles move
    on failover, so every node gets every alarm)."""
    ctx = _Ctx(parent, name, topics, evaluation, TierAlarms("cache"))
    for i, member in enumerate(member_cluster_ids):
        node, suffix = {"CacheClusterId": member}, f"-node{i + 1}"
        ctx.alarm(
            "engine_cpu",
            m.CACHE_ENGINE_CPU,
            node,
            threshold=thresholds.engine_cpu_pct,
            comparison="GreaterThanThreshold",
            severity="warning",
            missing="missing",
            description=f"engine CPU above {thresholds.engine_cpu_pct:g}%",
            suffix=suffix,
        )
        ctx.alarm(
            "memory",
            m.CACHE_MEMORY,
            node,
            threshold=thresholds.memory_pct,
            comparison="GreaterThanThreshold",
            severity="critical",
            missing="missing",
            description=f"memory used above {thresholds.memory_pct:g}%",
            suffix=suffix,
        )
        # Zero evictions may be reported as no datapoint.
        ctx.alarm(
            "evictions",
            m.CACHE_EVICTIONS,
            node,
            threshold=thresholds.evictions_per_period,
            comparison="GreaterThanThreshold",
            severity="warning",
            missing="notBreaching",
            description=f"more than {thresholds.evictions_per_period} evictions per period",
            suffix=suffix,
        )
        # Only replicas report lag, and the primary role moves on failover: gaps are normal.
        ctx.alarm(
            "replication_lag",
            m.CACHE_REPLICATION_LAG,
            node,
            threshold=thresholds.replication_lag_s,
            comparison="GreaterThanThreshold",
            severity="warning",
            missing="notBreaching",
            description=f"replication lag above {thresholds.replication_lag_s:g}s",
            suffix=suffix,
        )
    return ctx.result


def cdn_alarms(
    parent: pulumi.Resource,
    name: str,
    *,
    distribution_id: pulumi.Input[str],
    provider: aws.Provider,
    topics: Routing,
    thresholds: CdnThresholds = CdnThresholds(),
    evaluation: Evaluation = DEFAULT_EVALUATION,
) -> TierAlarms:
    """CloudFront 5xx error rate. CloudFront metrics exist only in us-east-1 with
    ``Region=Global``: the alarm needs the us-east-1 ``provider`` and topics there."""
    ctx = _Ctx(parent, name, topics, evaluation, TierAlarms("cdn"), provider)
    # No requests -> no rate.
    ctx.alarm(
        "error_rate",
        m.CDN_5XX_RATE,
        {"DistributionId": distribution_id, "Region": "Global"},
        threshold=thresholds.error_rate_pct,
        comparison="GreaterThanThreshold",
        severity="critical",
        missing="notBreaching",
        description=f"CloudFront 5xx rate above {thresholds.error_rate_pct:g}%",
    )
    return ctx.result


def nat_alarms(
    parent: pulumi.Resource,
    name: str,
    *,
    nat_gateway_ids: Sequence[pulumi.Input[str]],
    topics: Routing,
    thresholds: NatThresholds = NatThresholds(),
    evaluation: Evaluation = DEFAULT_EVALUATION,
) -> TierAlarms:
    """Source-port exhaustion on each NAT gateway (too many connections to one destination)."""
    ctx = _Ctx(parent, name, topics, evaluation, TierAlarms("nat"))
    for i, nat in enumerate(nat_gateway_ids):
        # Published as zero or not at all when healthy.
        ctx.alarm(
            "port_allocation",
            m.NAT_PORT_ERRORS,
            {"NatGatewayId": nat},
            threshold=thresholds.port_allocation_errors,
            comparison="GreaterThanThreshold",
            severity="warning",
            missing="notBreaching",
            description="NAT gateway cannot allocate source ports",
            suffix=f"-{i + 1}",
        )
    return ctx.result
