"""The capacity model: the load profile -> instances, replicas, pooling and cache size.

One module, imported by the components (default sizes), the cost estimator, the policy
pack and the tools. Pure functions of config values and the instance catalogue."""

from __future__ import annotations

import math
from dataclasses import dataclass

from infra.config.sections.compute import InstanceGroup
from infra.config.sections.load import LoadProfile
from scalestack import catalog

MAX_READ_REPLICAS = 15
PROXY_HEADROOM = 0.30  # keep >= 30 % of max_connections free (RDS Proxy guidance)
CACHE_RESERVED_MEMORY = 0.25  # reserved-memory-percent: ~25 % of node memory is not for data
CACHE_MAX_SHARDS = 500


def growth_factor(load: LoadProfile) -> float:
    """Compound monthly growth over the planning horizon."""
    return float((1 + load.monthly_growth_pct / 100) ** load.horizon_months)


def per_instance_rps(load: LoadProfile, instance_type: str) -> float:
    """Requests/s one instance serves: measured per type if given, else vCPUs x rps_per_vcpu."""
    if instance_type in load.rps_per_instance:
        return load.rps_per_instance[instance_type]
    return catalog.ec2_type(instance_type).vcpu * load.rps_per_vcpu


def az_loss_factor(az_count: int) -> float:
    """Static stability: with N AZs, N-1 must carry the peak (REL11-BP05)."""
    return az_count / (az_count - 1) if az_count > 1 else 1.0


@dataclass(frozen=True)
class GroupCapacity:
    """Instance counts for one Auto Scaling group."""

    at_peak: int  # required at the grown, head-roomed peak, all AZs healthy
    with_az_loss: int  # at_peak scaled so the group survives losing one AZ (prod)
    at_baseline: int  # steady baseline; the group's minimum
    per_instance: float  # units (requests/s or concurrent jobs) one instance carries

    @property
    def min_size(self) -> int:
        return self.at_baseline

    @property
    def max_size(self) -> int:
        return max(self.with_az_loss, self.at_baseline)


def _group(demand_peak: float, demand_baseline: float, per_instance: float, az_count: int, survive_az_loss: bool) -> GroupCapacity:
    at_peak = max(1, math.ceil(demand_peak / per_instance - 1e-9))
    with_loss = math.ceil(at_peak * az_loss_factor(az_count) - 1e-9) if survive_az_loss else at_peak
    baseline = max(1, math.ceil(demand_baseline / per_instance - 1e-9))
    if survive_az_loss:
        baseline = max(baseline, az_count)
    return GroupCapacity(at_peak=at_peak, with_az_loss=with_loss, at_baseline=baseline, per_instance=per_instance)


def grown_peak_rps(load: LoadProfile) -> float:
    """Peak requests/s expected at the end of the horizon: today's peak with growth, no headroom."""
    return load.peak_rps * growth_factor(load)


def peak_rps(load: LoadProfile) -> float:
    """Peak requests/s the platform must serve at the end of the horizon, with headroom."""
    return grown_peak_rps(load) * (1 + load.headroom_pct / 100)


def _serving_group(load: LoadProfile, per_unit_rps: float, az_count: int, survive_az_loss: bool) -> GroupCapacity:
    baseline = load.baseline_rps * (1 + load.headroom_pct / 100)
    return _group(peak_rps(load), baseline, per_unit_rps, az_count, survive_az_loss)


def web_capacity(load: LoadProfile, instance_type: str, az_count: int, survive_az_loss: bool) -> GroupCapacity:
    """ceil(peak x growth x (1 + headroom) / per-instance rps), x AZ/(AZ-1) when the group
    must survive an AZ loss (prod); the minimum covers the baseline, one per AZ in prod."""
    return _serving_group(load, per_instance_rps(load, instance_type), az_count, survive_az_loss)


def worker_capacity(load: LoadProfile, instance_type: str, az_count: int, survive_az_loss: bool) -> GroupCapacity:
    """Little's law: concurrent jobs = job rate x seconds per job; one job per vCPU."""
    return _worker_group(load, float(catalog.ec2_type(instance_type).vcpu), az_count, survive_az_loss)


def tier_capacity(tier: str | None, load: LoadProfile, instance_type: str, az_count: int, survive_az_loss: bool) -> GroupCapacity:
    """``web_capacity`` for the web tier, ``worker_capacity`` for the workers (any other tier)."""
    sizing = web_capacity if tier == "web" else worker_capacity
    return sizing(load, instance_type, az_count, survive_az_loss)


