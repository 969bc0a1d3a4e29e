"""EKS: the Kubernetes compute platform (``compute.platform: eks``) - cluster, node
groups, the app and worker workloads, their autoscalers and in-cluster monitoring.

Versions are pinned here, not looked up: a plan must not change because AWS or a chart
repository published something new."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal, Optional

from pydantic import Field, field_validator, model_validator

from infra.config.base import PresetTable, Section
from infra.config.errors import KeyedError
from infra.config.secrets import Secret
from infra.config.sections.compute import check_instance_type, check_min_le_max
from infra.config.sections.network import check_log_retention
from scalestack import capacity, catalog

# Versions EKS supports (standard + extended support) for which kubernetes-validate ships
# offline OpenAPI schemas (1.25-1.37): the plan's manifests are validated against them.
SUPPORTED_VERSIONS: tuple[str, ...] = ("1.30", "1.31", "1.32", "1.33", "1.34")

# EKS add-on versions per Kubernetes version (refresh with
# `aws eks describe-addon-versions --kubernetes-version <v> --addon-name <name>`).
ADDON_VERSIONS: dict[str, dict[str, str]] = {
    "1.30": {"vpc-cni": "v1.20.4-eksbuild.1", "coredns": "v1.11.1-eksbuild.9", "kube-proxy": "v1.30.14-eksbuild.8", "aws-ebs-csi-driver": "v1.48.0-eksbuild.2"},
    "1.31": {"vpc-cni": "v1.20.4-eksbuild.1", "coredns": "v1.11.3-eksbuild.1", "kube-proxy": "v1.31.10-eksbuild.8", "aws-ebs-csi-driver": "v1.48.0-eksbuild.2"},
    "1.32": {"vpc-cni": "v1.20.4-eksbuild.1", "coredns": "v1.11.4-eksbuild.2", "kube-proxy": "v1.32.6-eksbuild.8", "aws-ebs-csi-driver": "v1.48.0-eksbuild.2"},
    "1.33": {"vpc-cni": "v1.20.4-eksbuild.1", "coredns": "v1.12.1-eksbuild.2", "kube-proxy": "v1.33.3-eksbuild.6", "aws-ebs-csi-driver": "v1.48.0-eksbuild.2"},
    "1.34": {"vpc-cni": "v1.20.4-eksbuild.1", "coredns": "v1.12.3-eksbuild.1", "kube-proxy": "v1.34.1-eksbuild.2", "aws-ebs-csi-driver": "v1.48.0-eksbuild.2"},
}
ADDONS: tuple[str, ...] = ("vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver")

ControlPlaneLog = Literal["api", "audit", "authenticator", "controllerManager", "scheduler"]
CONTROL_PLANE_LOGS: tuple[ControlPlaneLog, ...] = ("api", "audit", "authenticator", "controllerManager", "scheduler")
# The phases whose autoscaling (HPA, KEDA, cluster-autoscaler) the EKS platform relies on.
EKS_PHASES: tuple[str, ...] = ("implementation", "optimization")

_SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def check_image(image: str) -> str:
    """``repo:tag`` or ``repo@sha256:<digest>``; never untagged, never ``latest``."""
    allowed = "must be pinned by tag or digest (registry/repo:1.4.2 or registry/repo@sha256:<64 hex>), not 'latest'"
    repo, at, digest = image.partition("@")
    if at:
        if not repo or not _DIGEST.match(digest):
            raise ValueError(f"{allowed}, got {image!r}")
        return image
    last = repo.rsplit("/", 1)[-1]
    name, colon, tag = last.partition(":")
    if not name or not colon or not _TAG.match(tag) or tag == "latest":
        raise ValueError(f"{allowed}, got {image!r}")
    return image


def _semver(v: str) -> str:
    if not _SEMVER.match(v):
        raise ValueError(f"must be an exact chart version like 1.2.3 (pinned, no ranges), got {v!r}")
    return v


class Resources(Section):
    """A container's CPU (millicores) and memory (MiB)."""

    cpu_millicores: int = Field(ge=10, le=64000)
    memory_mib: int = Field(ge=16, le=524288)

    def to_pod(self) -> capacity.PodResources:
        return capacity.PodResources(self.cpu_millicores, self.memory_mib)


