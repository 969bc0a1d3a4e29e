"""The Kubernetes path (``compute.platform: eks``): the EKS cluster, the cluster
controllers, the app and worker workloads and in-cluster monitoring. Sizes come from the
capacity model unless the stack file pins them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.eks import EksCluster, EksClusterArgs, NodeGroupSpec
from components.k8s_controllers import K8sControllers, K8sControllersArgs
from components.k8s_monitoring import K8sMonitoring, K8sMonitoringArgs
from components.k8s_workload import Container, K8sWorkload, K8sWorkloadArgs, QueueTrigger, WebSpec, WorkerSpec
from components.network import plan_subnets
from components.queues import CONSUMER_ACTIONS
from components.security_groups import allow_cidrs
from infra.config import StackConfig
from infra.config.sections.eks import ADDONS, Replicas
from infra.platform import Platform
from scalestack import capacity, catalog

MAX_SPOT_TYPES = 10  # managed node groups: the first type plus same-size alternatives


@dataclass(frozen=True)
class EksSizing:
    """Replicas and nodes the stack needs, from the capacity model and the config."""

    web: capacity.GroupCapacity
    worker: capacity.GroupCapacity
    web_replicas: tuple[int, int]
    worker_replicas: tuple[int, int]
    on_demand: tuple[int, int]
    spot: tuple[int, int]
    rps_per_pod: float
    messages_per_pod: int


def _replicas(given: Replicas, derived: capacity.GroupCapacity) -> tuple[int, int]:
    low = given.min_replicas if given.min_replicas is not None else derived.min_size
    high = given.max_replicas if given.max_replicas is not None else max(derived.max_size, low)
    return low, max(high, low)


def sizing(config: StackConfig) -> EksSizing:
    """On-demand nodes hold the critical baseline (web minimum, one node per AZ at least);
    spot nodes hold the burst above it and the workers."""
    eks, load, azs = config.eks, config.load, config.network.az_count
    web_req, worker_req = eks.requests_for("web"), eks.requests_for("worker")
    web = capacity.web_pod_capacity(load, web_req.cpu_millicores, azs, config.is_prod)
    worker = capacity.worker_pod_capacity(load, worker_req.cpu_millicores, azs, config.is_prod)
    web_replicas, worker_replicas = _replicas(eks.web, web), _replicas(eks.worker, worker)
    od_type, spot_type = eks.on_demand.instance_type, eks.spot.instance_type
    od_min = max(azs, capacity.nodes_for(web_replicas[0], web_req, od_type))
    od_max = max(od_min, capacity.nodes_for(web_replicas[1], web_req, od_type))
    spot_max = capacity.nodes_for(web_replicas[1] - web_replicas[0] + worker_replicas[1], worker_req, spot_type)
    spot_min = capacity.nodes_for(worker_replicas[0], worker_req, spot_type) if worker_replicas[0] else 0
    on_demand = (eks.on_demand.min_size if eks.on_demand.min_size is not None else od_min, eks.on_demand.max_size or od_max)
    spot = (eks.spot.min_size if eks.spot.min_size is not None else spot_min, eks.spot.max_size or max(spot_max, spot_min, 1))
    per_job_cpu = max(1.0, worker_req.cpu_millicores / 1000)
    messages = max(1, round(capacity.backlog_target(eks.worker.acceptable_latency_s, load.seconds_per_job) * per_job_cpu))
    return EksSizing(
        web=web,
        worker=worker,
        web_replicas=web_replicas,
        worker_replicas=worker_replicas,
        on_demand=(on_demand[0], max(on_demand)),
        spot=(spot[0], max(spot)),
        rps_per_pod=capacity.per_pod_rps(load, web_req.cpu_millicores),
        messages_per_pod=messages,
    )


def spot_types(primary: str) -> list[str]:
    """The spot group's diversified types: the primary plus same-size alternatives from the catalogue."""
    return [primary, *catalog.same_size_alternatives(primary)][:MAX_SPOT_TYPES]


def cluster_name(config: StackConfig) -> str:
    return f"mortgagematch-{config.environment}"


