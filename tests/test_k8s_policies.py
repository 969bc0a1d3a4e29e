"""The Kubernetes rules of the policy pack, run directly on the staging stack's captured
resources (passes) and on broken variants (each rule fires)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pulumi_policy import PolicyCustomTimeouts, PolicyResource, PolicyResourceOptions, ResourceValidationArgs, StackValidationArgs, StackValidationPolicy

from policies.kubernetes import DEPLOYMENT, POLICIES
from scalestack.offline import Capture
from tests.conftest import captured

OPTS = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])
BY_NAME = {p.name: p for p in POLICIES}


def _resources(capture: Capture) -> list[tuple[str, dict[str, Any], str, str]]:
    return [(r.type, copy.deepcopy(r.inputs), r.urn, r.name) for r in capture.resources if r.custom]


def run(resources: list[tuple[str, dict[str, Any], str, str]], only: str | None = None) -> list[tuple[str, str]]:
    """(policy name, message) for every violation."""
    found: list[tuple[str, str]] = []
    for policy in POLICIES:
        if only and policy.name != only:
            continue

        def report(message: str, urn: str | None = None, name: str = policy.name) -> None:
            found.append((name, message))

        if isinstance(policy, StackValidationPolicy):
            stack = [PolicyResource(t, p, u, n, OPTS, None, None, [], {}) for t, p, u, n in resources]
            policy.validate(StackValidationArgs(stack), report)  # type: ignore[misc]
        else:
            for t, p, u, n in resources:
                policy.validate(ResourceValidationArgs(t, p, u, n, OPTS, None), report)  # type: ignore[misc]
    return found


@pytest.fixture(scope="module")
def staging() -> list[tuple[str, dict[str, Any], str, str]]:
    return _resources(captured("staging"))


def _web(resources: list[tuple[str, dict[str, Any], str, str]]) -> dict[str, Any]:
    return next(p for t, p, _, _ in resources if t == DEPLOYMENT and p["metadata"]["name"] == "web")


def test_the_pack_has_the_six_kubernetes_rules() -> None:
    assert set(BY_NAME) == {
        "k8s-requests-and-limits",
        "k8s-no-privileged-or-root",
        "k8s-pinned-images",
        "k8s-deployment-autoscaled",
        "k8s-pdb-when-replicated",
        "k8s-network-policy-present",
    }


def test_staging_passes_every_kubernetes_rule(staging: list[tuple[str, dict[str, Any], str, str]]) -> None:
    assert run(staging) == []


def _without(resources: list[tuple[str, dict[str, Any], str, str]], type_: str) -> list[tuple[str, dict[str, Any], str, str]]:
    return [r for r in resources if r[0] != type_]


@pytest.mark.parametrize(
    ("policy", "break_it", "expected"),
    [
        (
            "k8s-requests-and-limits",
            lambda rs: _web(rs)["spec"]["template"]["spec"]["containers"][0]["resources"].pop("limits"),
            "sets no limits for cpu, memory",
        ),
        (
            "k8s-no-privileged-or-root",
            lambda rs: _web(rs)["spec"]["template"]["spec"]["containers"][0]["securityContext"].update(privileged=True),
            "is privileged",
        ),
        (
            "k8s-no-privileged-or-root",
            lambda rs: (
                _web(rs)["spec"]["template"]["spec"]["securityContext"].update(runAsUser=0),
                _web(rs)["spec"]["template"]["spec"]["containers"][0]["securityContext"].update(runAsUser=0),
            ),
            "may run as root",
        ),
        ("k8s-pinned-images", lambda rs: _web(rs)["spec"]["template"]["spec"]["containers"][0].update(image="nginx:latest"), "is not pinned"),
        ("k8s-pinned-images", lambda rs: _web(rs)["spec"]["template"]["spec"]["containers"][0].update(image="nginx"), "is not pinned"),
    ],
)
def test_each_resource_rule_fires(staging: list[tuple[str, dict[str, Any], str, str]], policy: str, break_it: Any, expected: str) -> None:
    broken = copy.deepcopy(staging)
    break_it(broken)
    violations = run(broken, only=policy)
    assert violations and all(expected in m for _, m in violations), violations


def test_deployment_without_hpa_fires(staging: list[tuple[str, dict[str, Any], str, str]]) -> None:
    violations = run(_without(staging, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"), only="k8s-deployment-autoscaled")
    assert violations == [("k8s-deployment-autoscaled", "Deployment mortgagematch/web has no HorizontalPodAutoscaler or KEDA ScaledObject")]


def test_keda_scaled_object_counts_as_autoscaling(staging: list[tuple[str, dict[str, Any], str, str]]) -> None:
    rs = _without(staging, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
    so = {"metadata": {"name": "web", "namespace": "mortgagematch"}, "spec": {"scaleTargetRef": {"name": "web"}, "minReplicaCount": 2}}
    rs.append(("kubernetes:keda.sh/v1alpha1:ScaledObject", so, "urn:so", "so"))
    assert run(rs, only="k8s-deployment-autoscaled") == []
    assert run(rs, only="k8s-pdb-when-replicated") == []


def test_pdb_required_only_above_one_replica(staging: list[tuple[str, dict[str, Any], str, str]]) -> None:
    no_pdb = _without(staging, "kubernetes:policy/v1:PodDisruptionBudget")
    (violation,) = run(no_pdb, only="k8s-pdb-when-replicated")
    assert violation == ("k8s-pdb-when-replicated", "Deployment mortgagematch/web runs 3 replicas but no PodDisruptionBudget selects its pods")
    single = copy.deepcopy(no_pdb)
    next(p for t, p, _, _ in single if t == "kubernetes:autoscaling/v2:HorizontalPodAutoscaler")["spec"]["minReplicas"] = 1
    assert run(single, only="k8s-pdb-when-replicated") == []


def test_namespace_without_network_policy_fires(staging: list[tuple[str, dict[str, Any], str, str]]) -> None:
    violations = run(_without(staging, "kubernetes:networking.k8s.io/v1:NetworkPolicy"), only="k8s-network-policy-present")
    assert sorted(violations) == [
        ("k8s-network-policy-present", f"namespace 'mortgagematch' of Deployment {app} has no NetworkPolicy (pods accept traffic from anywhere)")
        for app in ("web", "worker")
    ]
