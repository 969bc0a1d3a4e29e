"""Config -> AutoScalingGroup arguments, shared by the web and worker tiers. The policies a
group gets follow ``policy_kinds`` so tests can check the phase table against it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Optional

import pulumi

from components.autoscaling import (
    AutoScalingGroup,
    AutoScalingGroupArgs,
    BacklogTracking,
    PredictivePolicy,
    ScheduledFloor,
    StepPolicy,
    TargetTracking,
    WarmPoolSpec,
)
from infra.config.sections.compute import InstanceGroup
from infra.platform import Platform
from scalestack import capacity


def policy_kinds(group: InstanceGroup, has_load_balancer: bool = True) -> set[str]:
    """The scaling policy kinds a group's config turns on."""
    s = group.scaling
    kinds = set()
    if s.requests_tracking and has_load_balancer:
        kinds.add("requests-tracking")
    if s.cpu_tracking:
        kinds.add("cpu-tracking")
    if s.backlog_tracking:
        kinds.add("backlog-tracking")
    if s.step.enabled:
        kinds.add("step")
    if s.scheduled.enabled:
        kinds.add("scheduled")
    if s.predictive.mode != "off":
        kinds.add(f"predictive-{s.predictive.mode}")
    return kinds


def build_group(
    platform: Platform,
    tier: str,
    group: InstanceGroup,
    model: capacity.GroupCapacity,
    *,
    target_group_arns: Sequence[pulumi.Input[str]] = (),
    request_target: float = 0.0,
    request_label: Optional[pulumi.Input[str]] = None,
    backlog: Optional[BacklogTracking] = None,
    role_policies: Optional[Mapping[str, pulumi.Input[str]]] = None,
    rollback_alarm_names: Sequence[pulumi.Input[str]] = (),
) -> AutoScalingGroup:
    sizes = capacity.group_sizes(group, model)
    s = group.scaling
    kinds = policy_kinds(group, has_load_balancer=request_label is not None)
    tracking = []
    if "requests-tracking" in kinds:
        tracking.append(TargetTracking("requests", "ALBRequestCountPerTarget", round(request_target, 1), request_label))
    if "cpu-tracking" in kinds:
        tracking.append(TargetTracking("cpu", "ASGAverageCPUUtilization", s.cpu_target_pct))
    predictive = None
    if s.predictive.mode != "off":
        p = s.predictive
        predictive = PredictivePolicy(p.mode, p.cpu_target_pct, p.max_capacity_buffer_pct, p.scheduling_buffer_s)  # type: ignore[arg-type]
    sched = s.scheduled
    return AutoScalingGroup(
        tier,
        AutoScalingGroupArgs(
            tier=tier,
            subnet_ids=platform.network.private_subnet_ids,
            security_group_ids=[platform.security.group_id(tier)],
            instance_type=group.instance_type,
            alternatives=group.alternatives(),
            min_size=sizes.min_size,
            max_size=sizes.max_size,
            user_data=group.user_data,
            root_volume_gb=group.root_volume_gb,
            detailed_monitoring=group.detailed_monitoring,
            on_demand_base=sizes.on_demand_base,
            spot_pct=group.spot_pct,
            spot_allocation_strategy=group.spot_allocation_strategy,
            capacity_rebalance=group.capacity_rebalance,
            target_group_arns=target_group_arns,
            health_check_grace_s=group.health_check_grace_s,
            default_instance_warmup_s=group.default_instance_warmup_s,
            max_instance_lifetime_s=group.max_instance_lifetime_s,
            termination_policies=list(group.termination_policies),
            maintenance_min_healthy_pct=group.maintenance_min_healthy_pct,
            maintenance_max_healthy_pct=group.maintenance_max_healthy_pct,
            refresh_min_healthy_pct=group.refresh.min_healthy_pct,
            refresh_max_healthy_pct=group.refresh.max_healthy_pct,
            refresh_checkpoints=group.refresh.checkpoints,
            refresh_checkpoint_delay_s=group.refresh.checkpoint_delay_s,
            auto_rollback=group.refresh.auto_rollback,
            rollback_alarm_names=rollback_alarm_names,
            warm_pool=WarmPoolSpec(group.warm_pool.min_size, group.warm_pool.pool_state, group.warm_pool.reuse_on_scale_in)
            if group.warm_pool.enabled
            else None,
            drain_timeout_s=group.drain_timeout_s,
            role_policies=role_policies or {},
            target_tracking=tracking,
            backlog=backlog if "backlog-tracking" in kinds else None,
            step=StepPolicy(s.step.cpu_threshold_pct, s.step.step_width_pct, s.step.adjustments) if s.step.enabled else None,
            scheduled=ScheduledFloor(sched.time_zone, sched.business_hours_start, sched.business_hours_end, sizes.business_hours_min)
            if sched.enabled
            else None,
            predictive=predictive,
            capacity_reservation_ids=_reservations(platform, tier),
        ),
        opts=platform.opts(),
    )


def _reservations(platform: Platform, tier: str) -> Sequence[pulumi.Input[str]]:
    """The capacity reservations made for this tier's baseline (only the web tier's exist)."""
    reservations = platform.get("capacity_reservations")
    return list(reservations.ids) if reservations is not None and tier == "web" else []


def watch_group(platform: Platform, group: AutoScalingGroup, tier: str, config: InstanceGroup, model: capacity.GroupCapacity) -> None:
    """Register the group's alarms (CPU, at max, spot events) with the monitoring tier."""
    sizes = capacity.group_sizes(config, model)
    spot = config.spot_pct > 0
    platform.components["monitoring"].asg(
        group,
        tier,
        group_name=group.group.name,
        on_demand_base=sizes.on_demand_base if spot else None,
        on_demand_pct=float(100 - config.spot_pct) if spot else None,
    )
