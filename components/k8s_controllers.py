"""The cluster controllers the workloads rely on, as pinned Helm releases: AWS Load
Balancer Controller (Ingress -> ALB), cluster-autoscaler (node groups), metrics-server
(CPU for the HPA), the Vertical Pod Autoscaler and KEDA (their CRDs and operators), plus
the encrypted gp3 default StorageClass. All of them run on the on-demand baseline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s

from components.k8s_common import critical_placement
from components.naming import child, token

STORAGE_CLASS = "gp3-encrypted"


@dataclass(frozen=True)
class Chart:
    chart: str
    repo: str
    namespace: str


CHARTS: dict[str, Chart] = {
    "aws_load_balancer_controller": Chart("aws-load-balancer-controller", "https://aws.github.io/eks-charts", "kube-system"),
    "cluster_autoscaler": Chart("cluster-autoscaler", "https://kubernetes.github.io/autoscaler", "kube-system"),
    "metrics_server": Chart("metrics-server", "https://kubernetes-sigs.github.io/metrics-server/", "kube-system"),
    "vpa": Chart("vpa", "https://charts.fairwinds.com/stable", "kube-system"),
    "keda": Chart("keda", "https://kedacore.github.io/charts", "keda"),
}


@dataclass(frozen=True)
class K8sControllersArgs:
    cluster_name: pulumi.Input[str]
    region: str
    vpc_id: pulumi.Input[str]
    charts: dict[str, str]
    vpa_mode: str
    lb_controller_role_arn: pulumi.Input[str]
    autoscaler_role_arn: pulumi.Input[str]
    keda_role_arn: Optional[pulumi.Input[str]] = None


def irsa_sa(name: str, role_arn: pulumi.Input[str]) -> dict[str, Any]:
    return {"create": True, "name": name, "annotations": {"eks.amazonaws.com/role-arn": role_arn}}


def chart_values(args: K8sControllersArgs) -> dict[str, dict[str, Any]]:
    """Helm values per chart (the chart's own value names)."""
    placement = critical_placement()
    keda: dict[str, Any] = {**placement, "operator": {"replicaCount": 2}}
    if args.keda_role_arn is not None:
        keda["podIdentity"] = {"aws": {"irsa": {"enabled": True, "roleArn": args.keda_role_arn}}}
    # Recommendations only (updateMode Off) need neither the updater nor the webhook.
    active = args.vpa_mode != "Off"
    return {
        "aws_load_balancer_controller": {
            **placement,
            "clusterName": args.cluster_name,
            "region": args.region,
            "vpcId": args.vpc_id,
            "replicaCount": 2,
            "serviceAccount": irsa_sa("aws-load-balancer-controller", args.lb_controller_role_arn),
        },
        "cluster_autoscaler": {
            **placement,
            "cloudProvider": "aws",
            "awsRegion": args.region,
            "autoDiscovery": {"clusterName": args.cluster_name},
            "rbac": {"serviceAccount": irsa_sa("cluster-autoscaler", args.autoscaler_role_arn)},
            "extraArgs": {"balance-similar-node-groups": True, "skip-nodes-with-system-pods": False, "expander": "least-waste"},
        },
        "metrics_server": {**placement, "replicas": 2},
        "vpa": {
            "recommender": {**placement},
            "updater": {"enabled": active, **placement},
            "admissionController": {"enabled": active, **placement},
        },
        "keda": keda,
    }


class K8sControllers(pulumi.ComponentResource):
    def __init__(self, name: str, args: K8sControllersArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(token("k8s", "Controllers"), name, None, opts)
        self.storage_class = k8s.storage.v1.StorageClass(
            f"{name}-gp3",
            metadata={"name": STORAGE_CLASS, "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            provisioner="ebs.csi.aws.com",
            parameters={"type": "gp3", "encrypted": "true"},
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            reclaim_policy="Retain",
            opts=child(self),
        )
        self.storage_class_name = STORAGE_CLASS
        values = chart_values(args)
        self.releases: dict[str, k8s.helm.v3.Release] = {}
        for key, chart in CHARTS.items():
            if key == "keda" and args.keda_role_arn is None:
                continue  # no queues on this stack: nothing for KEDA to scale on
            self.releases[key] = k8s.helm.v3.Release(
                f"{name}-{chart.chart}",
                name=chart.chart,
                chart=chart.chart,
                version=args.charts[key],
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=chart.repo),
                namespace=chart.namespace,
                create_namespace=chart.namespace != "kube-system",
                values=values[key],
                atomic=True,
                cleanup_on_fail=True,
                timeout=600,
                opts=child(self),
            )
        self.register_outputs({"releases": sorted(self.releases)})
