"""The cost estimator: every captured resource -> ``cost_components`` priced from the
catalogue (``scalestack.pricing``) and the load profile (``scalestack.capacity``).

Resources are read by type and the engine's camelCase input names, so it prices any
tier that uses the standard pulumi-aws resources, whoever wrote it. A month is 730 h.
Reservations (capacity reservations, RDS and ElastiCache reserved nodes) carry their own
cost; the instances they cover are listed with the on-demand hours at $0."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Optional, Protocol

from google.protobuf import struct_pb2

from infra.config import StackConfig
from scalestack import capacity, catalog, pricing
from scalestack.offline import STACK_TYPE, Capture, CapturedResource
from scalestack.pricing import HOURS_PER_MONTH, PriceNotFound, RegionPrices

ON_DEMAND, SPOT, RESERVED, USAGE, FIXED, FREE = "on_demand", "spot", "reserved", "usage", "fixed", "free"
PERFORMANCE_INSIGHTS_FREE_DAYS = 7
RDS_PROXY_MIN_VCPU = 2


@dataclass(frozen=True)
class CostComponent:
    name: str
    unit: str
    quantity: float
    unit_price_usd: float
    purchase_option: str

    @property
    def monthly_usd(self) -> float:
        return self.quantity * self.unit_price_usd

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "unit": self.unit,
            "quantity": round(self.quantity, 4),
            "unit_price_usd": self.unit_price_usd,
            "monthly_usd": round(self.monthly_usd, 2),
            "purchase_option": self.purchase_option,
        }


def hours(name: str, count: float, price: float, option: str) -> CostComponent:
    """``count`` of something billed by the hour, for a 730 h month."""
    return CostComponent(name, "hours", count * HOURS_PER_MONTH, price, option)


def free(type_: str) -> list[CostComponent]:
    return [CostComponent(f"{type_.rsplit(':', 1)[-1]} (no charge)", "month", 1, 0.0, FREE)]


@dataclass
class Pool:
    """Reserved capacity that covered resources draw from (key -> instances left)."""

    left: dict[tuple[str, ...], float] = field(default_factory=lambda: defaultdict(float))

    def add(self, key: tuple[str, ...], n: float) -> None:
        self.left[key] += n

    def take(self, key: tuple[str, ...], n: float) -> float:
        got = min(n, self.left.get(key, 0.0))
        if got:
            self.left[key] -= got
        return got


@dataclass
class Context:
    config: StackConfig
    prices: RegionPrices
    usage: capacity.UsageVolumes
    capture: Capture
    pool: Pool = field(default_factory=Pool)
    counts: dict[str, int] = field(default_factory=dict)

    def share(self, type_: str) -> float:
        """Usage volumes split evenly across resources of one type."""
        return 1 / max(self.counts.get(type_, 1), 1)


class GraphResource(Protocol):
    """What ``capture_of`` needs of a resource: engine camelCase inputs, and the URNs
    each input was computed from."""

    @property
    def urn(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def inputs(self) -> Mapping[str, Any]: ...
    @property
    def property_dependencies(self) -> Mapping[str, Sequence[str]]: ...


Pricer = Callable[[CapturedResource, Context], list[CostComponent]]
PRICERS: dict[str, Pricer] = {}
# Reservations register first so that the resources they cover find them in the pool.
ASG_TYPE = "aws:autoscaling/group:Group"
LAUNCH_TEMPLATE_TYPE = "aws:ec2/launchTemplate:LaunchTemplate"
RDS_TYPE = "aws:rds/instance:Instance"
RESERVATION_TYPES = (
    "aws:ec2/capacityReservation:CapacityReservation",
    "aws:rds/reservedInstance:ReservedInstance",
    "aws:elasticache/reservedCacheNode:ReservedCacheNode",
)


def pricer(*types: str) -> Callable[[Pricer], Pricer]:
    def register(fn: Pricer) -> Pricer:
        for t in types:
            PRICERS[t] = fn
        return fn

    return register


def _num(value: Any, default: float = 0.0) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def tag_value(r: CapturedResource, key: str) -> Optional[str]:
    """A tag from ``tags`` (map) or ASG-style ``tags: [{key, value}]``."""
    tags = r.inputs.get("tags")
    if isinstance(tags, dict):
        value = tags.get(key)
        return str(value) if value is not None else None
    if isinstance(tags, list):
        for t in tags:
            if isinstance(t, dict) and t.get("key") == key:
                return str(t.get("value"))
    return None


def tier_of(r: CapturedResource) -> str:
    """An Auto Scaling group's ``tier`` tag, else the module of the outermost component
    (``mortgagematch:<module>:<Kind>``), else ``stack``. (Subnets also carry a ``tier``
    tag, meaning their subnet tier, so the tag counts for groups only.)"""
    tagged = tag_value(r, "tier") if r.type == ASG_TYPE else None
    if tagged:
        return tagged
    chain = r.urn.split("::")[2] if r.urn.count("::") >= 3 else r.type
    outer = chain.split("$")[0]
    parts = outer.split(":")
    return parts[1] if len(parts) == 3 and parts[0] == "mortgagematch" else "stack"


# --- networking ------------------------------------------------------------------------


@pricer("aws:ec2/natGateway:NatGateway")
def _nat(r: CapturedResource, ctx: Context) -> list[CostComponent]:
    gb = ctx.usage.nat_gb * ctx.share(r.type)
    return [hours("NAT gateway", 1, ctx.prices.usage("nat_hour"), FIXED), CostComponent("NAT data processed", "GB", gb, ctx.prices.usage("nat_gb"), USAGE)]


@pricer("aws:ec2/eip:Eip")
def _eip(r: CapturedResource, ctx: Context) -> list[CostComponent]:
    return [hours("Public IPv4 address", 1, ctx.prices.usage("public_ipv4_hour"), FIXED)]


@pricer("aws:lb/loadBalancer:LoadBalancer")
def _lb(r: CapturedResource, ctx: Context) -> list[CostComponent]:
    kind = "nlb" if r.inputs.get("loadBalancerType") == "network" else "alb"
    lcu = ctx.usage.alb_lcu * ctx.share(r.type)
    return [
        hours(f"{kind.upper()} hours", 1, ctx.prices.usage(f"{kind}_hour"), FIXED),
        CostComponent(f"{kind.upper()} capacity units", "LCU-hours", lcu * HOURS_PER_MONTH, ctx.prices.usage(f"{kind}_lcu_hour"), USAGE),
    ]


# --- compute -----------------------------------------------------------------------------


def _launch_template_type(ref: Any, ctx: Context) -> Optional[str]:
    """instanceType of the launch template an ASG/node group points to (by id or name)."""
    if not isinstance(ref, dict):
        return None
    keys = {str(ref.get(k)) for k in ("id", "launchTemplateId", "name", "launchTemplateName") if ref.get(k)}
    for lt in ctx.capture.by_type(LAUNCH_TEMPLATE_TYPE):
        if keys & {lt.id, lt.name, str(lt.inputs.get("name", ""))}:
            value = lt.inputs.get("instanceType")
            return str(value) if value else None
    return None


def referenced(r: CapturedResource, ctx: Context, type_: str, *props: str) -> list[CapturedResource]:
    """Resources of ``type_`` that ``r``'s inputs ``props`` were computed from (the
    property dependencies): how a resource is found when ids are not known, e.g. in the
    graph the policy pack receives over the analyzer protocol."""
    urns = {u for prop in props for u in r.property_dependencies.get(prop, [])}
    return [d for d in ctx.capture.by_type(type_) if d.urn in urns]


def asg_instance_type(r: CapturedResource, ctx: Context) -> Optional[str]:
    """The primary type: the first mixed-instances override, else the launch template's
    (by id or name, else through the property dependencies)."""
    mip = r.inputs.get("mixedInstancesPolicy") or {}
    lt = mip.get("launchTemplate") or {}
    for override in lt.get("overrides") or []:
        if override.get("instanceType"):
            return str(override["instanceType"])
    found = _launch_template_type(lt.get("launchTemplateSpecification"), ctx) or _launch_template_type(r.inputs.get("launchTemplate"), ctx)
    if found:
        return found
    for dep in referenced(r, ctx, LAUNCH_TEMPLATE_TYPE, "mixedInstancesPolicy", "launchTemplate"):
        if dep.inputs.get("instanceType"):
            return str(dep.inputs["instanceType"])
    return None


def on_demand_split(instances: float, mip: dict[str, Any]) -> tuple[float, float]:
    """(on-demand, spot) of an expected instance count under ``instancesDistribution``.
    Without a mixed-instances policy everything is on-demand."""
    dist = mip.get("instancesDistribution")
    if not mip or not isinstance(dist, dict):
        return instances, 0.0
    base = _num(dist.get("onDemandBaseCapacity"), 0)
    pct = _num(dist.get("onDemandPercentageAboveBaseCapacity"), 100)
    above = max(instances - base, 0.0)
    od = min(instances, base) + above * pct / 100
    return od, instances - od


def expected_group_size(r: CapturedResource, ctx: Context, instance_type: str) -> float:
    """The expected average from the load profile for web/worker groups; desired (or
    min) capacity for groups the profile does not describe."""
    lo = int(_num(r.inputs.get("minSize"), 0))
    hi = int(_num(r.inputs.get("maxSize"), lo))
    tier = tag_value(r, "tier")
    load = ctx.config.load
    if tier == "web":
        return capacity.expected_web_instances(load, instance_type, lo, hi)
    if tier == "workers":
        return capacity.expected_worker_instances(load, instance_type, lo, hi)
    return _num(r.inputs.get("desiredCapacity"), lo)


def instance_components(label: str, instance_type: str, od: float, spot: float, ctx: Context) -> list[CostComponent]:
    price = ctx.prices.ec2_hour(instance_type)
    covered = ctx.pool.take(("ec2", instance_type), od)
    out = []
    if covered:
        out.append(hours(f"{label} {instance_type} (capacity reservation)", covered, 0.0, RESERVED))
    out.append(hours(f"{label} {instance_type} on-demand", od - covered, price, ON_DEMAND))
    if spot:
        out.append(hours(f"{label} {instance_type} spot", spot, round(price * pricing.spot_factor(instance_type), 6), SPOT))
    return out


@pricer("aws:autoscaling/group:Group")
def _asg(r: CapturedResource, ctx: Context) -> list[CostComponent]:
    itype = asg_instance_type(r, ctx)
    if itype is None:
        return [CostComponent("instances (type unknown: no launch template found)", "hours", 0, 0.0, ON_DEMAND)]
    n = expected_group_size(r, ctx, itype)
    od, spot = on_demand_split(n, r.inputs.get("mixedInstancesPolicy") or {})
    return instance_components("Instances", itype, od, spot, ctx)


@pricer("aws:ec2/capacityReservation:CapacityReservation")
def _capacity_reservation(r: CapturedResource, ctx: Context) -> list[CostComponent]:
    itype = str(r.inputs.get("instanceType", ""))
    count = _num(r.inputs.get("instanceCount"), 1)
    ctx.pool.add(("ec2", itype), count)
    return [hours(f"Capacity reservation {itype} (billed used or not)", count, ctx.prices.ec2_hour(itype), RESERVED)]


@pricer("aws:eks/cluster:Cluster")
def _eks(r: CapturedResource, ctx: Context) -> list[CostComponent]:
    return [hours("EKS control plane", 1, ctx.prices.usage("eks_cluster_hour"), FIXED)]


@pricer("aws:eks/nodeGroup:NodeGroup")
def _node_group(r: CapturedResource, ctx: Context) -> list[CostComponent]:
    types = r.inputs.get("instanceTypes") or []
    itype = str(types[0]) if types else _launch_template_type(r.inputs.get("launchTemplate"), ctx) or "t3.medium"
    desired = _num((r.inputs.get("scalingConfig") or {}).get("desiredSize"), 1)
    is_spot = r.inputs.get("capacityType") == "SPOT"
    return instance_components("Nodes", itype, 0 if is_spot else desired, desired if is_spot else 0, ctx)


# --- data tier ------------------------------------------------------------------------------


def _db_by_ref(ref: str, ctx: Context) -> Optional[CapturedResource]:
    for db in ctx.capture.by_type("aws:rds/instance:Instance"):
        if (ref and ref in (db.id, str(db.inputs.get("identifier", "")), db.urn)) or (ref.startswith("arn:") and ref.endswith(f":db:{db.id}")):
            return db
    return None


def primary_db(ctx: Context) -> Optional[CapturedResource]:
    return next((db for db in ctx.capture.by_type("aws:rds/instance:Instance") if not db.inputs.get("replicateSourceDb")), None)


def _db_engine(r: CapturedResource, ctx: Context) -> str:
    if r.inputs.get("engine"):
        return str(r.inputs["engine"])
    source = _db_by_ref(str(r.inputs.get("replicateSourceDb", "")), ctx) or next(iter(referenced(r, ctx, RDS_TYPE, "replicateSourceDb")), None)
    return str(source.inputs.get("engine", "postgres")) if source else "postgres"


@pricer("aws:rds/instance:Instance")
def _rds(r: CapturedResource, ctx: Context) -> list[CostComponent]:
    cls = str(r.inputs.get("instanceClass", ""))
    engine = _db_engine(r, ctx)
    multi = bool(r.inputs.get("multiAz"))
    role = "replica" if r.inputs.get("replicateSourceDb") else "primary"
    mode = "Multi-AZ" if multi else "single-AZ"
    covered = ctx.pool.take(("rds", cls, engine, str(multi)), 1)
    name = f"DB instance {cls} {engine} {mode} ({role})"
    out = [hours(f"{name} (reserved)", 1, 0.0, RESERVED)] if covered else [hours(name, 1, ctx.prices.rds_hour(cls, engine, multi), ON_DEMAND)]
    storage = _num(r.inputs.get("allocatedStorage"), 0)
    if storage:
        out.append(
            CostComponent(
                "Storage (gp3)", "GB-months", storage, ctx.prices.usage("rds_gp3_gb_month_multi_az" if multi else "rds_gp3_gb_month_single_az"), FIXED
            )
        )
    retention = _num(r.inputs.get("performanceInsightsRetentionPeriod"), PERFORMANCE_INSIGHTS_FREE_DAYS)
    if r.inputs.get("performanceInsightsEnabled") and retention > PERFORMANCE_INSIGHTS_FREE_DAYS and cls in catalog.rds_classes():
        vcpu = catalog.rds_classes()[cls].vcpu
        out.append(hours(f"Performance Insights retention {retention:g} days", vcpu, ctx.prices.usage("rds_performance_insights_vcpu_hour"), FIXED))
    return out


@pricer("aws:rds/proxy:Proxy")
def _proxy(r: CapturedResource, ctx: Context) -> list[CostComponent]:
    target = primary_db(ctx)
    cls = str(target.inputs.get("instanceClass", "")) if target else ""
    vcpu = max(catalog.rds_classes()[cls].vcpu if cls in catalog.rds_classes() else 0, RDS_PROXY_MIN_VCPU)
    return [hours(f"RDS Proxy ({vcpu} vCPU of {cls or 'target'})", vcpu, ctx.prices.usage("rds_proxy_vcpu_hour"), FIXED)]


# Reserved offerings: the offering id is opaque; the mocks (or a tag) say what it buys.
def _offering(r: CapturedResource, id_key: str) -> dict[str, Any]:
    from scalestack.mocks import OFFERINGS

    info = dict(OFFERINGS.get(str(r.inputs.get(id_key, "")), {}))
    for key in ("class", "engine", "multi_az", "term"):
        tagged = tag_value(r, f"reserved-{key}")
        if tagged is not None:
            info[key] = tagged
    return info


def _truthy(v: Any) -> bool:
    return v is True or str(v).lower() == "true"


@pricer("aws:rds/reservedInstance:ReservedInstance")
def _rds_reserved(r: CapturedResource, ctx: Context) -> list[CostComponent]:
    info = _offering(r, "offeringId")
    db = ctx.config.database
    cls = str(info.get("class") or db.instance_class)
    engine = str(info.get("engine") or "postgres")
    multi = _truthy(info.get("multi_az", db.multi_az))
    term = str(info.get("term") or "1yr_no_upfront")
    count = _num(r.inputs.get("instanceCount"), 1)
    ctx.pool.add(("rds", cls, engine, str(multi)), count)
    rate = ctx.prices.rds_hour(cls, engine, multi) * (1 - pricing.reserved_discount("rds", term))
    return [hours(f"Reserved DB instance {cls} {engine} {'Multi-AZ' if multi else 'single-AZ'} {term}", count, round(rate, 6), RESERVED)]


def cache_nodes(inputs: dict[str, Any]) -> int:
    """numNodeGroups x (replicasPerNodeGroup + 1) in cluster mode, else numCacheClusters."""
    if inputs.get("numNodeGroups") is not None:
        return int(_num(inputs["numNodeGroups"], 1) * (_num(inputs.get("replicasPerNodeGroup"), 0) + 1))
    return int(_num(inputs.get("numCacheClusters"), 1))


@pricer("aws:elasticache/replicationGroup:ReplicationGroup")
def _cache(r: CapturedResource, ctx: Context) -> list[CostComponent]:
    node = str(r.inputs.get("nodeType", ""))
    engine = str(r.inputs.get("engine", "redis"))
    n = cache_nodes(r.inputs)
    covered = ctx.pool.take(("elasticache", node, engine), n)
    out = [hours(f"Cache node {node} {engine} (reserved)", covered, 0.0, RESERVED)] if covered else []
    if n - covered:
        out.append(hours(f"Cache nodes {node} {engine}", n - covered, ctx.prices.cache_hour(node, engine), ON_DEMAND))
    return out


@pricer("aws:elasticache/reservedCacheNode:ReservedCacheNode")
def _cache_reserved(r: CapturedResource, ctx: Context) -> list[CostComponent]:
    info = _offering(r, "reservedCacheNodesOfferingId")
    node = str(info.get("class") or ctx.config.cache.node_type)
    engine = str(info.get("engine") or ctx.config.cache.engine)
    term = str(info.get("term") or "1yr_no_upfront")
    count = _num(r.inputs.get("cacheNodeCount"), 1)
    ctx.pool.add(("elasticache", node, engine), count)
    rate = ctx.prices.cache_hour(node, engine) * (1 - pricing.reserved_discount("elasticache", term))
    return [hours(f"Reserved cache node {node} {engine} {term}", count, round(rate, 6), RESERVED)]


# --- edge, monitoring, messaging, storage, security --------------------------------------


@pricer("aws:cloudfront/distribution:Distribution")
def _cloudfront(r: CapturedResource, ctx: Context) -> list[CostComponent]:
    s = ctx.share(r.type)
    return [
        CostComponent("Data transfer out", "GB", ctx.usage.response_gb * s, ctx.prices.usage("cloudfront_gb"), USAGE),
        CostComponent("HTTPS requests", "10k requests", ctx.usage.requests * s / 10_000, ctx.prices.usage("cloudfront_10k_requests"), USAGE),
    ]


@pricer("aws:wafv2/webAcl:WebAcl")
def _waf(r: CapturedResource, ctx: Context) -> list[CostComponent]:
    rules = len(r.inputs.get("rules") or [])
    return [
        CostComponent("Web ACL", "months", 1, ctx.prices.usage("waf_web_acl_month"), FIXED),
        CostComponent("Rules", "rule-months", rules, ctx.prices.usage("waf_rule_month"), FIXED),
        CostComponent("Requests inspected", "1M requests", ctx.usage.requests * ctx.share(r.type) / 1e6, ctx.prices.usage("waf_million_requests"), USAGE),
    ]


def is_anomaly_alarm(inputs: dict[str, Any]) -> bool:
    """Anomaly-detection alarms compare with a band metric (billed as 3 metrics)."""
    if inputs.get("thresholdMetricId"):
        return True
    return any("ANOMALY_DETECTION_BAND" in str(m.get("expression", "")) for m in inputs.get("metricQueries") or [] if isinstance(m, dict))


@pricer("aws:cloudwatch/metricAlarm:MetricAlarm")
def _alarm(r: CapturedResource, ctx: Context) -> list[CostComponent]:
    if is_anomaly_alarm(r.inputs):
        return [CostComponent("Anomaly detection alarm (3 metrics)", "alarm-months", 1, ctx.prices.usage("cloudwatch_alarm_anomaly_month"), FIXED)]
    return [CostComponent("Standard alarm", "alarm-months", 1, ctx.prices.usage("cloudwatch_alarm_standard_month"), FIXED)]


@pricer("aws:cloudwatch/dashboard:Dashboard")
def _dashboard(r: CapturedResource, ctx: Context) -> list[CostComponent]:
    return [CostComponent("Dashboard", "months", 1, ctx.prices.usage("cloudwatch_dashboard_month"), FIXED)]


def is_dead_letter_queue(r: CapturedResource) -> bool:
    return any(k in r.name.lower() for k in ("dlq", "dead"))


@pricer("aws:sqs/queue:Queue")
def _queue(r: CapturedResource, ctx: Context) -> list[CostComponent]:
    live = [q for q in ctx.capture.by_type(r.type) if not is_dead_letter_queue(q)]
    share = 0.0 if is_dead_letter_queue(r) else 1 / max(len(live), 1)
    key = "sqs_fifo_million_requests" if r.inputs.get("fifoQueue") else "sqs_million_requests"
    return [CostComponent("Requests", "1M requests", ctx.usage.sqs_requests * share / 1e6, ctx.prices.usage(key), USAGE)]


@pricer("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
def _bucket(r: CapturedResource, ctx: Context) -> list[CostComponent]:
    """Log buckets hold about a month of access logs; other buckets start empty."""
    logs = [b for b in ctx.capture.resources if b.type == r.type and "log" in b.name.lower()]
    gb = ctx.usage.log_ingest_gb / len(logs) if r in logs else 0.0
    return [CostComponent("Standard storage", "GB-months", gb, ctx.prices.usage("s3_standard_gb_month"), USAGE)]


@pricer("aws:kms/key:Key")
def _kms(r: CapturedResource, ctx: Context) -> list[CostComponent]:
    return [CostComponent("Customer managed key", "key-months", 1, ctx.prices.usage("kms_key_month"), FIXED)]


@pricer("aws:secretsmanager/secret:Secret")
def _secret(r: CapturedResource, ctx: Context) -> list[CostComponent]:
    return [CostComponent("Secret", "secret-months", 1, ctx.prices.usage("secretsmanager_secret_month"), FIXED)]


@pricer("aws:cloudwatch/logGroup:LogGroup")
def _log_group(r: CapturedResource, ctx: Context) -> list[CostComponent]:
    return [CostComponent("Log ingestion", "GB", ctx.usage.log_ingest_gb * ctx.share(r.type), ctx.prices.usage("logs_ingest_gb"), USAGE)]


# --- the estimate -----------------------------------------------------------------------------


@dataclass
class ResourceCost:
    urn: str
    type: str
    name: str
    tier: str
    components: list[CostComponent]
    error: str = ""

    @property
    def monthly_usd(self) -> float:
        return sum(c.monthly_usd for c in self.components)


@dataclass
class Estimate:
    region: str
    priced_as: str
    resources: dict[str, ResourceCost]

    @property
    def monthly_usd(self) -> float:
        return sum(r.monthly_usd for r in self.resources.values())

    def by_tier(self) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for r in self.resources.values():
            out[r.tier] += r.monthly_usd
        return {k: round(v, 2) for k, v in sorted(out.items(), key=lambda kv: -kv[1])}

    def by_purchase_option(self) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for r in self.resources.values():
            for c in r.components:
                out[c.purchase_option] += c.monthly_usd
        return {k: round(v, 2) for k, v in sorted(out.items(), key=lambda kv: -kv[1])}

    def top(self, n: int = 10) -> list[ResourceCost]:
        return sorted((r for r in self.resources.values() if r.monthly_usd > 0), key=lambda r: -r.monthly_usd)[:n]

    def summary(self) -> dict[str, Any]:
        return {
            "currency": "USD",
            "hours_per_month": HOURS_PER_MONTH,
            "prices_as_of": pricing.as_of(),
            "region": self.region,
            "priced_as": self.priced_as,
            "monthly_usd": round(self.monthly_usd, 2),
            "by_tier": self.by_tier(),
            "by_purchase_option": self.by_purchase_option(),
            "top_items": [{"urn": r.urn, "name": r.name, "type": r.type, "monthly_usd": round(r.monthly_usd, 2)} for r in self.top()],
            "errors": [{"urn": r.urn, "error": r.error} for r in self.resources.values() if r.error],
        }


def context_for(capture: Capture) -> Context:
    config = capture.config
    workers = len([g for g in capture.by_type("aws:autoscaling/group:Group") if tag_value(g, "tier") == "workers"])
    cdn = bool(capture.by_type("aws:cloudfront/distribution:Distribution"))
    usage = capacity.usage_volumes(config.load, cdn=cdn, workers=workers)
    counts: dict[str, int] = defaultdict(int)
    for r in capture.resources:
        counts[r.type] += 1
    return Context(config=config, prices=pricing.for_region(config.region), usage=usage, capture=capture, counts=dict(counts))


def capture_of(config: StackConfig, resources: Iterable[GraphResource], project: str = "", stack: str = "") -> Capture:
    """A resource graph without a program run (the policy pack receives its resources over
    the analyzer protocol: inputs and property dependencies, no ids) as a ``Capture`` the
    one estimator prices. Component, provider and unknown types price at $0 either way."""
    out = [
        CapturedResource(
            urn=r.urn,
            type=r.type,
            name=r.name,
            parent="",
            custom=r.type != STACK_TYPE,
            protect=False,
            dependencies=[],
            property_dependencies={k: list(v) for k, v in r.property_dependencies.items()},
            provider="",
            id="",
            inputs=dict(r.inputs),
            raw_inputs=struct_pb2.Struct(),
        )
        for r in resources
    ]
    return Capture(project=project, stack=stack, config=config, resources=out, diagnostics=[])


def estimate(capture: Capture) -> Estimate:
    """Price every custom resource; free types are listed at $0. A missing price is
    recorded on the resource (and in ``errors``), never silently guessed."""
    ctx = context_for(capture)
    ordered = sorted((r for r in capture.resources if r.custom and r.type != STACK_TYPE), key=lambda r: r.type not in RESERVATION_TYPES)
    out: dict[str, ResourceCost] = {}
    for r in ordered:
        fn = PRICERS.get(r.type)
        error = ""
        try:
            components = fn(r, ctx) if fn else free(r.type)
        except PriceNotFound as exc:
            components, error = [], str(exc).strip("'\"")
        out[r.urn] = ResourceCost(r.urn, r.type, r.name, tier_of(r), components, error)
    return Estimate(region=ctx.prices.region, priced_as=ctx.prices.priced_as, resources={r.urn: out[r.urn] for r in capture.resources if r.urn in out})