def _worker_group(load: LoadProfile, per: float, az_count: int, survive_az_loss: bool) -> GroupCapacity:
    concurrent_peak = load.job_rate_per_s * load.seconds_per_job * growth_factor(load) * (1 + load.headroom_pct / 100)
    baseline_share = load.baseline_rps / load.peak_rps
    return _group(concurrent_peak, concurrent_peak * baseline_share, per, az_count, survive_az_loss)


def backlog_target(acceptable_latency_s: float, seconds_per_job: float) -> float:
    """Messages per instance a worker may have queued and still meet the latency goal."""
    if acceptable_latency_s <= 0 or seconds_per_job <= 0:
        raise ValueError("acceptable latency and seconds per job must be > 0")
    return acceptable_latency_s / seconds_per_job


@dataclass(frozen=True)
class GroupSizes:
    """What an Auto Scaling group is given: the stack file's sizes, else the model's."""

    min_size: int
    max_size: int
    on_demand_base: int  # the steady baseline stays on-demand; spot covers the variable part (COST07)
    business_hours_min: int  # the scheduled action's floor during the working day


def group_sizes(group: InstanceGroup, model: GroupCapacity) -> GroupSizes:
    min_size = group.min_size if group.min_size is not None else model.min_size
    max_size = group.max_size if group.max_size is not None else max(model.max_size, min_size)
    base = group.on_demand_base if group.on_demand_base is not None else min_size
    floor = group.scaling.scheduled.business_hours_min_size
    business = floor if floor is not None else min(max_size, 2 * min_size)
    return GroupSizes(min_size=min_size, max_size=max(max_size, min_size), on_demand_base=base, business_hours_min=business)


def peak_db_queries(load: LoadProfile) -> float:
    return peak_rps(load) * load.db_queries_per_request


def read_replicas(load: LoadProfile, db_class: str) -> int:
    """Replicas = read share x peak queries / per-replica capacity, within 0..15."""
    per_replica = catalog.rds_classes()[db_class].vcpu * load.db_qps_per_vcpu
    needed = math.ceil(load.db_read_share * peak_db_queries(load) / per_replica - 1e-9)
    return min(max(needed, 0), MAX_READ_REPLICAS)


@dataclass(frozen=True)
class PoolingNeed:
    connections: int  # instances x pool size
    max_connections: int  # the class's PostgreSQL default
    usable: int  # max_connections less the proxy headroom

    @property
    def proxy_needed(self) -> bool:
        return self.connections > self.usable


def pooling(instances: int, pool_size: int, db_class: str) -> PoolingNeed:
    """Whether direct connections would exhaust the primary: then the proxy is needed."""
    max_conn = catalog.postgres_max_connections(db_class)
    return PoolingNeed(connections=instances * pool_size, max_connections=max_conn, usable=int(max_conn * (1 - PROXY_HEADROOM)))


@dataclass(frozen=True)
class CacheSizing:
    node_type: str
    shards: int


def cache_need_gb(working_set_gb: float, headroom_pct: float) -> float:
    """Cache memory the working set needs, with headroom."""
    return working_set_gb * (1 + headroom_pct / 100)


def usable_cache_gb(node_type: str) -> float:
    return catalog.cache_node_types()[node_type].memory_gib * (1 - CACHE_RESERVED_MEMORY)


def cache_sizing(working_set_gb: float, headroom_pct: float, prefer_family: str = "r7g") -> CacheSizing:
    """The smallest node of the preferred family that holds the working set (with
    headroom) in one shard; beyond the largest node, shard across the largest."""
    need = cache_need_gb(working_set_gb, headroom_pct)
    nodes = sorted(
        (n for n in catalog.cache_node_types().values() if n.family == prefer_family or (n.burstable and need <= 2)),
        key=lambda n: n.memory_gib,
    )
    for node in nodes:
        if usable_cache_gb(node.name) >= need:
            return CacheSizing(node.name, 1)
    largest = nodes[-1]
    shards = min(CACHE_MAX_SHARDS, math.ceil(need / usable_cache_gb(largest.name)))
    return CacheSizing(largest.name, shards)


def cache_shards_for(node_type: str, working_set_gb: float, headroom_pct: float) -> int:
    """Shards needed to hold the working set on a given node type."""
    need = cache_need_gb(working_set_gb, headroom_pct)
    return max(1, min(CACHE_MAX_SHARDS, math.ceil(need / usable_cache_gb(node_type) - 1e-9)))