class Replicas(Section):
    """Fields the web and worker workloads share. Unset sizes come from the capacity model."""

    image: str
    requests: Optional[Resources] = None
    limits: Optional[Resources] = None
    min_replicas: Optional[int] = Field(default=None, ge=1, le=1000)
    max_replicas: Optional[int] = Field(default=None, ge=1, le=1000)

    @field_validator("image")
    @classmethod
    def _pinned_image(cls, v: str) -> str:
        return check_image(v)

    @model_validator(mode="after")
    def _min_le_max(self) -> Replicas:
        if self.min_replicas is not None and self.max_replicas is not None and self.max_replicas < self.min_replicas:
            raise KeyedError("max_replicas", f"must be >= min_replicas ({self.min_replicas}), got {self.max_replicas}")
        return self


class WebWorkload(Replicas):
    image: str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mortgagematch/web:1.0.0"
    port: int = Field(default=8080, ge=1024, le=65535, description="Unprivileged container port.")
    health_path: str = "/healthz"
    target_cpu_pct: int = Field(default=60, ge=10, le=95)
    scale_down_stabilization_s: int = Field(default=300, ge=0, le=3600)
    ingress_certificate_arn: Optional[str] = Field(default=None, description="ACM certificate for HTTPS on the ALB; unset: HTTP only (staging).")


class WorkerWorkload(Replicas):
    image: str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mortgagematch/worker:1.0.0"
    acceptable_latency_s: float = Field(default=10.0, gt=0, le=3600, description="How long a job may wait in the queue.")


class NodeGroup(Section):
    instance_type: str = "m7g.large"
    min_size: Optional[int] = Field(default=None, ge=0, le=450)
    max_size: Optional[int] = Field(default=None, ge=1, le=450)

    @field_validator("instance_type")
    @classmethod
    def _known_type(cls, v: str) -> str:
        return check_instance_type(v)

    @model_validator(mode="after")
    def _min_le_max(self) -> NodeGroup:
        check_min_le_max(self.min_size, self.max_size)
        return self


class SpotNodeGroup(NodeGroup):
    @field_validator("instance_type")
    @classmethod
    def _diversifiable(cls, v: str) -> str:
        try:
            catalog.same_size_alternatives(v)
        except (ValueError, KeyError) as exc:
            raise ValueError(f"must have >= 3 same-size alternatives in the catalogue for spot diversification ({exc})") from None
        return v


class K8sMonitoring(Section):
    enabled: bool = True
    chart_version: str = Field(default="77.6.2", description="kube-prometheus-stack")
    adapter_chart_version: str = Field(default="4.14.1", description="prometheus-adapter (requests/s for the HPA)")
    retention_days: int = Field(default=15, ge=1, le=365)
    storage_gb: int = Field(default=50, ge=10, le=16384)
    error_rate_pct: float = Field(default=5.0, gt=0, le=100, description="5xx share that pages (as the CloudWatch alarm).")
    latency_p95_ms: int = Field(default=500, ge=10, le=60000)
    saturation_pct: int = Field(default=85, ge=10, le=100, description="CPU used / requested across the app's pods.")
    grafana_admin_password: Optional[Secret] = Field(default=None, description="Unset: a random password is generated.")

    @field_validator("chart_version", "adapter_chart_version")
    @classmethod
    def _pinned(cls, v: str) -> str:
        return _semver(v)


class Charts(Section):
    """Pinned versions of the cluster controllers the workloads need."""

    aws_load_balancer_controller: str = "1.13.4"
    keda: str = "2.17.2"
    vpa: str = "4.8.0"
    metrics_server: str = "3.13.0"
    cluster_autoscaler: str = "9.50.1"

    @field_validator("*")
    @classmethod
    def _pinned(cls, v: str) -> str:
        return _semver(v)


