"""Security groups for every tier, created up front and empty of ingress.

Creating the groups first and letting each tier add the rules it needs (as separate
``aws.vpc.SecurityGroupIngressRule`` resources) avoids cycles between groups that refer
to each other (app -> database, proxy -> database, ...) and keeps each rule next to the
component that needs it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Optional

import pulumi
import pulumi_aws as aws

from components.naming import child, token

# Tiers whose instances reach out (package mirrors, SSM, AWS APIs through NAT/endpoints).
# Not the ALB: it only talks to its targets, and the web tier adds exactly that egress.
OUTBOUND_ROLES = frozenset({"web", "workers", "proxy", "eks-nodes"})


class _RoleLookup:
    """``ComponentResource.__init__`` stores ``id = None`` in the instance dict, which would
    hide a plain ``id`` method. A data descriptor on the class wins over the instance dict,
    so ``security.id(role)`` keeps working while the SDK still finds its attribute."""

    def __get__(self, obj: Optional[SecurityGroups], objtype: object = None) -> Callable[[str], pulumi.Output[str]]:
        if obj is None:
            raise AttributeError("id is looked up on a SecurityGroups instance")
        return obj.group_id

    def __set__(self, obj: object, value: object) -> None:
        obj.__dict__["id"] = value


class SecurityGroups(pulumi.ComponentResource):
    id = _RoleLookup()  # type: ignore[assignment]

    def __init__(self, name: str, vpc_id: pulumi.Input[str], roles: Sequence[str], opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(token("network", "SecurityGroups"), name, None, opts)
        self.groups: dict[str, aws.ec2.SecurityGroup] = {}
        for role in roles:
            group = aws.ec2.SecurityGroup(
                f"{name}-{role}",
                vpc_id=vpc_id,
                description=f"MortgageMatchPro {role} tier",
                tags={"Name": f"{name}-{role}", "tier": role},
                opts=child(self),
            )
            self.groups[role] = group
            if role in OUTBOUND_ROLES:
                aws.vpc.SecurityGroupEgressRule(
                    f"{name}-{role}-egress",
                    security_group_id=group.id,
                    ip_protocol="-1",
                    cidr_ipv4="0.0.0.0/0",
                    description="outbound to AWS APIs and package mirrors through NAT and endpoints",
                    opts=child(self),
                )
        self.register_outputs({f"{role}_security_group_id": g.id for role, g in self.groups.items()})

    def group_id(self, role: str) -> pulumi.Output[str]:
        return self.groups[role].id

    def has(self, role: str) -> bool:
        return role in self.groups


def _tcp_rule(
    rule: type[aws.vpc.SecurityGroupIngressRule] | type[aws.vpc.SecurityGroupEgressRule],
    parent: pulumi.Resource,
    name: str,
    group: pulumi.Input[str],
    port: int,
    description: str,
    **peer: pulumi.Input[str],
) -> Any:
    """One TCP rule on one port of ``group``; ``peer`` names the other side
    (``referenced_security_group_id`` or ``cidr_ipv4``)."""
    return rule(name, security_group_id=group, ip_protocol="tcp", from_port=port, to_port=port, description=description, opts=child(parent), **peer)


def allow_from_groups(
    parent: pulumi.Resource,
    name: str,
    target: pulumi.Input[str],
    port: int,
    sources: dict[str, pulumi.Input[str]],
) -> list[aws.vpc.SecurityGroupIngressRule]:
    """One ingress rule per source group on a TCP port: ``<name>-from-<source>``."""
    return [
        _tcp_rule(
            aws.vpc.SecurityGroupIngressRule, parent, f"{name}-from-{source}", target, port, f"{source} to port {port}", referenced_security_group_id=source_id
        )
        for source, source_id in sources.items()
    ]


def allow_to_group(parent: pulumi.Resource, name: str, source: pulumi.Input[str], port: int, target: pulumi.Input[str]) -> aws.vpc.SecurityGroupEgressRule:
    """An egress rule from one group to another on a TCP port: ``<name>``."""
    rule: aws.vpc.SecurityGroupEgressRule = _tcp_rule(
        aws.vpc.SecurityGroupEgressRule, parent, name, source, port, f"to the targets on port {port}", referenced_security_group_id=target
    )
    return rule


def allow_cidrs(parent: pulumi.Resource, name: str, target: pulumi.Input[str], port: int, sources: dict[str, str]) -> list[aws.vpc.SecurityGroupIngressRule]:
    """One ingress rule per named CIDR on a TCP port: ``<name>-from-<source>``."""
    return [
        _tcp_rule(aws.vpc.SecurityGroupIngressRule, parent, f"{name}-from-{source}", target, port, f"{source} ({cidr}) to port {port}", cidr_ipv4=cidr)
        for source, cidr in sources.items()
    ]
