"""THE metric definitions: every CloudWatch metric and metric-math expression the alarms
and the dashboard use, defined once per tier. Alarms and dashboard widgets are rendered
from these objects, so a namespace, statistic or dimension is never spelled twice."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Union

import pulumi
import pulumi_aws as aws

Dims = Mapping[str, pulumi.Input[str]]


@dataclass(frozen=True)
class Metric:
    """One CloudWatch metric. ``stat`` is a statistic (Sum, Average, ...) or a percentile
    (p99), which CloudWatch alarms take as ``extended_statistic``."""

    id: str
    namespace: str
    name: str
    stat: str
    dimensions: tuple[str, ...]
    label: str

    @property
    def is_percentile(self) -> bool:
        return self.stat.startswith("p") and self.stat[1:].replace(".", "").isdigit()

    def with_stat(self, stat: str) -> Metric:
        return replace(self, stat=stat, id=f"{self.id}_{stat.replace('.', '_')}", label=f"{self.label} {stat}")

    def _dims(self, dims: Dims) -> dict[str, pulumi.Input[str]]:
        missing = [k for k in self.dimensions if k not in dims]
        if missing:
            raise ValueError(f"{self.namespace}/{self.name} needs dimensions {list(self.dimensions)}, missing {missing}")
        return {k: dims[k] for k in self.dimensions}

    def alarm_args(self, dims: Dims, period: int) -> dict[str, Any]:
        """Keyword arguments of a single-metric ``aws.cloudwatch.MetricAlarm``."""
        stat_key = "extended_statistic" if self.is_percentile else "statistic"
        return {"namespace": self.namespace, "metric_name": self.name, "dimensions": self._dims(dims), "period": period, stat_key: self.stat}

    def query(self, dims: Dims, return_data: bool, period: int) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
        return aws.cloudwatch.MetricAlarmMetricQueryArgs(
            id=self.id,
            return_data=return_data,
            metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                namespace=self.namespace, metric_name=self.name, dimensions=self._dims(dims), period=period, stat=self.stat
            ),
        )

    def widget_row(self, dims: Dims, region: str, *, hidden: bool = False, label: str = "") -> list[Any]:
        """A dashboard ``metrics`` row: [namespace, name, dim, value, ..., {options}].
        Hidden rows are expression inputs and carry the id the expression refers to."""
        row: list[Any] = [self.namespace, self.name]
        for key, value in self._dims(dims).items():
            row += [key, value]
        options: dict[str, Any] = {"stat": self.stat, "label": label or self.label, "region": region}
        if hidden:
            options.update(id=self.id, visible=False)
        row.append(options)
        return row


@dataclass(frozen=True)
class Expression:
    """Metric math over ``inputs`` (referenced by their ids in ``expression``)."""

    id: str
    expression: str
    inputs: tuple[Metric, ...]
    label: str

    def queries(self, dims: Dims, period: int) -> list[aws.cloudwatch.MetricAlarmMetricQueryArgs]:
        """The alarm's ``metric_queries``: the inputs hidden, the expression returned."""
        return [m.query(dims, return_data=False, period=period) for m in self.inputs] + [
            aws.cloudwatch.MetricAlarmMetricQueryArgs(id=self.id, expression=self.expression, label=self.label, return_data=True)
        ]

    def widget_rows(self, dims: Dims, region: str, label: str = "") -> list[list[Any]]:
        return [[{"expression": self.expression, "label": label or self.label, "id": self.id, "region": region}]] + [
            m.widget_row(dims, region, hidden=True) for m in self.inputs
        ]


Series = Union[Metric, Expression]


def anomaly_band(metric: Metric, band_width: float) -> str:
    return f"ANOMALY_DETECTION_BAND({metric.id}, {band_width:g})"


# --- Application Load Balancer (AWS/ApplicationELB) -------------------------------------
ALB = "AWS/ApplicationELB"
_LB = ("LoadBalancer",)
ALB_REQUESTS = Metric("requests", ALB, "RequestCount", "Sum", _LB, "ALB requests")
ALB_TARGET_5XX = Metric("target5xx", ALB, "HTTPCode_Target_5XX_Count", "Sum", _LB, "target 5xx")
ALB_ELB_5XX = Metric("elb5xx", ALB, "HTTPCode_ELB_5XX_Count", "Sum", _LB, "ALB 5xx")
ALB_TARGET_4XX = Metric("target4xx", ALB, "HTTPCode_Target_4XX_Count", "Sum", _LB, "target 4xx")
ALB_LATENCY = Metric("latency", ALB, "TargetResponseTime", "p99", _LB, "target response time")
ALB_UNHEALTHY = Metric("unhealthy", ALB, "UnHealthyHostCount", "Maximum", ("TargetGroup", "LoadBalancer"), "unhealthy hosts")
ALB_HEALTHY = Metric("healthy", ALB, "HealthyHostCount", "Minimum", ("TargetGroup", "LoadBalancer"), "healthy hosts")
ALB_REJECTED = Metric("rejected", ALB, "RejectedConnectionCount", "Sum", _LB, "rejected connections")
# FILL: a minute without errors reports no 5xx datapoint at all, which is zero errors.
ALB_5XX_RATE = Expression("error_rate", "100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / requests", (ALB_TARGET_5XX, ALB_ELB_5XX, ALB_REQUESTS), "5xx rate %")
ALB_4XX_RATE = Expression("client_error_rate", "100 * FILL(target4xx, 0) / requests", (ALB_TARGET_4XX, ALB_REQUESTS), "4xx rate %")