class Eks(Section):
    version: str = "1.32"
    endpoint_public_access: bool = False
    public_access_cidrs: list[str] = Field(default_factory=list)
    control_plane_logs: list[ControlPlaneLog] = Field(default_factory=lambda: list(CONTROL_PLANE_LOGS))
    log_retention_days: int = 90
    addon_versions: dict[str, str] = Field(default_factory=dict, description="Overrides of ADDON_VERSIONS for this cluster.")
    on_demand: NodeGroup = NodeGroup()
    spot: SpotNodeGroup = SpotNodeGroup()
    namespace: str = "mortgagematch"
    web: WebWorkload = WebWorkload()
    worker: WorkerWorkload = WorkerWorkload()
    vpa_mode: Literal["Off", "Initial", "Recreate", "Auto"] = Field(default="Off", description="Off: recommendations only.")
    monitoring: K8sMonitoring = K8sMonitoring()
    charts: Charts = Charts()

    @field_validator("version")
    @classmethod
    def _supported(cls, v: str) -> str:
        if v not in SUPPORTED_VERSIONS:
            raise ValueError(f"must be one of the supported EKS versions {', '.join(SUPPORTED_VERSIONS)}, got {v!r}")
        return v

    @field_validator("public_access_cidrs")
    @classmethod
    def _cidrs(cls, v: list[str]) -> list[str]:
        for cidr in v:
            try:
                net = ipaddress.ip_network(cidr, strict=True)
            except ValueError:
                raise ValueError(f"must be CIDRs like 203.0.113.0/24, got {cidr!r}") from None
            if net.prefixlen == 0:
                raise ValueError(f"must not open the API endpoint to the whole internet, got {cidr!r}")
        return v

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, v: int) -> int:
        return check_log_retention(v)

    @field_validator("namespace")
    @classmethod
    def _dns_label(cls, v: str) -> str:
        if not _DNS_LABEL.match(v):
            raise ValueError(f"must be a DNS label (lowercase letters, digits, '-'), got {v!r}")
        return v

    @field_validator("addon_versions")
    @classmethod
    def _known_addons(cls, v: dict[str, str]) -> dict[str, str]:
        for name in v:
            if name not in ADDONS:
                raise ValueError(f"add-on {name!r} is not managed here; allowed: {', '.join(ADDONS)}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Eks:
        if self.endpoint_public_access and not self.public_access_cidrs:
            raise KeyedError("public_access_cidrs", "must list the CIDRs allowed to reach the public endpoint, got []")
        for role in ("web", "worker"):
            requests, limits = self.requests_for(role), self.limits_for(role)
            for unit in ("cpu_millicores", "memory_mib"):
                req, lim = getattr(requests, unit), getattr(limits, unit)
                if req > lim:
                    raise KeyedError(f"{role}.requests.{unit}", f"must be <= limits.{unit} ({lim}), got {req}")
            try:
                capacity.nodes_for(1, requests, self.on_demand.instance_type)
            except ValueError as exc:
                raise KeyedError(f"{role}.requests", str(exc)) from None
        return self

    def addon_version(self, addon: str) -> str:
        return self.addon_versions.get(addon) or ADDON_VERSIONS[self.version][addon]

    def _workload(self, role: str) -> Replicas:
        return self.web if role == "web" else self.worker

    def requests_for(self, role: str) -> capacity.PodResources:
        given = self._workload(role).requests
        return given.to_pod() if given else capacity.default_pod_requests(self.on_demand.instance_type)

    def limits_for(self, role: str) -> capacity.PodResources:
        given = self._workload(role).limits
        return given.to_pod() if given else capacity.default_pod_limits(self.requests_for(role))


ENV_DEFAULTS: PresetTable = {
    "staging": {"monitoring": {"retention_days": 7, "storage_gb": 30}},
    "prod": {"monitoring": {"retention_days": 30, "storage_gb": 200}, "log_retention_days": 365},
}
PHASE_DEFAULTS: PresetTable = {}
