"""Data tier wiring: the database (primary, replicas, proxy) and the cache, sized from
the config or, where it leaves a size open, from the capacity model."""

from __future__ import annotations

import dataclasses

import pulumi
import pulumi_aws as aws

from components.cache import Cache, CacheArgs
from components.database import Database, DatabaseArgs, ProxyArgs
from components.monitoring.alarms import cache_member_ids
from components.naming import child
from infra.config import StackConfig
from infra.platform import Platform
from scalestack import capacity


def app_roles(platform: Platform) -> dict[str, pulumi.Output[str]]:
    """Security groups of the tiers that talk to the data stores: the web and worker
    groups, or on EKS the cluster security group EKS attaches to every node and pod."""
    eks = platform.get("eks")
    if eks is not None:
        return {"eks-pods": eks.cluster.vpc_config.cluster_security_group_id}
    return {role: platform.security.id(role) for role in ("web", "workers") if platform.security.has(role)}


def client_instances(config: StackConfig) -> int:
    """Web and worker instances at their maximum: each holds a DB pool."""
    azs, prod = len(config.azs), config.is_prod
    web = capacity.group_max(config.web.max_size, capacity.web_capacity(config.load, config.web.instance_type, azs, prod))
    if not config.workers.enabled:
        return web
    workers = capacity.group_max(config.workers.max_size, capacity.worker_capacity(config.load, config.workers.instance_type, azs, prod))
    return web + workers


def replica_count(config: StackConfig) -> int:
    db = config.database
    if not db.read_replicas_enabled:
        return 0
    return db.replicas if db.replicas is not None else capacity.read_replicas(config.load, db.instance_class)


def proxy_enabled(config: StackConfig) -> bool:
    db = config.database
    if db.proxy.enabled is not None:
        return db.proxy.enabled
    return capacity.pooling(client_instances(config), config.load.db_pool_size, db.instance_class).proxy_needed


def wire_database(platform: Platform) -> None:
    config = platform.config
    if not config.database.enabled:
        return
    clients = app_roles(platform)
    proxy = ProxyArgs(security_group_id=platform.security.id("proxy"), client_security_groups=clients) if platform.security.has("proxy") else None
    db = Database(
        "database",
        DatabaseArgs(
            settings=config.database,
            region=config.region,
            subnet_ids=platform.network.isolated_subnet_ids,
            azs=config.azs,
            security_group_id=platform.security.id("database"),
            client_security_groups=clients,
            replicas=replica_count(config),
            protected=config.is_prod,
            final_snapshot_identifier=f"mortgagematch-{pulumi.get_stack()}-database-final",
            proxy=proxy,
        ),
        opts=platform.opts(),
    )
    platform.components["database"] = db
    monitoring = platform.components["monitoring"]
    monitoring.database(
        db,
        "database",
        instance_id=db.primary.identifier,
        instance_class=config.database.instance_class,
        allocated_storage_gb=config.database.allocated_storage_gb,
        replica_ids=[r.identifier for r in db.replicas],
    )
    if db.proxy is not None:
        monitoring.proxy(db, "database-proxy", proxy_name=db.proxy.name)
    platform.outputs["database_endpoint"] = db.primary.address
    platform.outputs["database_replica_endpoints"] = db.replica_endpoints
    platform.outputs["database_secret_arn"] = db.master_secret_arn
    if db.proxy is not None:
        platform.outputs["database_proxy_endpoint"] = db.proxy.endpoint


def wire(platform: Platform) -> None:
    wire_database(platform)
    wire_cache(platform)


def wire_cache(platform: Platform) -> None:
    config = platform.config
    if not config.cache.enabled:
        return
    args = CacheArgs.from_config(config, platform.network.isolated_subnet_ids, platform.security.id("cache"), app_roles(platform))
    cache = Cache("cache", dataclasses.replace(args, protected=config.is_prod), opts=platform.opts())
    platform.components["cache"] = cache
    _grant_cache_connect(platform, cache)
    members = cache_member_ids(cache.replication_group.replication_group_id, cache.shards, cache.nodes_per_shard, cache.cluster_mode)
    platform.components["monitoring"].cache(cache, "cache", member_cluster_ids=members)
    platform.outputs["cache_endpoint"] = cache.endpoint


def _grant_cache_connect(platform: Platform, cache: Cache) -> None:
    """IAM authentication signs in with the instance role: the web and worker roles get
    ``elasticache:Connect`` (without it every AUTH fails). EKS pods need their own IRSA role."""
    policy = cache.connect_policy()
    if policy is None:
        return
    for tier in ("web", "workers"):
        group = platform.get(tier)
        if group is not None:
            aws.iam.RolePolicy(f"cache-connect-{tier}", role=group.role.id, policy=policy, opts=child(cache))