# --- Auto Scaling groups (AWS/AutoScaling group metrics; AWS/EC2 per group) -------------
ASG = "AWS/AutoScaling"
_GROUP = ("AutoScalingGroupName",)
ASG_IN_SERVICE = Metric("inservice", ASG, "GroupInServiceInstances", "Minimum", _GROUP, "in service")
ASG_DESIRED = Metric("desired", ASG, "GroupDesiredCapacity", "Maximum", _GROUP, "desired")
ASG_MAX = Metric("maxsize", ASG, "GroupMaxSize", "Maximum", _GROUP, "max size")
# 1 while the group cannot grow: compared with the live max, so a changed max is never stale.
ASG_AT_MAX = Expression("atmax", "IF(inservice >= maxsize, 1, 0)", (ASG_IN_SERVICE, ASG_MAX), "in service >= max")
ASG_CPU = Metric("cpu", "AWS/EC2", "CPUUtilization", "Average", _GROUP, "CPU %")


def spot_share(on_demand_base: int, on_demand_pct: float) -> Expression:
    """Expected spot share (%) of the in-service instances under a mixed instances policy:
    AWS publishes no per-lifecycle group metric, so derive it from the policy's split."""
    spot_fraction = (100.0 - on_demand_pct) / 100.0
    expr = f"100 * {spot_fraction:g} * IF(inservice > {on_demand_base}, inservice - {on_demand_base}, 0) / IF(inservice > 0, inservice, 1)"
    return Expression("spot_share", expr, (ASG_IN_SERVICE,), "spot share % (from the mixed-instances split)")


# --- Queue workers (AWS/SQS) -------------------------------------------------------------
SQS = "AWS/SQS"
_QUEUE = ("QueueName",)
QUEUE_VISIBLE = Metric("visible", SQS, "ApproximateNumberOfMessagesVisible", "Maximum", _QUEUE, "messages visible")
QUEUE_OLDEST = Metric("oldest", SQS, "ApproximateAgeOfOldestMessage", "Maximum", _QUEUE, "age of oldest message (s)")
DLQ_VISIBLE = replace(QUEUE_VISIBLE, id="dlq", label="DLQ messages")
WORKERS_IN_SERVICE = ASG_IN_SERVICE
# Same formula the worker group's target tracking uses; an empty group counts as one
# instance so the alarm still sees the backlog instead of a division by zero.
BACKLOG_PER_INSTANCE = Expression("backlog", "visible / IF(inservice > 0, inservice, 1)", (QUEUE_VISIBLE, WORKERS_IN_SERVICE), "backlog per instance")

# --- RDS and RDS Proxy (AWS/RDS) ---------------------------------------------------------
RDS = "AWS/RDS"
_DB = ("DBInstanceIdentifier",)
DB_CPU = Metric("dbcpu", RDS, "CPUUtilization", "Average", _DB, "DB CPU %")
DB_FREEABLE_MEMORY = Metric("freemem", RDS, "FreeableMemory", "Minimum", _DB, "freeable memory (bytes)")
DB_FREE_STORAGE = Metric("freestorage", RDS, "FreeStorageSpace", "Minimum", _DB, "free storage (bytes)")
DB_CONNECTIONS = Metric("dbconns", RDS, "DatabaseConnections", "Maximum", _DB, "DB connections")
DB_REPLICA_LAG = Metric("replicalag", RDS, "ReplicaLag", "Maximum", _DB, "replica lag (s)")
_PROXY = ("ProxyName",)
PROXY_CLIENT_CONNECTIONS = Metric("clientconns", RDS, "ClientConnections", "Maximum", _PROXY, "proxy client connections")
PROXY_BORROW_LATENCY = Metric("borrow", RDS, "DatabaseConnectionsBorrowLatency", "Average", _PROXY, "proxy borrow latency (us)")

# --- ElastiCache (AWS/ElastiCache, per member cluster) -----------------------------------
EC = "AWS/ElastiCache"
_NODE = ("CacheClusterId",)
CACHE_ENGINE_CPU = Metric("enginecpu", EC, "EngineCPUUtilization", "Average", _NODE, "engine CPU %")
CACHE_MEMORY = Metric("cachemem", EC, "DatabaseMemoryUsagePercentage", "Maximum", _NODE, "memory used %")
CACHE_EVICTIONS = Metric("evictions", EC, "Evictions", "Sum", _NODE, "evictions")
CACHE_REPLICATION_LAG = Metric("cachelag", EC, "ReplicationLag", "Maximum", _NODE, "replication lag (s)")
CACHE_HIT_RATE = Metric("hitrate", EC, "CacheHitRate", "Average", _NODE, "cache hit rate %")

# --- CloudFront (AWS/CloudFront, us-east-1, Region=Global) -------------------------------
CF = "AWS/CloudFront"
_DIST = ("DistributionId", "Region")
CDN_REQUESTS = Metric("cfrequests", CF, "Requests", "Sum", _DIST, "CloudFront requests")
CDN_5XX_RATE = Metric("cf5xx", CF, "5xxErrorRate", "Average", _DIST, "CloudFront 5xx rate %")
# An additional metric: needs the distribution's monitoring subscription.
CDN_HIT_RATE = Metric("cfhitrate", CF, "CacheHitRate", "Average", _DIST, "CloudFront cache hit rate %")
CDN_REGION = "us-east-1"

# --- NAT gateways (AWS/NATGateway) --------------------------------------------------------
NAT = "AWS/NATGateway"
NAT_PORT_ERRORS = Metric("natports", NAT, "ErrorPortAllocation", "Sum", ("NatGatewayId",), "NAT port allocation errors")
NAT_DROPS = Metric("natdrops", NAT, "PacketsDropCount", "Sum", ("NatGatewayId",), "NAT packets dropped")
