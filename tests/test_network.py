"""Network shape per stack: subnets per AZ x tier, NAT per AZ in prod and one in dev,
routes through NAT and the internet gateway, S3 endpoint, flow logs."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from components.network import plan_subnets
from scalestack.offline import Capture
from tests.conftest import plan_variant

SUBNET = "aws:ec2/subnet:Subnet"
NAT = "aws:ec2/natGateway:NatGateway"
ROUTE = "aws:ec2/route:Route"


def subnets_by_tier(capture: Capture) -> dict[str, list[str]]:
    tiers: dict[str, list[str]] = {}
    for s in capture.by_type(SUBNET):
        tiers.setdefault(s.inputs["tags"]["tier"], []).append(s.inputs["availabilityZone"])
    return tiers


@pytest.mark.parametrize(("stack", "azs"), [("dev", 2), ("prod", 3)])
def test_three_subnet_tiers_in_every_az(request: pytest.FixtureRequest, stack: str, azs: int) -> None:
    capture: Capture = request.getfixturevalue(stack)
    tiers = subnets_by_tier(capture)
    assert set(tiers) == {"public", "private", "isolated"}
    for zones in tiers.values():
        assert sorted(zones) == capture.config.azs and len(zones) == azs
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in capture.by_type(SUBNET))


def test_prod_has_one_nat_per_az_and_dev_one(dev: Capture, prod: Capture) -> None:
    assert len(dev.by_type(NAT)) == 1
    assert len(prod.by_type(NAT)) == 3
    public_subnets = {s.id: s.inputs["availabilityZone"] for s in prod.by_type(SUBNET) if s.inputs["tags"]["tier"] == "public"}
    assert sorted(public_subnets[n.inputs["subnetId"]] for n in prod.by_type(NAT)) == prod.config.azs


def test_private_routes_go_through_nat_public_through_igw(prod: Capture) -> None:
    nats = {n.id: n for n in prod.by_type(NAT)}
    igw = prod.one("aws:ec2/internetGateway:InternetGateway")
    routes = prod.by_type(ROUTE)
    private = [r for r in routes if "private-default" in r.name]
    assert len(private) == 3
    assert {r.inputs["natGatewayId"] for r in private} == set(nats), "each AZ routes through its own NAT"
    public = [r for r in routes if r.name.endswith("public-default")]
    assert [r.inputs["gatewayId"] for r in public] == [igw.id]
    assert all(r.inputs["destinationCidrBlock"] == "0.0.0.0/0" for r in routes)


def test_dev_private_routes_share_the_single_nat(dev: Capture) -> None:
    nat = dev.one(NAT)
    private = [r for r in dev.by_type(ROUTE) if "private-default" in r.name]
    assert len(private) == 2 and {r.inputs["natGatewayId"] for r in private} == {nat.id}


def test_isolated_subnets_have_no_route_off_the_vpc(prod: Capture) -> None:
    isolated_rt = prod.find("network-isolated-rt")
    assert not [r for r in prod.by_type(ROUTE) if r.inputs["routeTableId"] == isolated_rt.id]


def test_s3_gateway_endpoint_on_private_and_isolated_tables(prod: Capture) -> None:
    endpoint = prod.one("aws:ec2/vpcEndpoint:VpcEndpoint")
    assert endpoint.inputs["vpcEndpointType"] == "Gateway"
    assert endpoint.inputs["serviceName"] == "com.amazonaws.us-east-1.s3"
    tables = {rt.id for rt in prod.by_type("aws:ec2/routeTable:RouteTable") if "public" not in rt.name}
    assert set(endpoint.inputs["routeTableIds"]) == tables


def test_flow_logs_and_locked_default_security_group(prod: Capture) -> None:
    flow = prod.one("aws:ec2/flowLog:FlowLog")
    group = prod.one("aws:cloudwatch/logGroup:LogGroup", "network-flow-logs")
    assert flow.inputs["logDestination"] == group.outputs.get("arn", flow.inputs["logDestination"])
    assert flow.inputs["trafficType"] == "ALL" and group.inputs["retentionInDays"] == 365
    default_sg = prod.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert default_sg.inputs.get("ingress", []) == [] and default_sg.inputs.get("egress", []) == []


def test_no_nat_mode_creates_no_nat_or_default_routes(tmp_path: Path) -> None:
    capture = plan_variant(tmp_path, "dev", {"network": {"nat_gateways": "none"}})
    assert not capture.by_type(NAT)
    assert not [r for r in capture.by_type(ROUTE) if "private-default" in r.name]


@pytest.mark.parametrize("cidr", ["10.0.0.0/16", "172.16.0.0/18", "192.168.0.0/20"])
@pytest.mark.parametrize("azs", [1, 2, 3, 6])
def test_subnet_plan_is_disjoint_and_inside_the_vpc(cidr: str, azs: int) -> None:
    plan = plan_subnets(cidr, azs)
    nets = [ipaddress.IPv4Network(c) for tier in plan.values() for c in tier]
    assert len(nets) == 3 * azs
    vpc = ipaddress.IPv4Network(cidr)
    assert all(n.subnet_of(vpc) for n in nets)
    assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1 :])
