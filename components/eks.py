"""EKS cluster: private API endpoint (public only for listed CIDRs), KMS envelope
encryption of Secrets, control-plane logs, managed add-ons, an on-demand baseline node
group that only critical pods may use, a diversified spot node group, cluster-autoscaler
discovery tags, IRSA for workloads, and a Kubernetes provider built from the cluster's
own outputs (exec auth through ``aws eks get-token``: no local kubeconfig, no token in state)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Optional

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.iam import assume_role_policy
from components.k8s_common import CRITICAL_TAINT, ON_DEMAND_LABELS, SPOT_LABELS, critical_placement
from components.naming import child, token

AWS_MANAGED = "arn:aws:iam::aws:policy/"
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly", "AmazonSSMManagedInstanceCore")
AMI_TYPES = {"arm64": "AL2023_ARM_64_STANDARD", "x86_64": "AL2023_x86_64_STANDARD"}
# Add-ons whose controller runs with its own IRSA role (not the node role).
ADDON_SERVICE_ACCOUNTS = {
    "vpc-cni": ("aws-node", "AmazonEKS_CNI_Policy"),
    "aws-ebs-csi-driver": ("ebs-csi-controller-sa", "service-role/AmazonEBSCSIDriverPolicy"),
}
# Add-ons whose pods need nodes to run on (created after the node groups); the others
# (vpc-cni, kube-proxy) are what nodes need to join, so they come first.
NEEDS_NODES = ("coredns", "aws-ebs-csi-driver")
_TAINT_EFFECTS = {"NoSchedule": "NO_SCHEDULE", "PreferNoSchedule": "PREFER_NO_SCHEDULE", "NoExecute": "NO_EXECUTE"}


@dataclass(frozen=True)
class NodeGroupSpec:
    instance_types: list[str]
    min_size: int
    max_size: int
    arch: str

    @property
    def desired_size(self) -> int:
        return self.min_size


@dataclass(frozen=True)
class EksClusterArgs:
    cluster_name: str
    version: str
    region: str
    vpc_cidr: str
    private_subnet_ids: Sequence[pulumi.Input[str]]
    public_subnet_ids: Sequence[pulumi.Input[str]]
    security_group_id: pulumi.Input[str]
    on_demand: NodeGroupSpec
    spot: NodeGroupSpec
    addon_versions: dict[str, str]
    endpoint_public_access: bool = False
    public_access_cidrs: list[str] = field(default_factory=list)
    log_types: list[str] = field(default_factory=lambda: ["api", "audit", "authenticator", "controllerManager", "scheduler"])
    log_retention_days: int = 90
    deletion_protection: bool = False


def irsa_trust_policy(oidc_arn: str, issuer_url: str, namespace: str, service_account: str, assumer_arns: Sequence[str] = ()) -> str:
    """Only this one service account (and optionally named roles, e.g. KEDA's operator
    acting for the workload) may assume the role."""
    host = issuer_url.removeprefix("https://")
    statements: list[dict[str, Any]] = [
        {
            "Effect": "Allow",
            "Principal": {"Federated": oidc_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {f"{host}:sub": f"system:serviceaccount:{namespace}:{service_account}", f"{host}:aud": "sts.amazonaws.com"}},
        }
    ]
    if assumer_arns:
        statements.append({"Effect": "Allow", "Principal": {"AWS": list(assumer_arns)}, "Action": "sts:AssumeRole"})
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def kubeconfig(cluster_name: str, endpoint: str, ca_data: str, region: str) -> str:
    """A kubeconfig whose user runs ``aws eks get-token``: short-lived tokens, nothing secret stored."""
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "aws",
            "args": ["eks", "get-token", "--cluster-name", cluster_name, "--region", region, "--output", "json"],
            "interactiveMode": "Never",
        }
    }
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": cluster_name, "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}],
            "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
            "current-context": cluster_name,
            "users": [{"name": cluster_name, "user": user}],
        }
    )


def autoscaler_tags(cluster_name: str, labels: dict[str, str], taints: Sequence[dict[str, str]]) -> dict[str, str]:
    """Auto-discovery tags, plus node-template hints so the autoscaler can scale a group
    up from zero for pods that need its labels or tolerate its taints."""
    tags = {"k8s.io/cluster-autoscaler/enabled": "true", f"k8s.io/cluster-autoscaler/{cluster_name}": "owned"}
    tags.update({f"k8s.io/cluster-autoscaler/node-template/label/{k}": v for k, v in labels.items()})
    tags.update({f"k8s.io/cluster-autoscaler/node-template/taint/{t['key']}": f"{t['value']}:{t['effect']}" for t in taints})
    return tags


class EksCluster(pulumi.ComponentResource):
    cluster: aws.eks.Cluster
    provider: k8s.Provider
    node_groups: dict[str, aws.eks.NodeGroup]

    def __init__(self, name: str, args: EksClusterArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(token("eks", "Cluster"), name, None, opts)
        self._name = name
        self.args = args
        self.key = aws.kms.Key(
            f"{name}-secrets-key",
            description=f"EKS {args.cluster_name}: envelope encryption of Kubernetes Secrets",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            opts=child(self),
        )
        role = aws.iam.Role(f"{name}-cluster-role", assume_role_policy=assume_role_policy("eks.amazonaws.com"), opts=child(self))
        attachment = aws.iam.RolePolicyAttachment(f"{name}-cluster-policy", role=role.name, policy_arn=AWS_MANAGED + "AmazonEKSClusterPolicy", opts=child(self))
        logs = aws.cloudwatch.LogGroup(
            f"{name}-control-plane-logs",
            name=f"/aws/eks/{args.cluster_name}/cluster",
            retention_in_days=args.log_retention_days,
            opts=child(self),
        )
        self.cluster = aws.eks.Cluster(
            f"{name}-cluster",
            name=args.cluster_name,
            version=args.version,
            role_arn=role.arn,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=list(args.private_subnet_ids),
                security_group_ids=[args.security_group_id],
                endpoint_private_access=True,
                endpoint_public_access=args.endpoint_public_access,
                public_access_cidrs=list(args.public_access_cidrs) if args.endpoint_public_access else None,
            ),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=self.key.arn),
                resources=["secrets"],
            ),
            enabled_cluster_log_types=list(args.log_types),
            access_config=aws.eks.ClusterAccessConfigArgs(authentication_mode="API", bootstrap_cluster_creator_admin_permissions=True),
            bootstrap_self_managed_addons=False,
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type="STANDARD"),
            deletion_protection=args.deletion_protection,
            opts=child(self, depends_on=[attachment, logs]),
        )
        self.cluster_name = self.cluster.name
        issuer = self.cluster.identities.apply(lambda ids: ids[0]["oidcs"][0]["issuer"])
        self.oidc = aws.iam.OpenIdConnectProvider(f"{name}-oidc", url=issuer, client_id_lists=["sts.amazonaws.com"], opts=child(self))
        self._tag_subnets()
        self.node_role = self._node_role()
        # Without self-managed add-ons the cluster has no CNI: nodes only turn Ready (and a
        # node group only finishes creating) once vpc-cni and kube-proxy exist.
        self.addons = self._addons([a for a in args.addon_versions if a not in NEEDS_NODES], after=[])
        self.node_groups = self._node_groups(depends_on=list(self.addons.values()))
        self.addons.update(self._addons([a for a in args.addon_versions if a in NEEDS_NODES], after=list(self.node_groups.values())))
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=pulumi.Output.all(self.cluster.name, self.cluster.endpoint, self.cluster.certificate_authority.data, args.region).apply(
                lambda a: kubeconfig(*a)
            ),
            enable_server_side_apply=True,
            opts=child(self, depends_on=list(self.node_groups.values())),
        )
        self.register_outputs(
            {
                "cluster_name": self.cluster.name,
                "endpoint": self.cluster.endpoint,
                "oidc_provider_arn": self.oidc.arn,
                "node_groups": {k: g.node_group_name for k, g in self.node_groups.items()},
            }
        )

    def _tag_subnets(self) -> None:
        """Subnet tags the AWS Load Balancer Controller discovers subnets by."""
        for tier, ids, role_tag in (
            ("public", self.args.public_subnet_ids, "kubernetes.io/role/elb"),
            ("private", self.args.private_subnet_ids, "kubernetes.io/role/internal-elb"),
        ):
            for i, subnet_id in enumerate(ids):
                aws.ec2.Tag(f"{self._name}-{tier}-{i}-elb-tag", resource_id=subnet_id, key=role_tag, value="1", opts=child(self))

    def _node_role(self) -> aws.iam.Role:
        role = aws.iam.Role(f"{self._name}-node-role", assume_role_policy=assume_role_policy("ec2.amazonaws.com"), opts=child(self))
        self._node_attachments = [
            aws.iam.RolePolicyAttachment(f"{self._name}-node-{policy}", role=role.name, policy_arn=AWS_MANAGED + policy, opts=child(self))
            for policy in NODE_POLICIES
        ]
        return role

    def _launch_template(self) -> aws.ec2.LaunchTemplate:
        """IMDSv2 only with hop limit 1 (pods use IRSA, never the node's role), encrypted gp3 root volume."""
        return aws.ec2.LaunchTemplate(
            f"{self._name}-nodes",
            description=f"EKS {self.args.cluster_name} managed node groups",
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1),
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name="/dev/xvda",
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(volume_size=50, volume_type="gp3", encrypted="true", delete_on_termination="true"),
                )
            ],
            monitoring=aws.ec2.LaunchTemplateMonitoringArgs(enabled=True),
            update_default_version=True,
            opts=child(self),
        )

    def _node_groups(self, depends_on: Sequence[pulumi.Resource]) -> dict[str, aws.eks.NodeGroup]:
        lt = self._launch_template()
        groups: dict[str, aws.eks.NodeGroup] = {}
        for kind, spec, capacity_type, labels, taints in (
            ("on-demand", self.args.on_demand, "ON_DEMAND", ON_DEMAND_LABELS, [CRITICAL_TAINT]),
            ("spot", self.args.spot, "SPOT", SPOT_LABELS, []),
        ):
            groups[kind] = aws.eks.NodeGroup(
                f"{self._name}-{kind}",
                cluster_name=self.cluster.name,
                node_role_arn=self.node_role.arn,
                subnet_ids=list(self.args.private_subnet_ids),
                capacity_type=capacity_type,
                ami_type=AMI_TYPES[spec.arch],
                instance_types=list(spec.instance_types),
                scaling_config=aws.eks.NodeGroupScalingConfigArgs(min_size=spec.min_size, max_size=spec.max_size, desired_size=spec.desired_size),
                update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable_percentage=33),
                launch_template=aws.eks.NodeGroupLaunchTemplateArgs(id=lt.id, version=lt.latest_version.apply(str)),
                labels=dict(labels),
                taints=[aws.eks.NodeGroupTaintArgs(key=t["key"], value=t["value"], effect=_TAINT_EFFECTS[t["effect"]]) for t in taints],
                tags={"Name": f"{self.args.cluster_name}-{kind}", **autoscaler_tags(self.args.cluster_name, labels, taints)},
                # The cluster-autoscaler owns the desired size once the group exists.
                opts=child(self, depends_on=[*self._node_attachments, *depends_on], ignore_changes=["scalingConfig.desiredSize"]),
            )
        return groups

    def _addons(self, names: Sequence[str], after: Sequence[pulumi.Resource]) -> dict[str, aws.eks.Addon]:
        placement = critical_placement()
        # vpc-cni enforces the NetworkPolicies; coredns and the EBS CSI controller are critical pods.
        configs: dict[str, dict[str, Any]] = {"vpc-cni": {"enableNetworkPolicy": "true"}, "coredns": placement, "aws-ebs-csi-driver": {"controller": placement}}
        addons: dict[str, aws.eks.Addon] = {}
        for addon in names:
            version = self.args.addon_versions[addon]
            role_arn = None
            if addon in ADDON_SERVICE_ACCOUNTS:
                sa, policy = ADDON_SERVICE_ACCOUNTS[addon]
                role_arn = self.irsa_role(addon, "kube-system", sa, managed_policies=[AWS_MANAGED + policy]).arn
            addons[addon] = aws.eks.Addon(
                f"{self._name}-{addon}",
                cluster_name=self.cluster.name,
                addon_name=addon,
                addon_version=version,
                service_account_role_arn=role_arn,
                configuration_values=json.dumps(configs[addon]) if addon in configs else None,
                resolve_conflicts_on_create="OVERWRITE",
                resolve_conflicts_on_update="PRESERVE",
                opts=child(self, depends_on=list(after) or None),
            )
        return addons

    def irsa_role(
        self,
        name: str,
        namespace: str,
        service_account: str,
        *,
        policy: Optional[pulumi.Input[str]] = None,
        managed_policies: Sequence[str] = (),
        assumers: Sequence[pulumi.Input[str]] = (),
    ) -> aws.iam.Role:
        """An IAM role only ``namespace/service_account`` (and ``assumers``) may assume."""
        trust = pulumi.Output.all(self.oidc.arn, self.oidc.url, pulumi.Output.all(*assumers)).apply(
            lambda a: irsa_trust_policy(a[0], a[1], namespace, service_account, a[2])
        )
        role = aws.iam.Role(f"{self._name}-{name}-irsa", assume_role_policy=trust, opts=child(self))
        if policy is not None:
            aws.iam.RolePolicy(f"{self._name}-{name}-irsa", role=role.id, policy=policy, opts=child(self))
        for arn in managed_policies:
            aws.iam.RolePolicyAttachment(f"{self._name}-{name}-{arn.rsplit('/', 1)[-1]}", role=role.name, policy_arn=arn, opts=child(self))
        return role
