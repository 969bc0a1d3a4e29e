"""The app on Kubernetes: a hardened web Deployment behind an ALB Ingress, scaled by an
autoscaling/v2 HPA (CPU and requests/s) and watched by a VPA; optionally a queue worker
Deployment scaled by KEDA on SQS backlog, authenticating through its own IRSA role.
NetworkPolicies deny by default and admit only the load balancer, the app itself and
Prometheus' scrapes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s

from components.k8s_common import APP_LABEL, CLASS_LABEL, CRITICAL, CRITICAL_TOLERATION, PART_OF, PART_OF_LABEL
from components.naming import child, token
from scalestack.capacity import PodResources

RUN_AS = 10001
METRICS_NAMESPACE = "monitoring"
RPS_METRIC = "http_requests_per_second"
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-3-2021-06"


@dataclass(frozen=True)
class Container:
    image: str
    requests: PodResources
    limits: PodResources
    port: int = 8080
    health_path: str = "/healthz"


@dataclass(frozen=True)
class WebSpec:
    container: Container
    min_replicas: int
    max_replicas: int
    target_cpu_pct: int
    target_rps_per_pod: float
    scale_down_stabilization_s: int = 300
    certificate_arn: Optional[str] = None
    alb_source_cidrs: Sequence[pulumi.Input[str]] = ()
    scale_on_requests: bool = True
    """Only when prometheus-adapter serves the requests/s metric: an HPA with a metric it
    cannot fetch never scales down."""
    deletion_protection: bool = True
    """The Ingress's ALB; off outside prod, where `pulumi destroy` must not hang on it."""


@dataclass(frozen=True)
class QueueTrigger:
    """One SQS queue KEDA scales on (``url``) and the worker may consume (``arn``)."""

    url: pulumi.Input[str]
    arn: pulumi.Input[str]


@dataclass(frozen=True)
class WorkerSpec:
    container: Container
    min_replicas: int
    max_replicas: int
    messages_per_pod: int
    queues: Sequence[QueueTrigger]
    role_arn: pulumi.Input[str]
    region: str


@dataclass(frozen=True)
class K8sWorkloadArgs:
    namespace: str
    web: WebSpec
    worker: Optional[WorkerSpec] = None
    vpa_mode: str = "Off"


def labels(app: str) -> dict[str, str]:
    return {APP_LABEL: app, PART_OF_LABEL: PART_OF}


def quantities(r: PodResources) -> dict[str, str]:
    return {"cpu": f"{r.cpu_millicores}m", "memory": f"{r.memory_mib}Mi"}


def hardened_container(name: str, c: Container, env: Optional[dict[str, pulumi.Input[str]]] = None) -> dict[str, Any]:
    """Non-root, read-only root filesystem, no capabilities, no privilege escalation."""
    probe = {"httpGet": {"path": c.health_path, "port": "http"}}
    return {
        "name": name,
        "image": c.image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": c.port, "protocol": "TCP"}],
        "env": [{"name": k, "value": v} for k, v in (env or {}).items()],
        "resources": {"requests": quantities(c.requests), "limits": quantities(c.limits)},
        "readinessProbe": {**probe, "periodSeconds": 5, "failureThreshold": 3},
        "livenessProbe": {**probe, "periodSeconds": 10, "failureThreshold": 3, "initialDelaySeconds": 10},
        "startupProbe": {**probe, "periodSeconds": 5, "failureThreshold": 30},
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUN_AS,
            "runAsGroup": RUN_AS,
            "privileged": False,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }


def pod_spec(app: str, container: dict[str, Any], service_account: str, *, critical: bool, grace_s: int) -> dict[str, Any]:
    """Spread across zones (hard) and hosts (soft); ``critical`` pods tolerate and prefer
    the on-demand baseline, the others can only land on spot."""
    spread = [
        {"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": labels(app)}},
        {"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": {"matchLabels": labels(app)}},
    ]
    spec: dict[str, Any] = {
        "serviceAccountName": service_account,
        "automountServiceAccountToken": False,
        "terminationGracePeriodSeconds": grace_s,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUN_AS,
            "runAsGroup": RUN_AS,
            "fsGroup": RUN_AS,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "topologySpreadConstraints": spread,
        "containers": [container],
        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}],
    }
    if critical:
        spec["tolerations"] = [CRITICAL_TOLERATION]
        spec["affinity"] = {
            "nodeAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {"weight": 100, "preference": {"matchExpressions": [{"key": CLASS_LABEL, "operator": "In", "values": [CRITICAL]}]}}
                ]
            }
        }
    return spec


def scale_behavior(stabilization_s: int) -> dict[str, Any]:
    """Out fast (double or +4 pods per 30 s), in slowly (10 % per minute after the window)."""
    return {
        "scaleUp": {
            "stabilizationWindowSeconds": 0,
            "selectPolicy": "Max",
            "policies": [{"type": "Percent", "value": 100, "periodSeconds": 30}, {"type": "Pods", "value": 4, "periodSeconds": 30}],
        },
        "scaleDown": {
            "stabilizationWindowSeconds": stabilization_s,
            "selectPolicy": "Min",
            "policies": [{"type": "Percent", "value": 10, "periodSeconds": 60}],
        },
    }


