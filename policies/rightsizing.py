"""Right-sizing rules: configured capacity against what the project's capacity model says
the stack's own load profile needs. Every message states the required value, the
configured value and the suggested one. Under-provisioning blocks (prod); over-provisioning
is advisory."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Optional

from pulumi_policy import PolicyResource

from infra.config import StackConfig
from policies._lib import ADVISORY, ASG, STACK_PARAMS, Config, Finding, Graph, asg_instance_type, is_replica, spread, stack_policy, tier_of
from policies._stack import profile_or_finding
from policies.security import CACHE_RG, RDS_INSTANCE, RDS_PROXY
from scalestack import capacity, catalog


@dataclass(frozen=True)
class Group:
    asg: PolicyResource
    tier: str
    instance_type: str
    need: capacity.GroupCapacity

    @property
    def max_size(self) -> int:
        return int(self.asg.props.get("maxSize") or 0)

    @property
    def min_size(self) -> int:
        return int(self.asg.props.get("minSize") or 0)


def groups(g: Graph, stack: StackConfig) -> list[Group]:
    """Web and worker ASGs with what the capacity model needs of each (all AZs healthy)."""
    out = []
    for asg in g.of_type(ASG):
        tier = tier_of(asg.name, asg.props)
        if tier not in ("web", "workers"):
            continue
        itype = asg_instance_type(g, asg) or (stack.web.instance_type if tier == "web" else stack.workers.instance_type)
        azs = spread(g, asg, "vpcZoneIdentifiers") or stack.network.az_count
        out.append(Group(asg, tier, itype, capacity.tier_capacity(tier, stack.load, itype, azs, False)))
    return out


def _demand(group: Group, stack: StackConfig) -> str:
    load = stack.load
    grown = f"x{capacity.growth_factor(load):.2f} growth +{load.headroom_pct:g}% headroom"
    if group.tier == "web":
        return f"peak {load.peak_rps:g} rps {grown} / {group.need.per_instance:g} rps per {group.instance_type}"
    return f"{load.job_rate_per_s:g} jobs/s x {load.seconds_per_job:g} s {grown} / {group.need.per_instance:g} vCPU per {group.instance_type}"


def _asg_max(resources: list[PolicyResource], config: Config) -> Iterator[Finding]:
    g = Graph(resources)
    if not any(tier_of(a.name, a.props) in ("web", "workers") for a in g.of_type(ASG)):
        return
    stack, missing = profile_or_finding(config)
    if stack is None:
        yield missing
        return
    for grp in groups(g, stack):
        if grp.max_size < grp.need.at_peak:
            yield (
                (
                    f"under-provisioned {grp.tier} group {grp.asg.name}: required {grp.need.at_peak} instances at peak ({_demand(grp, stack)}), "
                    f"configured maxSize {grp.max_size}; suggested maxSize {grp.need.at_peak}"
                ),
                grp.asg.urn,
            )


def _primary(g: Graph) -> Optional[PolicyResource]:
    return next((db for db in g.of_type(RDS_INSTANCE) if not is_replica(db.props)), None)


def _db_sizing(resources: list[PolicyResource], config: Config) -> Iterator[Finding]:
    g = Graph(resources)
    primary = _primary(g)
    if primary is None:
        return
    stack, missing = profile_or_finding(config)
    if stack is None:
        yield missing
        return
    load = stack.load
    db_class = str(primary.props.get("instanceClass"))
    if db_class not in catalog.rds_classes():
        yield f"{primary.name}: instance class {db_class} is not in the catalogue; cannot size it", primary.urn
        return
    queries = capacity.peak_db_queries(load)
    writes = queries * (1 - load.db_read_share)
    per_vcpu = load.db_qps_per_vcpu
    cls = catalog.rds_classes()[db_class]
    replicas = [db for db in g.of_type(RDS_INSTANCE) if is_replica(db.props)]
    primary_load = writes if replicas else queries
    if primary_load > cls.vcpu * per_vcpu:
        fits = sorted((c for c in catalog.rds_classes().values() if c.family == cls.family and c.vcpu * per_vcpu >= primary_load), key=lambda c: c.vcpu)
        suggestion = fits[0].name if fits else "a larger family or sharding"
        yield (
            (
                f"under-provisioned primary {primary.name}: required {math.ceil(primary_load / per_vcpu)} vCPUs for {primary_load:.0f} queries/s at peak "
                f"({'writes' if replicas else 'all queries, no replicas'}; {per_vcpu:g} q/s per vCPU), "
                f"configured {db_class} with {cls.vcpu}; suggested {suggestion}"
            ),
            primary.urn,
        )
    need = capacity.read_replicas(load, db_class) if stack.database.read_replicas_enabled else 0
    if len(replicas) < need:
        yield (
            (
                f"under-provisioned read replicas: required {need} for {load.db_read_share * queries:.0f} reads/s at peak on {db_class}, "
                f"configured {len(replicas)}; suggested {need}"
            ),
            primary.urn,
        )


def _cache_sizing(resources: list[PolicyResource], config: Config) -> Iterator[Finding]:
    g = Graph(resources)
    caches = g.of_type(CACHE_RG)
    if not caches:
        return
    stack, missing = profile_or_finding(config)
    if stack is None:
        yield missing
        return
    need = capacity.cache_need_gb(stack.load.cache_working_set_gb, stack.load.headroom_pct)
    for rg in caches:
        node = str(rg.props.get("nodeType"))
        if node not in catalog.cache_node_types():
            yield f"{rg.name}: node type {node} is not in the catalogue; cannot size it", rg.urn
            continue
        shards = int(rg.props.get("numNodeGroups") or 1)
        have = capacity.usable_cache_gb(node) * shards
        if have < need:
            best = capacity.cache_sizing(stack.load.cache_working_set_gb, stack.load.headroom_pct, catalog.family_of(node))
            yield (
                (
                    f"under-provisioned cache {rg.name}: required {need:.1f} GB "
                    f"(working set {stack.load.cache_working_set_gb:g} GB +{stack.load.headroom_pct:g}%), "
                    f"configured {shards} x {node} = {have:.1f} GB usable; suggested {best.shards} x {best.node_type}"
                ),
                rg.urn,
            )


def _proxy(resources: list[PolicyResource], config: Config) -> Iterator[Finding]:
    g = Graph(resources)
    primary = _primary(g)
    if primary is None or g.of_type(RDS_PROXY):
        return
    stack, missing = profile_or_finding(config)
    if stack is None:
        yield missing
        return
    db_class = str(primary.props.get("instanceClass"))
    if db_class not in catalog.rds_classes():
        return
    instances = sum(int(a.props.get("maxSize") or 0) for a in g.of_type(ASG) if tier_of(a.name, a.props) in ("web", "workers"))
    need = capacity.pooling(instances, stack.load.db_pool_size, db_class)
    if need.proxy_needed:
        yield (
            (
                f"RDS Proxy required: {instances} instances x {stack.load.db_pool_size} connections = {need.connections} at peak, "
                f"configured limit {need.usable} usable of {need.max_connections} max_connections on {db_class} (30% headroom); suggested: add an RDS Proxy"
            ),
            primary.urn,
        )


def _over(resources: list[PolicyResource], config: Config) -> Iterator[Finding]:
    g = Graph(resources)
    if not g.of_type(ASG, RDS_INSTANCE, CACHE_RG):
        return
    stack, missing = profile_or_finding(config)
    if stack is None:
        yield missing
        return
    factor = config["factor"]
    for grp in groups(g, stack):
        if grp.min_size > factor * grp.need.at_baseline:
            yield (
                (
                    f"over-provisioned {grp.tier} group {grp.asg.name}: baseline needs {grp.need.at_baseline}, configured minSize {grp.min_size} "
                    f"(> {factor:g}x); suggested minSize {grp.need.at_baseline}"
                ),
                grp.asg.urn,
            )
    primary = _primary(g)
    if primary is not None and str(primary.props.get("instanceClass")) in catalog.rds_classes():
        need = capacity.read_replicas(stack.load, str(primary.props["instanceClass"]))
        have = sum(1 for db in g.of_type(RDS_INSTANCE) if is_replica(db.props))
        if have > max(need, 1) * factor:
            yield f"over-provisioned read replicas: required {need}, configured {have}; suggested {need}", primary.urn
    need_gb = capacity.cache_need_gb(stack.load.cache_working_set_gb, stack.load.headroom_pct)
    for rg in g.of_type(CACHE_RG):
        node = str(rg.props.get("nodeType"))
        if node in catalog.cache_node_types() and need_gb > 0:
            usable = capacity.usable_cache_gb(node) * int(rg.props.get("numNodeGroups") or 1)
            if usable > factor * need_gb and capacity.usable_cache_gb(node) > 2:
                best = capacity.cache_sizing(stack.load.cache_working_set_gb, stack.load.headroom_pct, catalog.family_of(node))
                yield (
                    f"over-provisioned cache {rg.name}: required {need_gb:.1f} GB, configured {usable:.1f} GB usable; "
                    f"suggested {best.shards} x {best.node_type}",
                    rg.urn,
                )


POLICIES = [
    stack_policy("asg-max-covers-peak", "Web and worker groups can scale to the capacity the load profile's peak needs.", _asg_max, STACK_PARAMS),
    stack_policy("db-sized-for-load", "The DB class carries the write load and enough read replicas carry the reads.", _db_sizing, STACK_PARAMS),
    stack_policy("cache-holds-working-set", "Cache memory holds the working set with headroom.", _cache_sizing, STACK_PARAMS),
    stack_policy("rds-proxy-when-needed", "An RDS Proxy pools connections when instances x pool size would exhaust the database.", _proxy, STACK_PARAMS),
    stack_policy(
        "over-provisioned",
        "Capacity far above what the load profile needs (ASG min, replicas, cache memory).",
        _over,
        {**STACK_PARAMS, "factor": {"type": "number", "minimum": 1, "default": 2, "description": "Flag when configured exceeds this multiple of the need."}},
        enforcement=ADVISORY,
    ),
]
