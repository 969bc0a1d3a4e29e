"""Cost rules that need no price list: allowed instance families and sizes (from the
project's catalogue), spot above a small on-demand base outside prod, gp3 instead of gp2,
NAT gateway count, CloudFront price class, paid extras in dev, idle read replicas.
The two rules that need the cost estimator live in ``policies/cost_estimator.py``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pulumi_policy import PolicyResource, ResourceValidationArgs

from policies._lib import (
    ADVISORY,
    ASG,
    STACK_PARAMS,
    Config,
    Finding,
    Graph,
    family_and_size,
    flag,
    get,
    is_replica,
    items,
    resource_policy,
    stack_policy,
    tier_of,
)
from policies._stack import profile_or_finding
from policies.security import CACHE_RG, DISTRIBUTION, INSTANCE, LAUNCH_TEMPLATE, RDS_INSTANCE, VOLUME
from scalestack import catalog

NAT = "aws:ec2/natGateway:NatGateway"
EKS_NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
SIZES = ["nano", "micro", "small", "medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge"]


def _types_in(args: ResourceValidationArgs) -> Iterator[tuple[str, str, str]]:
    """(where, kind, type name) for every instance type a resource asks for."""
    p = args.props
    t = args.resource_type
    if t in (LAUNCH_TEMPLATE, INSTANCE) and p.get("instanceType"):
        yield "instanceType", "ec2", str(p["instanceType"])
    elif t == ASG:
        for i, o in enumerate(items(p, "mixedInstancesPolicy.launchTemplate.overrides")):
            if o.get("instanceType"):
                yield f"mixedInstancesPolicy overrides[{i}]", "ec2", str(o["instanceType"])
    elif t == EKS_NODE_GROUP:
        for i, name in enumerate(items(p, "instanceTypes")):
            yield f"instanceTypes[{i}]", "ec2", str(name)
    elif t == RDS_INSTANCE and p.get("instanceClass"):
        yield "instanceClass", "rds", str(p["instanceClass"])
    elif t == CACHE_RG and p.get("nodeType"):
        yield "nodeType", "cache", str(p["nodeType"])


def _known(kind: str, name: str) -> tuple[bool, bool, int]:
    """(in catalogue, burstable, generation) for a type."""
    if kind == "ec2":
        t = catalog.ec2_types().get(name)
        return (t is not None, bool(t and t.burstable), t.generation if t else 0)
    table = catalog.rds_classes() if kind == "rds" else catalog.cache_node_types()
    c = table.get(name)
    digits = "".join(ch for ch in family_and_size(name)[0] if ch.isdigit())
    return (c is not None, bool(c and c.burstable), int(digits or 0))


def _allowed_types(args: ResourceValidationArgs, config: Config) -> Iterator[str]:
    max_rank = SIZES.index(config["maxSize"])
    for where, kind, name in _types_in(args):
        family, size = family_and_size(name)
        known, burstable, generation = _known(kind, name)
        families = config[f"{kind}Families"]
        if not known:
            yield f"{where}: {name} is not in the project's catalogue (scalestack/catalog): capacity and cost cannot be checked"
        elif families and family not in families:
            yield f"{where}: family {family} ({name}) is not allowed here; allowed: {', '.join(families)}"
        elif not families and kind == "ec2" and generation < config["minGeneration"]:
            yield f"{where}: {name} is generation {generation}; at least {config['minGeneration']}"
        if known and burstable and not config["allowBurstable"]:
            yield f"{where}: {name} is burstable (CPU credits run out under sustained load); use a fixed-performance family"
        if size in SIZES and SIZES.index(size) > max_rank:
            yield f"{where}: size {size} ({name}) is above the allowed {config['maxSize']}"


def _families(kind: str) -> dict[str, Any]:
    return {"type": "array", "items": {"type": "string"}, "default": [], "description": f"Allowed {kind} families (empty: any in the catalogue)."}


def _spot(args: ResourceValidationArgs, config: Config) -> Iterator[str]:
    if not config["required"] or tier_of(args.name, args.props) not in ("web", "workers"):
        return
    dist = get(args.props, "mixedInstancesPolicy.instancesDistribution")
    if not dist:
        yield "no mixedInstancesPolicy: non-prod groups run on spot above a small on-demand base"
        return
    base = int(dist.get("onDemandBaseCapacity") or 0)
    pct = int(dist.get("onDemandPercentageAboveBaseCapacity", 100))
    if base > config["maxOnDemandBase"]:
        yield f"onDemandBaseCapacity is {base}; at most {config['maxOnDemandBase']}"
    if pct > config["maxOnDemandPercentAboveBase"]:
        yield f"onDemandPercentageAboveBaseCapacity is {pct}%; at most {config['maxOnDemandPercentAboveBase']}% (the rest on spot)"


def _gp3(args: ResourceValidationArgs, _: Config) -> Iterator[str]:
    p = args.props
    t = args.resource_type
    if t == LAUNCH_TEMPLATE:
        for i, bdm in enumerate(items(p, "blockDeviceMappings")):
            ebs = bdm.get("ebs")
            if ebs is not None and ebs.get("volumeType") != "gp3" and ebs.get("volumeType") not in ("io2", "io1", "st1", "sc1"):
                yield f"blockDeviceMappings[{i}].ebs.volumeType is {ebs.get('volumeType')!r}; set 'gp3' (unset takes the AMI's, often gp2)"
    elif t == INSTANCE:
        for where, dev in [
            ("rootBlockDevice", p.get("rootBlockDevice") or {}),
            *((f"ebsBlockDevices[{i}]", d) for i, d in enumerate(items(p, "ebsBlockDevices"))),
        ]:
            if dev.get("volumeType") == "gp2":
                yield f"{where}.volumeType is 'gp2'; use 'gp3'"
    elif t == VOLUME:
        if p.get("type") == "gp2":
            yield "type is 'gp2'; use 'gp3'"
    elif t == RDS_INSTANCE:
        kind = p.get("storageType")
        if kind == "gp2" or (kind is None and not is_replica(p)):
            yield f"storageType is {kind!r}; set 'gp3' (20% cheaper per GB, baseline 3,000 IOPS)"


def _nat(resources: list[PolicyResource], config: Config) -> Iterator[Finding]:
    limit = config.get("maxNatGateways")
    nats = Graph(resources).of_type(NAT)
    if limit is not None and len(nats) > limit:
        yield f"{len(nats)} NAT gateways ({', '.join(n.name for n in nats)}); at most {limit} here (each costs ~$33/month before data)"


def _price_class(args: ResourceValidationArgs, config: Config) -> Iterator[str]:
    price = args.props.get("priceClass", "PriceClass_All")
    if price in config["forbidden"]:
        yield f"priceClass is {price}; use {config['suggested']} here"


def _paid_extras(args: ResourceValidationArgs, config: Config) -> Iterator[str]:
    if not config["flag"]:
        return
    p = args.props
    if args.resource_type == RDS_INSTANCE:
        days = int(p.get("performanceInsightsRetentionPeriod") or 0)
        if flag(p.get("performanceInsightsEnabled")) and days > config["freePerformanceInsightsDays"]:
            yield f"performanceInsightsRetentionPeriod {days} days is beyond the free {config['freePerformanceInsightsDays']}"
        if int(p.get("monitoringInterval") or 0) > 0:
            yield f"enhanced monitoring every {int(p['monitoringInterval'])} s is billed as CloudWatch Logs"
        if not is_replica(p) and flag(p.get("multiAz")):
            yield "multiAz doubles the instance price"
    elif args.resource_type == LAUNCH_TEMPLATE and flag(get(p, "monitoring.enabled")):
        yield "detailed monitoring (1-minute metrics) is billed per metric"
    elif args.resource_type == DISTRIBUTION:
        for origin in items(p, "origins"):
            if flag(get(origin, "originShield.enabled")):
                yield f"origin {origin.get('originId', '?')}: Origin Shield is billed per request"


def _idle_read_capacity(resources: list[PolicyResource], config: Config) -> Iterator[Finding]:
    g = Graph(resources)
    replicas = [db for db in g.of_type(RDS_INSTANCE) if is_replica(db.props)]
    caches = g.of_type(CACHE_RG)
    if not replicas and not caches:
        return
    stack, missing = profile_or_finding(config)
    if stack is None:
        yield missing
        return
    if stack.load.db_read_share == 0 or stack.load.db_queries_per_request == 0:
        for db in replicas:
            yield f"read replica {db.name} has no read load in the load profile (db_read_share {stack.load.db_read_share:g}); remove it", db.urn
    if stack.load.cache_working_set_gb == 0:
        for rg in caches:
            yield f"cache {rg.name} has no working set in the load profile (cache_working_set_gb 0)", rg.urn


POLICIES = [
    resource_policy(
        "allowed-instance-types",
        "EC2, RDS and ElastiCache types come from the allowed families and sizes of this environment.",
        (LAUNCH_TEMPLATE, INSTANCE, ASG, EKS_NODE_GROUP, RDS_INSTANCE, CACHE_RG),
        _allowed_types,
        {
            "ec2Families": _families("EC2"),
            "rdsFamilies": _families("RDS"),
            "cacheFamilies": _families("ElastiCache"),
            "allowBurstable": {"type": "boolean", "default": False},
            "minGeneration": {"type": "integer", "minimum": 1, "default": 6, "description": "Oldest EC2 generation when no families are listed."},
            "maxSize": {"type": "string", "enum": SIZES, "default": "4xlarge"},
        },
    ),
    resource_policy(
        "spot-above-base",
        "Outside prod, web and worker groups run on spot above a small on-demand base.",
        (ASG,),
        _spot,
        {
            "required": {"type": "boolean", "default": False, "description": "Require spot (set for non-prod stacks)."},
            "maxOnDemandBase": {"type": "integer", "minimum": 0, "default": 1},
            "maxOnDemandPercentAboveBase": {"type": "integer", "minimum": 0, "maximum": 100, "default": 0},
        },
    ),
    resource_policy("gp3-not-gp2", "EBS and RDS storage use gp3, never gp2.", (LAUNCH_TEMPLATE, INSTANCE, VOLUME, RDS_INSTANCE), _gp3),
    stack_policy(
        "nat-gateway-limit",
        "At most the configured number of NAT gateways (one in dev).",
        _nat,
        {"maxNatGateways": {"type": "integer", "minimum": 0, "description": "Unset: no limit (prod runs one per AZ)."}},
    ),
    resource_policy(
        "cloudfront-price-class",
        "CloudFront's price class fits the environment (not PriceClass_All in dev).",
        (DISTRIBUTION,),
        _price_class,
        {
            "forbidden": {"type": "array", "items": {"type": "string", "enum": ["PriceClass_100", "PriceClass_200", "PriceClass_All"]}, "default": []},
            "suggested": {"type": "string", "enum": ["PriceClass_100", "PriceClass_200"], "default": "PriceClass_100"},
        },
    ),
    resource_policy(
        "paid-extras",
        "Paid extras are flagged where not worth it (dev): Performance Insights beyond the free tier, enhanced/detailed monitoring, Multi-AZ, Origin Shield.",
        (RDS_INSTANCE, LAUNCH_TEMPLATE, DISTRIBUTION),
        _paid_extras,
        {
            "flag": {"type": "boolean", "default": False},
            "freePerformanceInsightsDays": {"type": "integer", "minimum": 0, "default": 7},
        },
        enforcement=ADVISORY,
    ),
    stack_policy("idle-read-capacity", "Read replicas and caches have read load in the load profile.", _idle_read_capacity, STACK_PARAMS, enforcement=ADVISORY),
]