def wire(platform: Platform) -> None:
    config = platform.config
    if config.compute.platform != "eks":
        return
    eks, size = config.eks, sizing(config)
    name = cluster_name(config)
    od, spot = eks.on_demand.instance_type, eks.spot.instance_type
    cluster = EksCluster(
        "eks",
        EksClusterArgs(
            cluster_name=name,
            version=eks.version,
            region=config.region,
            vpc_cidr=config.network.cidr,
            private_subnet_ids=platform.network.private_subnet_ids,
            public_subnet_ids=platform.network.public_subnet_ids,
            security_group_id=platform.security.groups["eks-cluster"].id,
            on_demand=NodeGroupSpec([od], *size.on_demand, arch=catalog.ec2_type(od).arch),
            spot=NodeGroupSpec(spot_types(spot), *size.spot, arch=catalog.ec2_type(spot).arch),
            addon_versions={addon: eks.addon_version(addon) for addon in ADDONS},
            endpoint_public_access=eks.endpoint_public_access,
            public_access_cidrs=list(eks.public_access_cidrs),
            log_types=list(eks.control_plane_logs),
            log_retention_days=eks.log_retention_days,
            deletion_protection=config.is_prod,
        ),
        opts=platform.opts(),
    )
    platform.components["eks"] = cluster
    # The private API endpoint answers to the VPC only (CI runners, bastions via SSM).
    allow_cidrs(cluster, "eks-api", platform.security.groups["eks-cluster"].id, 443, {"vpc": config.network.cidr})
    k8s_opts = pulumi.ResourceOptions(providers={"aws": platform.providers.regional, "kubernetes": cluster.provider})
    queues = platform.get("queues")
    keda_role = cluster.irsa_role("keda-operator", "keda", "keda-operator") if queues is not None else None
    controllers = K8sControllers(
        "cluster-addons",
        K8sControllersArgs(
            cluster_name=cluster.cluster.name,
            region=config.region,
            vpc_id=platform.network.vpc_id,
            charts=eks.charts.model_dump(),
            vpa_mode=eks.vpa_mode,
            lb_controller_role_arn=cluster.irsa_role("lb-controller", "kube-system", "aws-load-balancer-controller", policy=_lb_controller_policy()).arn,
            autoscaler_role_arn=cluster.irsa_role("cluster-autoscaler", "kube-system", "cluster-autoscaler", policy=_autoscaler_policy(name)).arn,
            keda_role_arn=keda_role.arn if keda_role is not None else None,
        ),
        opts=k8s_opts,
    )
    monitoring = None
    if eks.monitoring.enabled:
        monitoring = K8sMonitoring(
            "k8s-monitoring",
            K8sMonitoringArgs(
                namespace=eks.namespace,
                chart_version=eks.monitoring.chart_version,
                adapter_chart_version=eks.monitoring.adapter_chart_version,
                retention_days=eks.monitoring.retention_days,
                storage_gb=eks.monitoring.storage_gb,
                storage_class=controllers.storage_class_name,
                grafana_admin_password=eks.monitoring.grafana_admin_password.as_output() if eks.monitoring.grafana_admin_password else None,
                error_rate_pct=eks.monitoring.error_rate_pct,
                latency_p95_ms=eks.monitoring.latency_p95_ms,
                saturation_pct=eks.monitoring.saturation_pct,
            ),
            opts=pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[controllers])),
        )
    worker = _worker_spec(platform, cluster, size, queues, keda_role) if queues is not None else None
    public_cidrs = plan_subnets(config.network.cidr, config.network.az_count)["public"]
    workload = K8sWorkload(
        "app",
        K8sWorkloadArgs(
            namespace=eks.namespace,
            vpa_mode=eks.vpa_mode,
            web=WebSpec(
                container=_container(eks.web.image, config, "web", eks.web.port, eks.web.health_path),
                min_replicas=size.web_replicas[0],
                max_replicas=size.web_replicas[1],
                target_cpu_pct=eks.web.target_cpu_pct,
                target_rps_per_pod=size.rps_per_pod,
                scale_down_stabilization_s=eks.web.scale_down_stabilization_s,
                certificate_arn=eks.web.ingress_certificate_arn,
                alb_source_cidrs=public_cidrs,
                # prometheus-adapter (part of the in-cluster monitoring) serves requests/s.
                scale_on_requests=monitoring is not None,
                deletion_protection=config.is_prod,
            ),
            worker=worker,
        ),
        opts=pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[c for c in (controllers, monitoring) if c is not None])),
    )
    platform.components.update({"eks": cluster, "k8s_workload": workload, "k8s_controllers": controllers})
    if monitoring is not None:
        platform.components["k8s_monitoring"] = monitoring
    platform.outputs.update({"eks_cluster_name": cluster.cluster.name, "eks_endpoint": cluster.cluster.endpoint, "ingress_hostname": workload.hostname})


def _container(image: str, config: StackConfig, role: str, port: int = 8080, health_path: str = "/healthz") -> Container:
    return Container(image=image, requests=config.eks.requests_for(role), limits=config.eks.limits_for(role), port=port, health_path=health_path)


def _worker_spec(platform: Platform, cluster: EksCluster, size: EksSizing, queues: Any, keda_role: Any) -> WorkerSpec:
    """The worker's IRSA role may only consume its own queues; KEDA's operator may assume
    it to read the backlog (TriggerAuthentication ``identityOwner: workload``)."""
    config = platform.config
    consumed = [q for q in (getattr(queues, "priority_queue", None), queues.queue) if q is not None]
    triggers = [QueueTrigger(url=q.url, arn=q.arn) for q in consumed]
    role = cluster.irsa_role(
        "worker",
        config.eks.namespace,
        "worker",
        policy=worker_queue_policy([t.arn for t in triggers]),
        assumers=[keda_role.arn],
    )
    cluster_assume = pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role.arn}]})
    aws.iam.RolePolicy("eks-keda-operator-assume-worker", role=keda_role.id, policy=cluster_assume, opts=pulumi.ResourceOptions(parent=cluster))
    return WorkerSpec(
        container=_container(config.eks.worker.image, config, "worker"),
        min_replicas=size.worker_replicas[0],
        max_replicas=size.worker_replicas[1],
        messages_per_pod=size.messages_per_pod,
        queues=triggers,
        role_arn=role.arn,
        region=config.region,
    )


