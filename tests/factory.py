"""Synthetic captures for tests: hand-built resources with the standard pulumi-aws types
and engine camelCase inputs, inside a shipped stack's config."""

from __future__ import annotations

from typing import Any, Optional

from google.protobuf import json_format, struct_pb2

from infra.config import StackConfig
from scalestack.offline import STACK_TYPE, Capture, CapturedResource

PROJECT = "mortgagematch-scaling"


def resource(type_: str, name: str, inputs: Optional[dict[str, Any]] = None, module: str = "", stack: str = "synthetic", id_: str = "") -> CapturedResource:
    """A custom resource, inside a ``mortgagematch:<module>:<Kind>`` component when given."""
    inputs = inputs or {}
    chain = f"mortgagematch:{module}:{module.title()}${type_}" if module else type_
    raw = struct_pb2.Struct()
    json_format.ParseDict(inputs, raw)
    return CapturedResource(
        urn=f"urn:pulumi:{stack}::{PROJECT}::{chain}::{name}",
        type=type_,
        name=name,
        parent=f"urn:pulumi:{stack}::{PROJECT}::{STACK_TYPE}::{PROJECT}-{stack}",
        custom=True,
        protect=False,
        dependencies=[],
        property_dependencies={},
        provider="",
        id=id_ or f"{name}-id",
        inputs=inputs,
        raw_inputs=raw,
    )


def capture(config: StackConfig, resources: list[CapturedResource], stack: str = "synthetic") -> Capture:
    return Capture(project=PROJECT, stack=stack, config=config, resources=resources, diagnostics=[])


def asg(name: str, tier: str, min_size: int, max_size: int, override_types: list[str], base: int = 0, pct: int = 100, module: str = "web") -> CapturedResource:
    return resource(
        "aws:autoscaling/group:Group",
        name,
        {
            "minSize": min_size,
            "maxSize": max_size,
            "mixedInstancesPolicy": {
                "instancesDistribution": {
                    "onDemandBaseCapacity": base,
                    "onDemandPercentageAboveBaseCapacity": pct,
                    "spotAllocationStrategy": "price-capacity-optimized",
                },
                "launchTemplate": {
                    "launchTemplateSpecification": {"launchTemplateId": "lt-01", "version": "$Latest"},
                    "overrides": [{"instanceType": t} for t in override_types],
                },
            },
            "tags": [{"key": "tier", "value": tier, "propagateAtLaunch": True}],
        },
        module=module,
    )


def rds(name: str, cls: str, engine: Optional[str] = "postgres", multi_az: bool = False, storage: int = 0, **extra: Any) -> CapturedResource:
    inputs: dict[str, Any] = {"instanceClass": cls, "multiAz": multi_az, **extra}
    if engine:
        inputs["engine"] = engine
    if storage:
        inputs["allocatedStorage"] = storage
    return resource("aws:rds/instance:Instance", name, inputs, module="database", id_=name)
