"""Capacity verdicts for a planned stack: what the capacity model requires (from the
stack's load profile) against what the captured resources configure, per tier."""

from __future__ import annotations

from typing import Optional

from scalestack import capacity, catalog
from scalestack.cost import ASG_TYPE, asg_instance_type, cache_nodes, context_for, primary_db, tag_value
from scalestack.offline import Capture, CapturedResource

RDS_TYPE = "aws:rds/instance:Instance"
CACHE_TYPE = "aws:elasticache/replicationGroup:ReplicationGroup"


def _groups(capture: Capture, tier: str) -> list[CapturedResource]:
    return [g for g in capture.by_type(ASG_TYPE) if tag_value(g, "tier") == tier]


def _int(value: object) -> int:
    try:
        return int(float(str(value)))
    except ValueError:
        return 0


def group_verdict(capture: Capture, tier: str) -> Optional[capacity.TierVerdict]:
    """Max size against the instances the peak needs (with one AZ lost in prod)."""
    groups = _groups(capture, tier)
    if not groups:
        return None
    ctx = context_for(capture)
    itype = asg_instance_type(groups[0], ctx)
    if itype is None or itype not in catalog.ec2_types():
        return None
    cfg = capture.config
    need = capacity.tier_capacity(tier, cfg.load, itype, cfg.network.az_count, cfg.is_prod)
    configured = sum(_int(g.inputs.get("maxSize")) for g in groups)
    min_size = sum(_int(g.inputs.get("minSize")) for g in groups)
    note = f"{itype}: peak {need.at_peak}, one AZ lost {need.with_az_loss}, baseline {need.at_baseline}; configured min {min_size}"
    return capacity.TierVerdict(tier, "instances at peak (max size)", need.max_size, configured, capacity.verdict(need.max_size, configured), note)


def replica_verdict(capture: Capture) -> Optional[capacity.TierVerdict]:
    ctx = context_for(capture)
    primary = primary_db(ctx)
    if primary is None:
        return None
    cls = str(primary.inputs.get("instanceClass", ""))
    if cls not in catalog.rds_classes():
        return None
    required = capacity.read_replicas(capture.config.load, cls)
    configured = len([d for d in capture.by_type(RDS_TYPE) if d.inputs.get("replicateSourceDb")])
    return capacity.TierVerdict("database", "read replicas", required, configured, capacity.verdict(required, configured), f"primary {cls}")


def proxy_verdict(capture: Capture) -> Optional[capacity.TierVerdict]:
    """Connections = instances at max x pool size against the primary's max_connections."""
    ctx = context_for(capture)
    primary = primary_db(ctx)
    if primary is None or str(primary.inputs.get("instanceClass", "")) not in catalog.rds_classes():
        return None
    instances = sum(_int(g.inputs.get("maxSize")) for g in capture.by_type(ASG_TYPE))
    need = capacity.pooling(instances, capture.config.load.db_pool_size, str(primary.inputs["instanceClass"]))
    required = 1 if need.proxy_needed else 0
    configured = len(capture.by_type("aws:rds/proxy:Proxy"))
    verdict = capacity.UNDER if required > configured else capacity.RIGHT
    note = f"{need.connections} connections vs {need.usable} usable of max_connections {need.max_connections}"
    return capacity.TierVerdict("database", "RDS Proxy", required, configured, verdict, note)


def cache_verdict(capture: Capture) -> Optional[capacity.TierVerdict]:
    groups = capture.by_type(CACHE_TYPE)
    if not groups:
        return None
    load = capture.config.load
    required = round(capacity.cache_need_gb(load.cache_working_set_gb, load.headroom_pct), 2)
    configured = 0.0
    for g in groups:
        node = str(g.inputs.get("nodeType", ""))
        if node in catalog.cache_node_types():
            shards = _int(g.inputs.get("numNodeGroups")) or 1
            configured += capacity.usable_cache_gb(node) * shards
    configured = round(configured, 2)
    n = sum(cache_nodes(g.inputs) for g in groups)
    return capacity.TierVerdict("cache", "usable memory GB", required, configured, capacity.verdict(required, configured), f"{n} nodes")


def assess(capture: Capture) -> list[capacity.TierVerdict]:
    """Verdicts for the tiers the stack has (a tier absent from the plan gets none)."""
    found = [group_verdict(capture, "web"), group_verdict(capture, "workers"), replica_verdict(capture), proxy_verdict(capture), cache_verdict(capture)]
    return [v for v in found if v is not None]


def capacity_section(capture: Capture) -> dict[str, object]:
    cfg = capture.config
    usage = context_for(capture).usage
    return {
        "load": {"average_rps": round(capacity.average_rps(cfg.load), 2), "peak_rps_planned": round(capacity.peak_rps(cfg.load), 2)},
        "usage_per_month": {k: round(v, 2) for k, v in vars(usage).items()},
        "verdicts": [v.as_dict() for v in assess(capture)],
    }
