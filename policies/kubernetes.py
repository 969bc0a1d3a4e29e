"""Kubernetes rules for the policy pack: every workload sets requests and limits, runs
unprivileged and non-root from a pinned image; every Deployment is autoscaled (HPA or a
KEDA ScaledObject), has a PodDisruptionBudget when it runs more than one replica, and
lives in a namespace with a NetworkPolicy. The pack collects ``POLICIES``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Optional

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from infra.config.sections.eks import check_image

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
POD_TEMPLATE_TYPES = {DEPLOYMENT, "kubernetes:apps/v1:StatefulSet", "kubernetes:apps/v1:DaemonSet", "kubernetes:batch/v1:Job"}
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def _pod_spec(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return _get(props, "spec", "template", "spec") or {}


def _containers(props: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    spec = _pod_spec(props)
    for key in ("initContainers", "containers"):
        yield from spec.get(key) or []


def _key(props: Mapping[str, Any]) -> tuple[str, str]:
    meta = props.get("metadata") or {}
    return str(meta.get("namespace") or "default"), str(meta.get("name") or "")


def _pod_rule(check: Any) -> Any:
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type in POD_TEMPLATE_TYPES:
            for message in check(args.props):
                report(message, None)

    return validate


def _requests_limits(props: Mapping[str, Any]) -> Iterator[str]:
    for c in _containers(props):
        for kind in ("requests", "limits"):
            missing = [r for r in ("cpu", "memory") if not _get(c, "resources", kind, r)]
            if missing:
                yield f"container {c.get('name')!r} sets no {kind} for {', '.join(missing)}"


def _unprivileged(props: Mapping[str, Any]) -> Iterator[str]:
    pod_ctx = _pod_spec(props).get("securityContext") or {}
    for c in _containers(props):
        ctx = {**pod_ctx, **(c.get("securityContext") or {})}
        name = c.get("name")
        if ctx.get("privileged"):
            yield f"container {name!r} is privileged"
        if ctx.get("allowPrivilegeEscalation", True):
            yield f"container {name!r} allows privilege escalation (set allowPrivilegeEscalation: false)"
        if not ctx.get("runAsNonRoot") or ctx.get("runAsUser") == 0:
            yield f"container {name!r} may run as root (set runAsNonRoot: true and a non-zero runAsUser)"


def _pinned_images(props: Mapping[str, Any]) -> Iterator[str]:
    for c in _containers(props):
        try:
            check_image(str(c.get("image") or ""))
        except ValueError:
            yield f"container {c.get('name')!r} image {c.get('image')!r} is not pinned by tag or digest (or uses 'latest')"


def _by_type(args: StackValidationArgs, type_: str) -> list[Any]:
    return [r for r in args.resources if r.resource_type == type_]


def _scalers(args: StackValidationArgs) -> dict[tuple[str, str], int]:
    """(namespace, deployment) -> minimum replicas, for every HPA or ScaledObject."""
    out: dict[tuple[str, str], int] = {}
    for r in _by_type(args, HPA):
        ns, _ = _key(r.props)
        target = _get(r.props, "spec", "scaleTargetRef") or {}
        if target.get("kind") == "Deployment":
            out[(ns, str(target.get("name")))] = int(_get(r.props, "spec", "minReplicas") or 1)
    for r in _by_type(args, SCALED_OBJECT):
        ns, _ = _key(r.props)
        target = _get(r.props, "spec", "scaleTargetRef") or {}
        if target.get("kind", "Deployment") == "Deployment":
            out[(ns, str(target.get("name")))] = int(_get(r.props, "spec", "minReplicaCount") or 0)
    return out


def _every_deployment_autoscaled(args: StackValidationArgs, report: ReportViolation) -> None:
    scaled = _scalers(args)
    for d in _by_type(args, DEPLOYMENT):
        if _key(d.props) not in scaled:
            report(f"Deployment {'/'.join(_key(d.props))} has no HorizontalPodAutoscaler or KEDA ScaledObject", d.urn)


def _replicas(d: Any, scaled: Mapping[tuple[str, str], int]) -> int:
    explicit: Optional[int] = _get(d.props, "spec", "replicas")
    return int(explicit) if explicit is not None else scaled.get(_key(d.props), 1)


def _pdb_when_replicated(args: StackValidationArgs, report: ReportViolation) -> None:
    scaled = _scalers(args)
    pdbs = [(_key(p.props)[0], _get(p.props, "spec", "selector", "matchLabels") or {}) for p in _by_type(args, PDB)]
    for d in _by_type(args, DEPLOYMENT):
        if _replicas(d, scaled) <= 1:
            continue
        ns, name = _key(d.props)
        labels = _get(d.props, "spec", "template", "metadata", "labels") or {}
        if not any(pns == ns and sel and all(labels.get(k) == v for k, v in sel.items()) for pns, sel in pdbs):
            report(f"Deployment {ns}/{name} runs {_replicas(d, scaled)} replicas but no PodDisruptionBudget selects its pods", d.urn)


def _network_policy_present(args: StackValidationArgs, report: ReportViolation) -> None:
    covered = {_key(n.props)[0] for n in _by_type(args, NETWORK_POLICY)}
    for d in _by_type(args, DEPLOYMENT):
        ns, name = _key(d.props)
        if ns not in covered:
            report(f"namespace {ns!r} of Deployment {name} has no NetworkPolicy (pods accept traffic from anywhere)", d.urn)


POLICIES: list[Any] = [
    ResourceValidationPolicy(
        name="k8s-requests-and-limits",
        description="Every container sets CPU and memory requests and limits (scheduling, HPA utilisation and VPA need them).",
        validate=_pod_rule(_requests_limits),
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    ResourceValidationPolicy(
        name="k8s-no-privileged-or-root",
        description="No privileged containers, no privilege escalation, no root user.",
        validate=_pod_rule(_unprivileged),
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    ResourceValidationPolicy(
        name="k8s-pinned-images",
        description="Images are pinned by tag or digest, never 'latest' (reproducible rollouts and rollbacks).",
        validate=_pod_rule(_pinned_images),
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    StackValidationPolicy(
        name="k8s-deployment-autoscaled",
        description="Every Deployment has a HorizontalPodAutoscaler (or a KEDA ScaledObject, which owns one).",
        validate=_every_deployment_autoscaled,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    StackValidationPolicy(
        name="k8s-pdb-when-replicated",
        description="A Deployment with more than one replica has a PodDisruptionBudget selecting its pods.",
        validate=_pdb_when_replicated,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    StackValidationPolicy(
        name="k8s-network-policy-present",
        description="Every namespace that runs a Deployment has a NetworkPolicy.",
        validate=_network_policy_present,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
]
