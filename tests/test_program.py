"""The program runs for every shipped stack; the capture records the graph faithfully."""

from __future__ import annotations

import json

import pytest

from infra.wiring.web import HTTP_ONLY_WARNING
from scalestack.offline import STACK_TYPE, Capture
from tests.conftest import SHIPPED_STACKS, captured


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_program_runs_for_every_stack_file(stack: str) -> None:
    capture = captured(stack)
    assert capture.one(STACK_TYPE).name == f"mortgagematch-scaling-{stack}"
    assert capture.by_type("aws:ec2/vpc:Vpc")
    expected = {f"warning: {HTTP_ONLY_WARNING}"} if capture.config.web.certificate_arn is None else set()
    assert set(capture.diagnostics) <= expected, capture.diagnostics


def test_capture_records_parents_dependencies_and_providers(prod: Capture) -> None:
    network = prod.one("mortgagematch:network:Network")
    assert not network.custom
    vpc = prod.one("aws:ec2/vpc:Vpc")
    assert vpc.parent == network.urn and vpc.custom
    assert vpc.urn == "urn:pulumi:prod::mortgagematch-scaling::mortgagematch:network:Network$aws:ec2/vpc:Vpc::network-vpc"
    subnet = prod.find("network-private-us-east-1a")
    assert vpc.urn in subnet.dependencies
    assert subnet.property_dependencies["vpcId"] == [vpc.urn]
    provider = prod.one("pulumi:providers:aws", "aws")
    assert subnet.provider.startswith(provider.urn + "::")
    assert provider.inputs["region"] == "us-east-1"


def test_provider_stamps_mandatory_tags(prod: Capture) -> None:
    # Provider inputs travel as JSON strings on the wire, as the engine sends them.
    tags = json.loads(prod.one("pulumi:providers:aws", "aws").inputs["defaultTags"])["tags"]
    assert tags["owner"] == "platform-team" and tags["cost-center"] == "cc-1042" and tags["environment"] == "prod"


def test_inputs_use_engine_camel_case_names(prod: Capture) -> None:
    vpc = prod.one("aws:ec2/vpc:Vpc")
    assert vpc.inputs["cidrBlock"] == "10.20.0.0/16" and vpc.inputs["enableDnsHostnames"] is True


def test_stack_outputs_are_resolved(dev: Capture) -> None:
    outputs = dev.stack_outputs
    assert outputs["vpc_id"].startswith("vpc-0") and len(outputs["private_subnet_ids"]) == 2
