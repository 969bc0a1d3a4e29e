"""Network: a VPC over N AZs with public, private (app) and isolated (data) subnets per
AZ, an internet gateway, NAT (one per AZ or one shared), an S3 gateway endpoint so S3
traffic stays off NAT, VPC flow logs, and a default security group that allows nothing."""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from typing import Literal, Optional

import pulumi
import pulumi_aws as aws

from components.iam import assume_role_policy
from components.naming import child, token

NatMode = Literal["none", "single", "per_az"]
SUBNET_TIERS = ("public", "private", "isolated")


@dataclass(frozen=True)
class NetworkArgs:
    cidr: str
    azs: list[str]
    region: str
    nat_gateways: NatMode = "per_az"
    s3_endpoint: bool = True
    flow_logs: bool = True
    flow_log_retention_days: int = 90
    flow_log_traffic_type: str = "ALL"


def plan_subnets(cidr: str, az_count: int) -> dict[str, list[str]]:
    """Carve the VPC: private subnets take half the space (instances and pods need the
    addresses), public and isolated a quarter each; 8 slots per tier leave room to add AZs."""
    vpc = ipaddress.IPv4Network(cidr)
    lower, upper = vpc.subnets(prefixlen_diff=1)
    public_space, isolated_space = upper.subnets(prefixlen_diff=1)
    slots = {
        "private": list(lower.subnets(prefixlen_diff=3)),
        "public": list(public_space.subnets(prefixlen_diff=3)),
        "isolated": list(isolated_space.subnets(prefixlen_diff=3)),
    }
    return {tier: [str(n) for n in nets[:az_count]] for tier, nets in slots.items()}


class Network(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]
    isolated_subnet_ids: list[pulumi.Output[str]]
    nat_gateway_ids: list[pulumi.Output[str]]

    def __init__(self, name: str, args: NetworkArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(token("network", "Network"), name, None, opts)
        self.azs = list(args.azs)
        cidrs = plan_subnets(args.cidr, len(args.azs))

        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={"Name": f"{name}-vpc"},
            opts=child(self),
        )
        self.vpc_id = self.vpc.id
        # CIS AWS 5.4: the default security group must allow no traffic.
        aws.ec2.DefaultSecurityGroup(f"{name}-default-sg", vpc_id=self.vpc.id, ingress=[], egress=[], opts=child(self))

        self.subnets: dict[str, list[aws.ec2.Subnet]] = {tier: [] for tier in SUBNET_TIERS}
        for tier in SUBNET_TIERS:
            for az, cidr in zip(args.azs, cidrs[tier]):
                self.subnets[tier].append(
                    aws.ec2.Subnet(
                        f"{name}-{tier}-{az}",
                        vpc_id=self.vpc.id,
                        cidr_block=cidr,
                        availability_zone=az,
                        map_public_ip_on_launch=False,
                        tags={"Name": f"{name}-{tier}-{az}", "tier": tier},
                        opts=child(self),
                    )
                )
        self.public_subnet_ids = [s.id for s in self.subnets["public"]]
        self.private_subnet_ids = [s.id for s in self.subnets["private"]]
        self.isolated_subnet_ids = [s.id for s in self.subnets["isolated"]]

        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=self.vpc.id, tags={"Name": f"{name}-igw"}, opts=child(self))
        public_rt = aws.ec2.RouteTable(f"{name}-public-rt", vpc_id=self.vpc.id, tags={"Name": f"{name}-public"}, opts=child(self))
        aws.ec2.Route(
            f"{name}-public-default",
            route_table_id=public_rt.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=igw.id,
            opts=child(self),
        )
        self._associate(name, "public", [public_rt] * len(args.azs))

        self.nat_gateways = self._nat_gateways(name, args, igw)
        self.nat_gateway_ids = [n.id for n in self.nat_gateways]
        self.private_route_tables = []
        for i, az in enumerate(args.azs):
            rt = aws.ec2.RouteTable(f"{name}-private-rt-{az}", vpc_id=self.vpc.id, tags={"Name": f"{name}-private-{az}"}, opts=child(self))
            if self.nat_gateways:
                nat = self.nat_gateways[i if args.nat_gateways == "per_az" else 0]
                aws.ec2.Route(
                    f"{name}-private-default-{az}",
                    route_table_id=rt.id,
                    destination_cidr_block="0.0.0.0/0",
                    nat_gateway_id=nat.id,
                    opts=child(self),
                )
            self.private_route_tables.append(rt)
        self._associate(name, "private", self.private_route_tables)

        # Data subnets have no route off the VPC at all.
        isolated_rt = aws.ec2.RouteTable(f"{name}-isolated-rt", vpc_id=self.vpc.id, tags={"Name": f"{name}-isolated"}, opts=child(self))
        self._associate(name, "isolated", [isolated_rt] * len(args.azs))

        if args.s3_endpoint:
            aws.ec2.VpcEndpoint(
                f"{name}-s3-endpoint",
                vpc_id=self.vpc.id,
                service_name=f"com.amazonaws.{args.region}.s3",
                vpc_endpoint_type="Gateway",
                route_table_ids=[rt.id for rt in self.private_route_tables] + [isolated_rt.id],
                tags={"Name": f"{name}-s3"},
                opts=child(self),
            )
        if args.flow_logs:
            self._flow_logs(name, args)

        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "azs": self.azs,
                "public_subnet_ids": self.public_subnet_ids,
                "private_subnet_ids": self.private_subnet_ids,
                "isolated_subnet_ids": self.isolated_subnet_ids,
                "nat_gateway_ids": self.nat_gateway_ids,
            }
        )

    def _associate(self, name: str, tier: str, tables: list[aws.ec2.RouteTable]) -> None:
        for subnet, table, az in zip(self.subnets[tier], tables, self.azs):
            aws.ec2.RouteTableAssociation(f"{name}-{tier}-rta-{az}", subnet_id=subnet.id, route_table_id=table.id, opts=child(self))

    def _nat_gateways(self, name: str, args: NetworkArgs, igw: aws.ec2.InternetGateway) -> list[aws.ec2.NatGateway]:
        count = {"none": 0, "single": 1, "per_az": len(args.azs)}[args.nat_gateways]
        gateways = []
        for az, subnet in list(zip(args.azs, self.subnets["public"]))[:count]:
            eip = aws.ec2.Eip(f"{name}-nat-eip-{az}", domain="vpc", tags={"Name": f"{name}-nat-{az}"}, opts=child(self))
            gateways.append(
                aws.ec2.NatGateway(
                    f"{name}-nat-{az}",
                    allocation_id=eip.id,
                    subnet_id=subnet.id,
                    connectivity_type="public",
                    tags={"Name": f"{name}-nat-{az}"},
                    opts=child(self, depends_on=[igw]),
                )
            )
        return gateways

    def _flow_logs(self, name: str, args: NetworkArgs) -> None:
        log_group = aws.cloudwatch.LogGroup(f"{name}-flow-logs", retention_in_days=args.flow_log_retention_days, opts=child(self))
        role = aws.iam.Role(
            f"{name}-flow-logs-role",
            assume_role_policy=assume_role_policy("vpc-flow-logs.amazonaws.com"),
            opts=child(self),
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs-policy",
            role=role.id,
            policy=log_group.arn.apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                                "Resource": [arn, f"{arn}:*"],
                            }
                        ],
                    }
                )
            ),
            opts=child(self),
        )
        aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=self.vpc.id,
            traffic_type=args.flow_log_traffic_type,
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            opts=child(self),
        )