def hpa_metrics(spec: WebSpec) -> list[dict[str, Any]]:
    """CPU always; requests/s per pod only where the custom metrics API serves it."""
    metrics: list[dict[str, Any]] = [
        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": spec.target_cpu_pct}}}
    ]
    if spec.scale_on_requests:
        target = {"type": "AverageValue", "averageValue": milli_quantity(spec.target_rps_per_pod)}
        metrics.append({"type": "Pods", "pods": {"metric": {"name": RPS_METRIC}, "target": target}})
    return metrics


def milli_quantity(value: float) -> str:
    """A Kubernetes quantity with milli precision (``45.5`` -> ``45500m``)."""
    return f"{round(value * 1000)}m"


class K8sWorkload(pulumi.ComponentResource):
    def __init__(self, name: str, args: K8sWorkloadArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(token("k8s", "Workload"), name, None, opts)
        self._name = name
        self.args = args
        ns = args.namespace
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-ns",
            metadata={"name": ns, "labels": {PART_OF_LABEL: PART_OF, "pod-security.kubernetes.io/enforce": "restricted"}},
            opts=child(self),
        )
        self._deny_all_ingress()
        self.web = self._web(args.web)
        self.worker = self._worker(args.worker) if args.worker else None
        self.hostname = self.ingress.status.apply(_lb_hostname)
        self.register_outputs({"namespace": ns, "ingress_hostname": self.hostname})

    def _meta(self, name: str, app: Optional[str] = None, **extra: Any) -> dict[str, Any]:
        return {"name": name, "namespace": self.args.namespace, "labels": labels(app or name), **extra}

    def _opts(self) -> pulumi.ResourceOptions:
        return child(self, depends_on=[self.namespace])

    def _deny_all_ingress(self) -> None:
        k8s.networking.v1.NetworkPolicy(
            f"{self._name}-default-deny",
            metadata={"name": "default-deny-ingress", "namespace": self.args.namespace},
            spec={"podSelector": {}, "policyTypes": ["Ingress"]},
            opts=self._opts(),
        )

    def _allow(self, app: str, sources: list[dict[str, Any]], port: int) -> None:
        """Ingress to ``app`` only from the same app, Prometheus (scrapes) and ``sources``."""
        peers = [
            {"podSelector": {"matchLabels": labels(app)}},
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": METRICS_NAMESPACE}},
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
            },
            *sources,
        ]
        k8s.networking.v1.NetworkPolicy(
            f"{self._name}-{app}-netpol",
            metadata=self._meta(f"{app}-ingress", app),
            spec={
                "podSelector": {"matchLabels": labels(app)},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": peers, "ports": [{"protocol": "TCP", "port": port}]}],
            },
            opts=self._opts(),
        )

    def _service_account(self, app: str, role_arn: Optional[pulumi.Input[str]] = None) -> k8s.core.v1.ServiceAccount:
        annotations = {"eks.amazonaws.com/role-arn": role_arn} if role_arn is not None else {}
        return k8s.core.v1.ServiceAccount(
            f"{self._name}-{app}-sa",
            metadata=self._meta(app, annotations=annotations),
            automount_service_account_token=False,
            opts=self._opts(),
        )

    def _deployment(self, app: str, container: dict[str, Any], sa: k8s.core.v1.ServiceAccount, *, critical: bool, grace_s: int) -> k8s.apps.v1.Deployment:
        # No ``replicas``: the HPA (or KEDA's HPA) owns the count; Pulumi would fight it.
        return k8s.apps.v1.Deployment(
            f"{self._name}-{app}",
            metadata=self._meta(app),
            spec={
                "selector": {"matchLabels": labels(app)},
                "revisionHistoryLimit": 5,
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
                "template": {"metadata": {"labels": labels(app)}, "spec": pod_spec(app, container, app, critical=critical, grace_s=grace_s)},
            },
            opts=child(self, depends_on=[self.namespace, sa]),
        )

    def _pdb_and_vpa(self, app: str, deployment: k8s.apps.v1.Deployment, limits: PodResources, min_replicas: int) -> None:
        k8s.policy.v1.PodDisruptionBudget(
            f"{self._name}-{app}-pdb",
            metadata=self._meta(app),
            spec={"selector": {"matchLabels": labels(app)}, **({"maxUnavailable": 1} if min_replicas > 1 else {"minAvailable": 0})},
            opts=self._opts(),
        )
        # With the HPA scaling on CPU, an active VPA may only touch memory.
        controlled = ["cpu", "memory"] if self.args.vpa_mode == "Off" else ["memory"]
        k8s.apiextensions.CustomResource(
            f"{self._name}-{app}-vpa",
            api_version="autoscaling.k8s.io/v1",
            kind="VerticalPodAutoscaler",
            metadata=self._meta(app),
            spec={
                "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": app},
                "updatePolicy": {"updateMode": self.args.vpa_mode},
                "resourcePolicy": {"containerPolicies": [{"containerName": "*", "controlledResources": controlled, "maxAllowed": quantities(limits)}]},
            },
            opts=child(self, depends_on=[deployment]),
        )

    def _web(self, spec: WebSpec) -> k8s.apps.v1.Deployment:
        app, c = "web", spec.container
        sa = self._service_account(app)
        deployment = self._deployment(app, hardened_container(app, c), sa, critical=True, grace_s=45)
        service = k8s.core.v1.Service(
            f"{self._name}-{app}-svc",
            metadata=self._meta(app),
            spec={"type": "ClusterIP", "selector": labels(app), "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]},
            opts=self._opts(),
        )
        self.ingress = k8s.networking.v1.Ingress(
            f"{self._name}-{app}-ingress",
            metadata=self._meta(app, annotations=self._alb_annotations(spec)),
            spec={
                "ingressClassName": "alb",
                "rules": [{"http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {"service": {"name": app, "port": {"name": "http"}}}}]}}],
            },
            opts=child(self, depends_on=[service]),
        )
        k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{self._name}-{app}-hpa",
            metadata=self._meta(app),
            spec={
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": app},
                "minReplicas": spec.min_replicas,
                "maxReplicas": spec.max_replicas,
                "metrics": hpa_metrics(spec),
                "behavior": scale_behavior(spec.scale_down_stabilization_s),
            },
            opts=child(self, depends_on=[deployment]),
        )
        self._pdb_and_vpa(app, deployment, c.limits, spec.min_replicas)
        alb = [{"ipBlock": {"cidr": cidr}} for cidr in spec.alb_source_cidrs]
        self._allow(app, alb, c.port)
        return deployment

    def _alb_annotations(self, spec: WebSpec) -> dict[str, str]:
        prefix = "alb.ingress.kubernetes.io/"
        annotations = {
            "scheme": "internet-facing",
            "target-type": "ip",
            "healthcheck-path": spec.container.health_path,
            "success-codes": "200",
            "load-balancer-attributes": f"deletion_protection.enabled={str(spec.deletion_protection).lower()},"
            "routing.http.drop_invalid_header_fields.enabled=true,routing.http2.enabled=true",
            "target-group-attributes": "deregistration_delay.timeout_seconds=30,slow_start.duration_seconds=30",
            "group.name": PART_OF,
        }
        if spec.certificate_arn:
            annotations.update(
                {
                    "listen-ports": '[{"HTTP": 80}, {"HTTPS": 443}]',
                    "ssl-redirect": "443",
                    "certificate-arn": spec.certificate_arn,
                    "ssl-policy": TLS_POLICY,
                }
            )
        else:
            annotations["listen-ports"] = '[{"HTTP": 80}]'
        return {prefix + k: v for k, v in annotations.items()}

    def _worker(self, spec: WorkerSpec) -> k8s.apps.v1.Deployment:
        app, c = "worker", spec.container
        sa = self._service_account(app, spec.role_arn)
        env: dict[str, pulumi.Input[str]] = {"QUEUE_URL": spec.queues[0].url, "AWS_REGION": spec.region}
        # Spot interruption gives 2 minutes: finish the current job within 90 s.
        deployment = self._deployment(app, hardened_container(app, c, env), sa, critical=False, grace_s=90)
        auth = k8s.apiextensions.CustomResource(
            f"{self._name}-{app}-trigger-auth",
            api_version="keda.sh/v1alpha1",
            kind="TriggerAuthentication",
            metadata=self._meta(f"{app}-aws", app),
            # KEDA assumes the role of the workload's own service account: no extra credentials.
            spec={"podIdentity": {"provider": "aws", "identityOwner": "workload"}},
            opts=self._opts(),
        )
        triggers = [
            {
                "type": "aws-sqs-queue",
                "authenticationRef": {"name": f"{app}-aws"},
                "metadata": {"queueURL": q.url, "queueLength": str(spec.messages_per_pod), "awsRegion": spec.region, "scaleOnInFlight": "true"},
            }
            for q in spec.queues
        ]
        k8s.apiextensions.CustomResource(
            f"{self._name}-{app}-scaledobject",
            api_version="keda.sh/v1alpha1",
            kind="ScaledObject",
            metadata=self._meta(app),
            spec={
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": app},
                "minReplicaCount": spec.min_replicas,
                "maxReplicaCount": spec.max_replicas,
                "pollingInterval": 15,
                "cooldownPeriod": 300,
                "advanced": {"horizontalPodAutoscalerConfig": {"behavior": scale_behavior(300)}},
                "triggers": triggers,
            },
            opts=child(self, depends_on=[deployment, auth]),
        )
        self._pdb_and_vpa(app, deployment, c.limits, spec.min_replicas)
        self._allow(app, [], c.port)
        return deployment


def _lb_hostname(status: Any) -> str:
    try:
        return str(status["load_balancer"]["ingress"][0]["hostname"])
    except (KeyError, IndexError, TypeError):
        return ""
