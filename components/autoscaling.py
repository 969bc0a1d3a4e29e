"""A reusable Auto Scaling group: launch template (AMI from the SSM public parameter for
the instance architecture, IMDSv2 with hop limit 1, encrypted gp3 root), a least-privilege
instance profile, a mixed-instances policy (spot above an on-demand base across same-size
types), rolling instance refresh with automatic rollback, an optional warm pool, a drain
lifecycle hook and every scaling policy kind (target tracking incl. metric math, step,
scheduled with a time zone, predictive).

``desired_capacity`` is set once at creation and then ignored: the policies own it."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Optional

import pulumi
import pulumi_aws as aws

from components.iam import assume_role_policy
from components.naming import child, token
from scalestack import catalog

MANAGED_POLICIES = (
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
)
AMI_PARAMETERS = {
    "arm64": "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
    "x86_64": "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
}
GROUP_METRICS = (
    "GroupMinSize",
    "GroupMaxSize",
    "GroupDesiredCapacity",
    "GroupInServiceInstances",
    "GroupPendingInstances",
    "GroupTerminatingInstances",
    "GroupTotalInstances",
    "GroupInServiceCapacity",
    "GroupTotalCapacity",
)


@dataclass(frozen=True)
class TargetTracking:
    """Target tracking on a predefined metric (``ASGAverageCPUUtilization``,
    ``ALBRequestCountPerTarget`` with its resource label)."""

    name: str
    metric: str
    target: float
    resource_label: Optional[pulumi.Input[str]] = None


@dataclass(frozen=True)
class BacklogTracking:
    """Target tracking on backlog per instance: visible messages of the queues / InService instances."""

    queue_names: Sequence[pulumi.Input[str]]
    target: float


@dataclass(frozen=True)
class StepPolicy:
    cpu_threshold_pct: float
    step_width_pct: float
    adjustments: Sequence[int]


@dataclass(frozen=True)
class ScheduledFloor:
    time_zone: str
    start_cron: str
    end_cron: str
    business_min: int


@dataclass(frozen=True)
class PredictivePolicy:
    mode: Literal["ForecastOnly", "ForecastAndScale"]
    cpu_target_pct: float
    max_capacity_buffer_pct: int
    scheduling_buffer_s: int


@dataclass(frozen=True)
class WarmPoolSpec:
    min_size: int = 0
    pool_state: str = "Stopped"
    reuse_on_scale_in: bool = True


@dataclass(frozen=True)
class AutoScalingGroupArgs:
    tier: str
    subnet_ids: Sequence[pulumi.Input[str]]
    security_group_ids: Sequence[pulumi.Input[str]]
    instance_type: str
    min_size: int
    max_size: int
    alternatives: Sequence[str] = ()
    user_data: str = ""
    root_volume_gb: int = 20
    detailed_monitoring: bool = True
    on_demand_base: int = 0
    spot_pct: int = 0
    spot_allocation_strategy: str = "price-capacity-optimized"
    capacity_rebalance: bool = True
    target_group_arns: Sequence[pulumi.Input[str]] = ()
    health_check_grace_s: int = 300
    default_instance_warmup_s: int = 180
    max_instance_lifetime_s: int = 0
    termination_policies: Sequence[str] = ("OldestLaunchTemplate", "AllocationStrategy", "OldestInstance")
    maintenance_min_healthy_pct: int = 90
    maintenance_max_healthy_pct: int = 120
    refresh_min_healthy_pct: int = 90
    refresh_max_healthy_pct: int = 120
    refresh_checkpoints: Sequence[int] = (33, 100)
    refresh_checkpoint_delay_s: int = 300
    auto_rollback: bool = True
    rollback_alarm_names: Sequence[pulumi.Input[str]] = ()
    warm_pool: Optional[WarmPoolSpec] = None
    drain_timeout_s: int = 300
    role_policies: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    target_tracking: Sequence[TargetTracking] = ()
    backlog: Optional[BacklogTracking] = None
    step: Optional[StepPolicy] = None
    scheduled: Optional[ScheduledFloor] = None
    predictive: Optional[PredictivePolicy] = None
    # On-demand capacity reservations the group launches into first (the prod baseline).
    capacity_reservation_ids: Sequence[pulumi.Input[str]] = ()

    def __post_init__(self) -> None:
        if self.warm_pool is not None and self.spot_pct > 0:
            raise ValueError(f"{self.tier}: a warm pool cannot hold spot instances (nor run with a mixed-instances policy); use spot_pct 0 or no warm pool")
        if self.on_demand_base > self.max_size:
            raise ValueError(f"{self.tier}: on-demand base {self.on_demand_base} exceeds max size {self.max_size}")


def step_adjustments(step: StepPolicy) -> list[dict[str, Any]]:
    """Bounds are offsets above the alarm threshold; the last step is open-ended."""
    out: list[dict[str, Any]] = []
    for i, adjustment in enumerate(step.adjustments):
        entry: dict[str, Any] = {"scaling_adjustment": adjustment, "metric_interval_lower_bound": f"{i * step.step_width_pct:g}"}
        if i < len(step.adjustments) - 1:
            entry["metric_interval_upper_bound"] = f"{(i + 1) * step.step_width_pct:g}"
        out.append(entry)
    return out


def backlog_metrics(queue_names: Sequence[pulumi.Input[str]], group_name: pulumi.Input[str]) -> list[dict[str, Any]]:
    """Metric math: (visible messages of every queue) / InService instances."""
    metrics: list[dict[str, Any]] = [
        {
            "id": f"queue{i}",
            "label": "visible messages",
            "metric_stat": {
                "metric": {"namespace": "AWS/SQS", "metric_name": "ApproximateNumberOfMessagesVisible", "dimensions": [{"name": "QueueName", "value": q}]},
                "stat": "Sum",
            },
            "return_data": False,
        }
        for i, q in enumerate(queue_names)
    ]
    metrics.append(
        {
            "id": "instances",
            "label": "InService instances",
            "metric_stat": {
                "metric": {
                    "namespace": "AWS/AutoScaling",
                    "metric_name": "GroupInServiceInstances",
                    "dimensions": [{"name": "AutoScalingGroupName", "value": group_name}],
                },
                "stat": "Average",
            },
            "return_data": False,
        }
    )
    visible = " + ".join(f"queue{i}" for i in range(len(queue_names)))
    metrics.append({"id": "backlog", "label": "backlog per instance", "expression": f"({visible}) / instances", "return_data": True})
    return metrics


class AutoScalingGroup(pulumi.ComponentResource):
    group: aws.autoscaling.Group
    launch_template: aws.ec2.LaunchTemplate
    role: aws.iam.Role

    def __init__(self, name: str, args: AutoScalingGroupArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(token("compute", "AutoScalingGroup"), name, None, opts)
        self.args = args
        self.arch = catalog.ec2_type(args.instance_type).arch
        profile = self._instance_profile(name, args)
        self.launch_template = self._launch_template(name, args, profile)
        self.group = self._group(name, args)
        aws.autoscaling.LifecycleHook(
            f"{name}-drain",
            autoscaling_group_name=self.group.name,
            lifecycle_transition="autoscaling:EC2_INSTANCE_TERMINATING",
            heartbeat_timeout=args.drain_timeout_s,
            default_result="CONTINUE",
            opts=child(self),
        )
        self.policies: dict[str, aws.autoscaling.Policy] = {}
        self.schedules: list[aws.autoscaling.Schedule] = []
        self._policies(name, args)
        self.register_outputs(
            {"group_name": self.group.name, "group_arn": self.group.arn, "launch_template_id": self.launch_template.id, "role_arn": self.role.arn}
        )

    def _instance_profile(self, name: str, args: AutoScalingGroupArgs) -> aws.iam.InstanceProfile:
        self.role = aws.iam.Role(
            f"{name}-role",
            description=f"{args.tier} instances: SSM, CloudWatch agent and nothing else unless listed",
            assume_role_policy=assume_role_policy("ec2.amazonaws.com"),
            opts=child(self),
        )
        for arn in MANAGED_POLICIES:
            aws.iam.RolePolicyAttachment(f"{name}-{arn.rsplit('/', 1)[1]}", role=self.role.name, policy_arn=arn, opts=child(self))
        for policy_name, document in args.role_policies.items():
            aws.iam.RolePolicy(f"{name}-{policy_name}", role=self.role.id, policy=document, opts=child(self))
        return aws.iam.InstanceProfile(f"{name}-profile", role=self.role.name, opts=child(self))

    def _launch_template(self, name: str, args: AutoScalingGroupArgs, profile: aws.iam.InstanceProfile) -> aws.ec2.LaunchTemplate:
        ami = aws.ssm.get_parameter_output(name=AMI_PARAMETERS[self.arch], opts=pulumi.InvokeOutputOptions(parent=self))
        tags = {"tier": args.tier, "Name": f"{name}"}
        return aws.ec2.LaunchTemplate(
            f"{name}-lt",
            description=f"{args.tier} instances ({self.arch})",
            image_id=ami.value,
            instance_type=args.instance_type,
            iam_instance_profile={"arn": profile.arn},
            vpc_security_group_ids=list(args.security_group_ids),
            metadata_options={"http_endpoint": "enabled", "http_tokens": "required", "http_put_response_hop_limit": 1, "instance_metadata_tags": "enabled"},
            monitoring={"enabled": args.detailed_monitoring},
            block_device_mappings=[
                {
                    "device_name": "/dev/xvda",
                    "ebs": {"volume_size": args.root_volume_gb, "volume_type": "gp3", "encrypted": "true", "delete_on_termination": "true"},
                }
            ],
            user_data=base64.b64encode(args.user_data.encode()).decode() if args.user_data else None,
            tag_specifications=[{"resource_type": "instance", "tags": tags}, {"resource_type": "volume", "tags": tags}],
            update_default_version=True,
            opts=child(self),
        )

    def _group(self, name: str, args: AutoScalingGroupArgs) -> aws.autoscaling.Group:
        template = {"id": self.launch_template.id, "version": self.launch_template.latest_version.apply(str)}
        placement: dict[str, Any]
        if args.warm_pool is not None:
            # Warm pools refuse mixed-instances policies: launch the template directly.
            placement = {
                "launch_template": template,
                "warm_pool": {
                    "min_size": args.warm_pool.min_size,
                    "pool_state": args.warm_pool.pool_state,
                    "instance_reuse_policy": {"reuse_on_scale_in": args.warm_pool.reuse_on_scale_in},
                },
            }
        else:
            placement = {"mixed_instances_policy": self._mixed_instances(args, template)}
        preferences: dict[str, Any] = {
            "min_healthy_percentage": args.refresh_min_healthy_pct,
            "max_healthy_percentage": args.refresh_max_healthy_pct,
            "checkpoint_percentages": list(args.refresh_checkpoints),
            "checkpoint_delay": str(args.refresh_checkpoint_delay_s),
            "instance_warmup": str(args.default_instance_warmup_s),
            "skip_matching": True,
            "auto_rollback": args.auto_rollback,
        }
        if args.rollback_alarm_names:
            preferences["alarm_specification"] = {"alarms": list(args.rollback_alarm_names)}
        return aws.autoscaling.Group(
            f"{name}-asg",
            vpc_zone_identifiers=list(args.subnet_ids),
            min_size=args.min_size,
            max_size=args.max_size,
            desired_capacity=args.min_size,
            target_group_arns=list(args.target_group_arns),
            health_check_type="ELB" if args.target_group_arns else "EC2",
            health_check_grace_period=args.health_check_grace_s,
            default_instance_warmup=args.default_instance_warmup_s,
            capacity_rebalance=args.capacity_rebalance and args.spot_pct > 0,
            max_instance_lifetime=args.max_instance_lifetime_s,
            termination_policies=list(args.termination_policies),
            enabled_metrics=list(GROUP_METRICS),
            metrics_granularity="1Minute",
            instance_maintenance_policy={
                "min_healthy_percentage": args.maintenance_min_healthy_pct,
                "max_healthy_percentage": args.maintenance_max_healthy_pct,
            },
            instance_refresh={"strategy": "Rolling", "preferences": preferences},
            capacity_reservation_specification={
                "capacity_reservation_preference": "capacity-reservations-first",
                "capacity_reservation_target": {"capacity_reservation_ids": list(args.capacity_reservation_ids)},
            }
            if args.capacity_reservation_ids
            else None,
            tags=[
                {"key": "tier", "value": args.tier, "propagate_at_launch": True},
                {"key": "Name", "value": name, "propagate_at_launch": True},
            ],
            opts=child(self, ignore_changes=["desiredCapacity"]),
            **placement,
        )

    def _mixed_instances(self, args: AutoScalingGroupArgs, template: dict[str, Any]) -> dict[str, Any]:
        primary = catalog.ec2_type(args.instance_type)
        types = [args.instance_type, *[t for t in args.alternatives if t != args.instance_type]]
        overrides = [{"instance_type": t, "weighted_capacity": str(max(1, round(catalog.ec2_type(t).vcpu / primary.vcpu)))} for t in types]
        return {
            "instances_distribution": {
                "on_demand_allocation_strategy": "prioritized",
                "on_demand_base_capacity": args.on_demand_base,
                "on_demand_percentage_above_base_capacity": 100 - args.spot_pct,
                "spot_allocation_strategy": args.spot_allocation_strategy,
            },
            "launch_template": {
                "launch_template_specification": {"launch_template_id": template["id"], "version": template["version"]},
                "overrides": overrides,
            },
        }

    def _policies(self, name: str, args: AutoScalingGroupArgs) -> None:
        group_name = self.group.name
        for tt in args.target_tracking:
            spec: dict[str, Any] = {"predefined_metric_type": tt.metric}
            if tt.resource_label is not None:
                spec["resource_label"] = tt.resource_label
            self._policy(
                f"{name}-{tt.name}-tracking",
                policy_type="TargetTrackingScaling",
                target_tracking_configuration={"target_value": tt.target, "predefined_metric_specification": spec},
            )
        if args.backlog is not None:
            self._policy(
                f"{name}-backlog-tracking",
                policy_type="TargetTrackingScaling",
                target_tracking_configuration={
                    "target_value": args.backlog.target,
                    "customized_metric_specification": {"metrics": backlog_metrics(args.backlog.queue_names, group_name)},
                },
            )
        if args.step is not None:
            policy = self._policy(
                f"{name}-cpu-step",
                policy_type="StepScaling",
                adjustment_type="ChangeInCapacity",
                metric_aggregation_type="Average",
                step_adjustments=step_adjustments(args.step),
            )
            aws.cloudwatch.MetricAlarm(
                f"{name}-cpu-spike",
                alarm_description=f"{args.tier}: CPU above {args.step.cpu_threshold_pct:g}% for 2 minutes; step scaling adds capacity",
                namespace="AWS/EC2",
                metric_name="CPUUtilization",
                dimensions={"AutoScalingGroupName": group_name},
                statistic="Average",
                period=60,
                evaluation_periods=2,
                threshold=args.step.cpu_threshold_pct,
                comparison_operator="GreaterThanThreshold",
                alarm_actions=[policy.arn],
                opts=child(self),
            )
        if args.scheduled is not None:
            s = args.scheduled
            for label, cron, floor in (("business-hours-start", s.start_cron, s.business_min), ("business-hours-end", s.end_cron, args.min_size)):
                self.schedules.append(
                    aws.autoscaling.Schedule(
                        f"{name}-{label}",
                        autoscaling_group_name=group_name,
                        scheduled_action_name=f"{name}-{label}",
                        recurrence=cron,
                        time_zone=s.time_zone,
                        min_size=floor,
                        max_size=args.max_size,
                        opts=child(self),
                    )
                )
        if args.predictive is not None:
            p = args.predictive
            self._policy(
                f"{name}-predictive",
                policy_type="PredictiveScaling",
                predictive_scaling_configuration={
                    "mode": p.mode,
                    "max_capacity_breach_behavior": "IncreaseMaxCapacity",
                    "max_capacity_buffer": str(p.max_capacity_buffer_pct),
                    "scheduling_buffer_time": str(p.scheduling_buffer_s),
                    "metric_specification": {
                        "target_value": p.cpu_target_pct,
                        "predefined_metric_pair_specification": {"predefined_metric_type": "ASGCPUUtilization"},
                    },
                },
            )

    def _policy(self, resource_name: str, **kwargs: Any) -> aws.autoscaling.Policy:
        policy = aws.autoscaling.Policy(resource_name, autoscaling_group_name=self.group.name, opts=child(self), **kwargs)
        self.policies[resource_name] = policy
        return policy
