"""Reliability rules (Well-Architected REL05/08/09/10/11): Multi-AZ, backups, deletion
protection, health checks, instance-refresh rollback, dead-letter queues, alarms per
tier, and capacity that survives losing one AZ (from the capacity model)."""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import PolicyResource, ResourceValidationArgs

from policies._lib import (
    ASG,
    STACK_PARAMS,
    Config,
    Finding,
    Graph,
    asg_instance_type,
    flag,
    get,
    is_replica,
    items,
    resource_policy,
    spread,
    stack_policy,
    tags_of,
    tier_of,
)
from policies._stack import profile_or_finding
from policies.security import ALB, CACHE_RG, LB, RDS_CLUSTER, RDS_INSTANCE, SQS_QUEUE
from scalestack import capacity

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
REDRIVE = "aws:sqs/redrivePolicy:RedrivePolicy"
ASG_ATTACHMENTS = ("aws:autoscaling/attachment:Attachment", "aws:autoscaling/trafficSourceAttachment:TrafficSourceAttachment")
MIN_AZS = {"minAzs": {"type": "integer", "minimum": 1, "maximum": 6, "default": 2, "description": "AZs every tier must span."}}


def _multi_az(resources: list[PolicyResource], config: Config) -> Iterator[Finding]:
    g = Graph(resources)
    need = config["minAzs"]
    for db in g.of_type(RDS_INSTANCE):
        if not is_replica(db.props) and flag(db.props.get("multiAz")) is not True:
            yield f"{db.name}: multiAz must be true (standby in a second AZ)", db.urn
    for rg in g.of_type(CACHE_RG):
        p = rg.props
        nodes = int(p.get("numCacheClusters") or (1 + int(p.get("replicasPerNodeGroup") or 0)))
        if flag(p.get("automaticFailoverEnabled")) is not True or flag(p.get("multiAzEnabled")) is not True or nodes < 2:
            yield f"{rg.name}: needs automaticFailoverEnabled, multiAzEnabled and a replica (nodes per shard: {nodes})", rg.urn
    for asg in g.of_type(ASG):
        n = spread(g, asg, "vpcZoneIdentifiers")
        if n < need:
            yield f"{asg.name}: vpcZoneIdentifiers span {n} AZ(s); at least {need}", asg.urn
    for lb in g.of_type(LB, ALB):
        n = spread(g, lb, "subnets")
        if n < need:
            yield f"{lb.name}: subnets span {n} AZ(s); at least {need}", lb.urn


def _backups(args: ResourceValidationArgs, config: Config) -> Iterator[str]:
    p = args.props
    if args.resource_type in (RDS_INSTANCE, RDS_CLUSTER):
        if is_replica(p):
            return
        days = int(p.get("backupRetentionPeriod") or 0)
        if days < config["minBackupDays"]:
            yield f"backupRetentionPeriod is {days} day(s); at least {config['minBackupDays']}"
        if flag(p.get("skipFinalSnapshot")) is True or not p.get("finalSnapshotIdentifier"):
            yield "keep a final snapshot: skipFinalSnapshot=False with a finalSnapshotIdentifier"
    else:
        days = int(p.get("snapshotRetentionLimit") or 0)
        if days < config["minCacheSnapshotDays"]:
            yield f"snapshotRetentionLimit is {days} day(s); at least {config['minCacheSnapshotDays']}"


def _protected(args: ResourceValidationArgs, _: Config) -> Iterator[str]:
    p = args.props
    if args.resource_type in (RDS_INSTANCE, RDS_CLUSTER):
        if is_replica(p):
            return
        if flag(p.get("deletionProtection")) is not True:
            yield "deletionProtection must be true"
    if not args.opts.protect:
        yield "the Pulumi `protect` option must be set (a stray `pulumi destroy` must not delete data)"


def _elb_health_checks(resources: list[PolicyResource], _: Config) -> Iterator[Finding]:
    g = Graph(resources)
    attached = {d.urn for a in g.of_type(*ASG_ATTACHMENTS) for d in g.referenced(a) if d.resource_type == ASG}
    for asg in g.of_type(ASG):
        behind_lb = bool(items(asg.props, "targetGroupArns")) or bool(items(asg.props, "trafficSources")) or asg.urn in attached
        if behind_lb and asg.props.get("healthCheckType") != "ELB":
            yield f"{asg.name}: healthCheckType is {asg.props.get('healthCheckType', 'EC2')!r}; behind a load balancer use 'ELB'", asg.urn


def _refresh_rollback(args: ResourceValidationArgs, _: Config) -> Iterator[str]:
    refresh = args.props.get("instanceRefresh")
    if not refresh:
        yield "no instanceRefresh: launch template changes would not roll out, or roll back"
    elif flag(get(refresh, "preferences.autoRollback")) is not True:
        yield "instanceRefresh.preferences.autoRollback must be true"