def worker_queue_policy(queue_arns: list[pulumi.Input[str]]) -> pulumi.Output[str]:
    return pulumi.Output.json_dumps(
        {"Version": "2012-10-17", "Statement": [{"Sid": "ConsumeOwnQueues", "Effect": "Allow", "Action": list(CONSUMER_ACTIONS), "Resource": queue_arns}]}
    )


def _autoscaler_policy(cluster: str) -> str:
    """cluster-autoscaler: describe anything, change only this cluster's groups."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": [
                        "autoscaling:DescribeAutoScalingGroups",
                        "autoscaling:DescribeAutoScalingInstances",
                        "autoscaling:DescribeLaunchConfigurations",
                        "autoscaling:DescribeScalingActivities",
                        "autoscaling:DescribeTags",
                        "ec2:DescribeImages",
                        "ec2:DescribeInstanceTypes",
                        "ec2:DescribeLaunchTemplateVersions",
                        "ec2:GetInstanceTypesFromInstanceRequirements",
                        "eks:DescribeNodegroup",
                    ],
                    "Resource": "*",
                },
                {
                    "Effect": "Allow",
                    "Action": ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
                    "Resource": "*",
                    "Condition": {"StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster}": "owned"}},
                },
            ],
        }
    )


def _lb_controller_policy() -> str:
    """AWS Load Balancer Controller: read the VPC, manage the load balancers, target groups
    and security groups it tagged itself (condensed from the controller's reference policy)."""
    owned = {"Null": {"aws:ResourceTag/elbv2.k8s.aws/cluster": "false"}}
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": [
                        "ec2:Describe*",
                        "elasticloadbalancing:Describe*",
                        "acm:ListCertificates",
                        "acm:DescribeCertificate",
                        "wafv2:GetWebACL",
                        "wafv2:GetWebACLForResource",
                        "wafv2:AssociateWebACL",
                        "wafv2:DisassociateWebACL",
                        "shield:GetSubscriptionState",
                        "iam:ListServerCertificates",
                        "cognito-idp:DescribeUserPoolClient",
                    ],
                    "Resource": "*",
                },
                {
                    "Effect": "Allow",
                    "Action": ["iam:CreateServiceLinkedRole"],
                    "Resource": "*",
                    "Condition": {"StringEquals": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}},
                },
                {
                    "Effect": "Allow",
                    "Action": [
                        "ec2:CreateSecurityGroup",
                        "ec2:CreateTags",
                        "elasticloadbalancing:CreateLoadBalancer",
                        "elasticloadbalancing:CreateTargetGroup",
                        "elasticloadbalancing:AddTags",
                    ],
                    "Resource": "*",
                    "Condition": {"Null": {"aws:RequestTag/elbv2.k8s.aws/cluster": "false"}},
                },
                {
                    "Effect": "Allow",
                    "Action": [
                        "ec2:AuthorizeSecurityGroupIngress",
                        "ec2:RevokeSecurityGroupIngress",
                        "ec2:DeleteSecurityGroup",
                        "elasticloadbalancing:ModifyLoadBalancerAttributes",
                        "elasticloadbalancing:SetIpAddressType",
                        "elasticloadbalancing:SetSecurityGroups",
                        "elasticloadbalancing:SetSubnets",
                        "elasticloadbalancing:DeleteLoadBalancer",
                        "elasticloadbalancing:ModifyTargetGroup",
                        "elasticloadbalancing:ModifyTargetGroupAttributes",
                        "elasticloadbalancing:DeleteTargetGroup",
                        "elasticloadbalancing:RegisterTargets",
                        "elasticloadbalancing:DeregisterTargets",
                    ],
                    "Resource": "*",
                    "Condition": owned,
                },
                {
                    "Effect": "Allow",
                    "Action": [
                        "elasticloadbalancing:CreateListener",
                        "elasticloadbalancing:DeleteListener",
                        "elasticloadbalancing:CreateRule",
                        "elasticloadbalancing:DeleteRule",
                        "elasticloadbalancing:ModifyListener",
                        "elasticloadbalancing:ModifyRule",
                        "elasticloadbalancing:AddListenerCertificates",
                        "elasticloadbalancing:RemoveListenerCertificates",
                        "elasticloadbalancing:SetWebAcl",
                    ],
                    "Resource": "*",
                },
            ],
        }
    )