# --- Kubernetes: pods instead of instances -------------------------------------------

NODE_RESERVED_SHARE = 0.10  # kubelet, system reservation and daemonsets (vpc-cni, kube-proxy, ebs-csi, node-exporter)
PODS_PER_NODE = 4  # default pod size: a quarter of a node's allocatable capacity


@dataclass(frozen=True)
class PodResources:
    """CPU in millicores, memory in MiB (what a container's requests/limits say)."""

    cpu_millicores: int
    memory_mib: int


def allocatable(node_type: str) -> PodResources:
    t = catalog.ec2_type(node_type)
    return PodResources(int(t.vcpu * 1000 * (1 - NODE_RESERVED_SHARE)), int(t.memory_gib * 1024 * (1 - NODE_RESERVED_SHARE)))


def default_pod_requests(node_type: str) -> PodResources:
    """A quarter of the node's allocatable capacity (rounded down to 50m / 64Mi): small
    enough that losing a node moves few pods, large enough to keep per-pod overhead low."""
    node = allocatable(node_type)
    cpu = max(100, node.cpu_millicores // PODS_PER_NODE // 50 * 50)
    memory = max(128, node.memory_mib // PODS_PER_NODE // 64 * 64)
    return PodResources(cpu, memory)


def default_pod_limits(requests: PodResources) -> PodResources:
    """CPU may burst to 2x its request (throttled, never killed); memory limit = request,
    so the scheduler's view is the truth and a node never OOM-kills on overcommit."""
    return PodResources(requests.cpu_millicores * 2, requests.memory_mib)


def per_pod_rps(load: LoadProfile, cpu_millicores: int) -> float:
    """Requests/s a pod serves at target CPU: its CPU request in vCPUs x rps_per_vcpu."""
    return load.rps_per_vcpu * cpu_millicores / 1000


def web_pod_capacity(load: LoadProfile, cpu_millicores: int, az_count: int, survive_az_loss: bool) -> GroupCapacity:
    """Web replicas, sized like the web ASG but per pod: the HPA's min and max."""
    return _serving_group(load, per_pod_rps(load, cpu_millicores), az_count, survive_az_loss)


def worker_pod_capacity(load: LoadProfile, cpu_millicores: int, az_count: int, survive_az_loss: bool) -> GroupCapacity:
    """Worker replicas by Little's law, one concurrent job per requested vCPU (at least one per pod)."""
    return _worker_group(load, max(1.0, cpu_millicores / 1000), az_count, survive_az_loss)


def nodes_for(pods: int, pod: PodResources, node_type: str) -> int:
    """Nodes of ``node_type`` that hold ``pods`` pods of size ``pod`` (bin packing by the
    tighter of CPU and memory)."""
    node = allocatable(node_type)
    per_node = min(node.cpu_millicores // pod.cpu_millicores, node.memory_mib // pod.memory_mib)
    if per_node < 1:
        raise ValueError(f"a pod of {pod.cpu_millicores}m/{pod.memory_mib}Mi does not fit on {node_type}")
    return max(1, math.ceil(pods / per_node - 1e-9))


def group_max(configured: int | None, capacity: GroupCapacity) -> int:
    """A group's maximum: the stack file's ``max_size`` if set, else the capacity model's."""
    return configured if configured is not None else capacity.max_size


# --- expected averages and usage volumes (what the cost estimator prices) ---------------

PEAK_HOURS_PER_DAY = 4  # the load profile's peak lasts ~4 h a day; the rest runs at baseline
SECONDS_PER_MONTH = 730 * 3600
REQUESTS_PER_CONNECTION = 10  # keep-alive: requests one client connection carries
CONNECTION_SECONDS = 5.0  # mean lifetime of an ALB connection
RULES_PER_REQUEST = 5  # listener rules evaluated per request (ALB bills beyond 10 free)
NAT_SHARE_OF_RESPONSE = 0.10  # egress through NAT (third-party APIs, updates) per byte served
LOG_KB_PER_REQUEST = 0.5  # application + access log bytes per request
SQS_REQUESTS_PER_JOB = 3  # send, receive, delete
SQS_IDLE_POLLS_PER_WORKER_S = 1 / 20  # one 20 s long poll per worker when the queue is empty
GB = 1024**2  # KB per GB


def average_rps(load: LoadProfile) -> float:
    """Expected mean requests/s today: baseline most of the day, peak for PEAK_HOURS_PER_DAY."""
    share = PEAK_HOURS_PER_DAY / 24
    return load.baseline_rps * (1 - share) + load.peak_rps * share


def average_job_rate(load: LoadProfile) -> float:
    """Jobs follow requests: the peak job rate scaled by the mean/peak request ratio."""
    return load.job_rate_per_s * average_rps(load) / load.peak_rps


def expected_instances(demand_baseline: float, demand_peak: float, per_instance: float, min_size: int, max_size: int) -> float:
    """What target tracking keeps running on average: baseline hours and peak hours, each
    clamped to the group's bounds. This, not max_size, is what a month costs."""

    def at(demand: float) -> int:
        return min(max(math.ceil(demand / per_instance - 1e-9), min_size, 0), max(max_size, min_size))

    share = PEAK_HOURS_PER_DAY / 24
    return at(demand_baseline) * (1 - share) + at(demand_peak) * share


def expected_web_instances(load: LoadProfile, instance_type: str, min_size: int, max_size: int) -> float:
    head = 1 + load.headroom_pct / 100
    return expected_instances(load.baseline_rps * head, load.peak_rps * head, per_instance_rps(load, instance_type), min_size, max_size)


def expected_worker_instances(load: LoadProfile, instance_type: str, min_size: int, max_size: int) -> float:
    head = 1 + load.headroom_pct / 100
    per = float(catalog.ec2_type(instance_type).vcpu)
    peak = load.job_rate_per_s * load.seconds_per_job * head
    return expected_instances(peak * load.baseline_rps / load.peak_rps, peak, per, min_size, max_size)


@dataclass(frozen=True)
class UsageVolumes:
    """Monthly volumes of the usage-priced items, from today's load profile."""

    requests: float
    response_gb: float
    alb_lcu: float  # mean LCUs (bill = LCU-hours = alb_lcu x 730)
    cloudfront_gb: float
    cloudfront_requests: float
    nat_gb: float
    sqs_requests: float
    log_ingest_gb: float


def usage_volumes(load: LoadProfile, cdn: bool, workers: int = 0) -> UsageVolumes:
    """ALB LCU = max(new conn/s / 25, active conn / 3000, processed GB/h, rule evals/s / 1000)."""
    rps = average_rps(load)
    requests = rps * SECONDS_PER_MONTH
    response_gb = requests * load.avg_response_kb / GB
    new_conn = rps / REQUESTS_PER_CONNECTION
    gb_per_hour = rps * 3600 * load.avg_response_kb / GB
    lcu = max(new_conn / 25, new_conn * CONNECTION_SECONDS / 3000, gb_per_hour, rps * max(RULES_PER_REQUEST - 10, 0) / 1000)
    jobs = average_job_rate(load) * SECONDS_PER_MONTH
    return UsageVolumes(
        requests=requests,
        response_gb=response_gb,
        alb_lcu=lcu,
        cloudfront_gb=response_gb if cdn else 0.0,
        cloudfront_requests=requests if cdn else 0.0,
        nat_gb=response_gb * NAT_SHARE_OF_RESPONSE,
        sqs_requests=jobs * SQS_REQUESTS_PER_JOB + workers * SQS_IDLE_POLLS_PER_WORKER_S * SECONDS_PER_MONTH,
        log_ingest_gb=requests * LOG_KB_PER_REQUEST / GB,
    )


# --- verdicts -----------------------------------------------------------------------------

UNDER, RIGHT, OVER = "under-provisioned", "right-sized", "over-provisioned"
OVER_PROVISIONED_UTILISATION = 0.40  # COST06-BP03: max utilisation below 40 % -> shrink


@dataclass(frozen=True)
class TierVerdict:
    tier: str
    measure: str
    required: float
    configured: float
    verdict: str
    note: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "tier": self.tier,
            "measure": self.measure,
            "required": self.required,
            "configured": self.configured,
            "verdict": self.verdict,
            "note": self.note,
        }


def verdict(required: float, configured: float) -> str:
    """Under when the configured capacity is below the requirement (which already holds
    the load profile's headroom and, in prod, the AZ loss); over when the requirement
    would use less than 40 % of it (COST06-BP03); right-sized otherwise."""
    if configured < required:
        return UNDER
    if configured > 0 and required / configured < OVER_PROVISIONED_UTILISATION:
        return OVER
    return RIGHT