def _is_dlq(g: Graph, q: PolicyResource) -> bool:
    if q.props.get("redriveAllowPolicy"):
        return True
    if any(g.referrers(q, (SQS_QUEUE,), "redrivePolicy")) or any(g.referrers(q, (REDRIVE,), "redrivePolicy")):
        return True
    label = f"{q.name} {q.props.get('name', '')} {tags_of(q.props).get('role', '')}".lower()
    return "dlq" in label or "dead-letter" in label or "deadletter" in label


def _dlq(resources: list[PolicyResource], _: Config) -> Iterator[Finding]:
    g = Graph(resources)
    for q in g.of_type(SQS_QUEUE):
        if _is_dlq(g, q):
            continue
        has = bool(q.props.get("redrivePolicy")) or any(g.referrers(q, (REDRIVE,), "queueUrl"))
        if not has:
            yield f"work queue {q.name} has no redrivePolicy to a dead-letter queue (REL05-BP04)", q.urn


def _alarms(resources: list[PolicyResource], _: Config) -> Iterator[Finding]:
    g = Graph(resources)
    watched = {d.urn for alarm in g.of_type(ALARM) for d in g.referenced(alarm)}
    tiers = [*g.of_type(ASG, LB, ALB, CACHE_RG), *(db for db in g.of_type(RDS_INSTANCE, RDS_CLUSTER)), *(q for q in g.of_type(SQS_QUEUE) if not _is_dlq(g, q))]
    for r in tiers:
        if r.urn not in watched:
            yield f"{r.name} ({r.resource_type.rsplit(':', 1)[-1]}) has no CloudWatch alarm on it", r.urn
    for q in g.of_type(SQS_QUEUE):
        if _is_dlq(g, q) and q.urn not in watched:
            yield f"dead-letter queue {q.name} has no alarm: failed jobs would pile up unseen", q.urn


def _survives_az_loss(resources: list[PolicyResource], config: Config) -> Iterator[Finding]:
    g = Graph(resources)
    asgs = [a for a in g.of_type(ASG) if tier_of(a.name, a.props) in ("web", "workers")]
    if not asgs:
        return
    stack, missing = profile_or_finding(config)
    if stack is None:
        yield missing
        return
    for asg in asgs:
        tier = tier_of(asg.name, asg.props)
        itype = asg_instance_type(g, asg) or (stack.web.instance_type if tier == "web" else stack.workers.instance_type)
        azs = spread(g, asg, "vpcZoneIdentifiers") or stack.network.az_count
        need = capacity.tier_capacity(tier, stack.load, itype, azs, True)
        have = int(asg.props.get("maxSize") or 0)
        if azs < 2:
            yield f"{asg.name}: runs in {azs} AZ; losing it loses the {tier} tier", asg.urn
        elif have < need.with_az_loss:
            yield (
                (
                    f"{asg.name}: maxSize {have} cannot carry the peak with one of {azs} AZs down: the peak needs {need.at_peak} "
                    f"{itype} instances, x{capacity.az_loss_factor(azs):.2f} for AZ loss = {need.with_az_loss}; suggested maxSize {need.with_az_loss}"
                ),
                asg.urn,
            )


POLICIES = [
    stack_policy("multi-az", "RDS Multi-AZ, ElastiCache automatic failover, ASG and ALB subnets in at least two AZs.", _multi_az, MIN_AZS),
    resource_policy(
        "backups",
        "Backups: RDS retention and final snapshots, ElastiCache snapshots.",
        (RDS_INSTANCE, RDS_CLUSTER, CACHE_RG),
        _backups,
        {
            "minBackupDays": {"type": "integer", "minimum": 0, "maximum": 35, "default": 7},
            "minCacheSnapshotDays": {"type": "integer", "minimum": 0, "maximum": 35, "default": 1},
        },
    ),
    resource_policy(
        "deletion-protection", "Stateful resources have deletion protection and the Pulumi protect option.", (RDS_INSTANCE, RDS_CLUSTER, CACHE_RG), _protected
    ),
    stack_policy("asg-elb-health-check", "Auto Scaling groups behind a load balancer use ELB health checks.", _elb_health_checks),
    resource_policy("asg-refresh-auto-rollback", "Instance refresh rolls back automatically.", (ASG,), _refresh_rollback),
    stack_policy("queue-has-dlq", "Every work queue redrives to a dead-letter queue.", _dlq),
    stack_policy("tier-alarms", "Every tier (ASGs, load balancers, databases, caches, queues) has CloudWatch alarms.", _alarms),
    stack_policy("capacity-survives-az-loss", "Web and worker groups carry the peak with one AZ down (REL11-BP05).", _survives_az_loss, STACK_PARAMS),
]
