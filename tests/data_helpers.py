"""Helpers the data and edge tier tests share: config parsing with one changed section,
ingress rules by target group, and a scan for values that must never appear in clear."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.config import ConfigError, StackConfig, parse
from scalestack.offline import Capture, CapturedResource

NS = "mortgagematch-scaling"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SG = "aws:ec2/securityGroup:SecurityGroup"


def config_values(environment: str = "dev", phase: str = "implementation", **sections: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        f"{NS}:environment": environment,
        f"{NS}:phase": phase,
        f"{NS}:tags": {"owner": "me", "cost-center": "cc1"},
    }
    values.update({f"{NS}:{k}": v for k, v in sections.items()})
    return values


def parsed(environment: str = "dev", phase: str = "implementation", **sections: Any) -> StackConfig:
    return parse(config_values(environment, phase, **sections), [], f"Pulumi.{environment}.yaml")


def config_error(environment: str = "prod", phase: str = "implementation", **sections: Any) -> str:
    """The one-line message bad input gives (fails the test if it is accepted)."""
    with pytest.raises(ConfigError) as info:
        parse(config_values(environment, phase, **sections), [], f"Pulumi.{environment}.yaml")
    message = str(info.value)
    assert "\n" not in message
    return message


def sg_id(capture: Capture, role: str) -> str:
    return capture.one(SG, f"sg-{role}").id


def ingress_sources(capture: Capture, target_role: str) -> dict[str, int]:
    """Source security group id -> port of every ingress rule on a tier's group."""
    target = sg_id(capture, target_role)
    rules = [r for r in capture.by_type(INGRESS) if r.inputs["securityGroupId"] == target]
    assert all("cidrIpv4" not in r.inputs and "cidrIpv6" not in r.inputs for r in rules), "tier groups admit groups, never CIDRs"
    return {r.inputs["referencedSecurityGroupId"]: r.inputs["fromPort"] for r in rules if r.inputs["toPort"] == r.inputs["fromPort"]}


def assert_never_in_clear(capture: Capture, secret: str) -> None:
    """``secret`` appears in no captured input or output of any resource, nor in the stack outputs."""
    for r in capture.resources:
        assert secret not in json.dumps(r.inputs, default=str), f"{r.name} inputs reveal a secret"
        assert secret not in json.dumps(r.outputs, default=str), f"{r.name} outputs reveal a secret"
    assert secret not in json.dumps(capture.stack_outputs, default=str)


def only(resources: list[CapturedResource]) -> CapturedResource:
    assert len(resources) == 1, [r.name for r in resources]
    return resources[0]
