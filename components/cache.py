"""ElastiCache (Valkey or Redis OSS): one replication group, encrypted at rest and in
transit, in the isolated subnets, reachable only from the app and worker groups.

Authentication is an RBAC user group with an IAM-authenticated app user by default (no
password anywhere), or an AUTH token that must come from a secret config value. The
default user is switched off so that nobody connects without one of the two."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.naming import child, token
from components.security_groups import allow_from_groups
from infra.config import StackConfig
from infra.config.secrets import SecretValue
from infra.config.sections.cache import MAX_NODES
from infra.config.sections.cache import Cache as CacheSettings
from scalestack import capacity

PORT = 6379


def parameter_family(engine: str, version: str) -> str:
    """'valkey', '8.0' -> 'valkey8'; 'redis', '7.1' -> 'redis7'; 'redis', '6.2' -> 'redis6.x'."""
    major = version.split(".")[0]
    return f"redis{major}.x" if engine == "redis" and major == "6" else f"{engine}{major}"


@dataclass
class CacheArgs:
    settings: CacheSettings
    node_type: str
    shards: int
    subnet_ids: Sequence[pulumi.Input[str]]
    security_group_id: pulumi.Input[str]
    client_security_groups: Mapping[str, pulumi.Input[str]]
    user_prefix: str  # unique per account and region: RBAC user and group ids
    tags: dict[str, str] = field(default_factory=dict)
    protected: bool = False  # prod: Pulumi protect, so a stray destroy keeps the data

    @classmethod
    def from_config(
        cls, config: StackConfig, subnet_ids: Sequence[pulumi.Input[str]], security_group_id: pulumi.Input[str], clients: Mapping[str, pulumi.Input[str]]
    ) -> CacheArgs:
        """Node type and shards from the config, or from the working set via the capacity model."""
        s, load = config.cache, config.load
        node_type = s.node_type or capacity.cache_sizing(load.cache_working_set_gb, load.headroom_pct).node_type
        shards = 1
        if s.cluster_mode:
            shards = s.shards or capacity.cache_shards_for(node_type, load.cache_working_set_gb, load.headroom_pct)
            shards = min(shards, MAX_NODES // (1 + s.replicas_per_shard))
        return cls(
            settings=s,
            node_type=node_type,
            shards=shards,
            subnet_ids=subnet_ids,
            security_group_id=security_group_id,
            client_security_groups=clients,
            user_prefix=f"mmp-{pulumi.get_stack()}",
        )


class Cache(pulumi.ComponentResource):
    replication_group: aws.elasticache.ReplicationGroup
    user_group: Optional[aws.elasticache.UserGroup]

    def __init__(self, name: str, args: CacheArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(token("data", "Cache"), name, None, opts)
        s = args.settings
        self.security_group_id = args.security_group_id
        self.node_type = args.node_type
        self.node_count = args.shards * (1 + s.replicas_per_shard)
        self.shards, self.nodes_per_shard, self.cluster_mode = args.shards, 1 + s.replicas_per_shard, s.cluster_mode
        allow_from_groups(self, f"{name}-ingress", args.security_group_id, PORT, dict(args.client_security_groups))
        subnets = aws.elasticache.SubnetGroup(
            f"{name}-subnets", subnet_ids=list(args.subnet_ids), description="MortgageMatchPro cache (isolated subnets)", opts=child(self)
        )
        params = aws.elasticache.ParameterGroup(
            f"{name}-params",
            family=parameter_family(s.engine, s.engine_version),
            description=f"MortgageMatchPro {s.engine} {s.engine_version}",
            parameters=[
                aws.elasticache.ParameterGroupParameterArgs(name="maxmemory-policy", value=s.maxmemory_policy),
                aws.elasticache.ParameterGroupParameterArgs(name="cluster-enabled", value="yes" if s.cluster_mode else "no"),
                aws.elasticache.ParameterGroupParameterArgs(name="slowlog-log-slower-than", value="10000"),
            ],
            opts=child(self),
        )
        slow_log = aws.cloudwatch.LogGroup(f"{name}-slow-log", retention_in_days=s.slow_log_retention_days, opts=child(self))
        self.app_user: Optional[aws.elasticache.User] = None
        self.user_group = None if s.auth_token is not None else self._user_group(name, args)
        failover = s.cluster_mode or s.replicas_per_shard >= 1
        self.replication_group = aws.elasticache.ReplicationGroup(
            f"{name}-group",
            description="MortgageMatchPro cache",
            engine=s.engine,
            engine_version=s.engine_version,
            node_type=args.node_type,
            port=PORT,
            cluster_mode="enabled" if s.cluster_mode else "disabled",
            num_node_groups=args.shards,
            replicas_per_node_group=s.replicas_per_shard,
            automatic_failover_enabled=failover,
            multi_az_enabled=s.multi_az,
            at_rest_encryption_enabled=True,
            kms_key_id=s.kms_key_arn,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            auth_token=_secret(s.auth_token),
            user_group_ids=[self.user_group.user_group_id] if self.user_group else None,
            subnet_group_name=subnets.name,
            security_group_ids=[args.security_group_id],
            parameter_group_name=params.name,
            snapshot_retention_limit=s.snapshot_retention_days,
            snapshot_window=s.snapshot_window if s.snapshot_retention_days else None,
            final_snapshot_identifier=f"{args.user_prefix}-{name}-final" if s.snapshot_retention_days else None,
            maintenance_window=s.maintenance_window,
            auto_minor_version_upgrade=True,
            log_delivery_configurations=[
                aws.elasticache.ReplicationGroupLogDeliveryConfigurationArgs(
                    destination=slow_log.name, destination_type="cloudwatch-logs", log_format="json", log_type="slow-log"
                )
            ],
            tags={**args.tags, "Name": f"{name}-group"},
            opts=child(self, protect=args.protected),
        )
        self.endpoint = self.replication_group.configuration_endpoint_address if s.cluster_mode else self.replication_group.primary_endpoint_address
        self.reader_endpoint = self.replication_group.reader_endpoint_address
        self.register_outputs({"endpoint": self.endpoint, "reader_endpoint": self.reader_endpoint})

    def connect_policy(self) -> Optional[pulumi.Output[str]]:
        """What an app role needs to sign in as the IAM-authenticated app user: ``elasticache:Connect``
        on this replication group and that user only (None with an AUTH token)."""
        if self.app_user is None:
            return None
        return pulumi.Output.json_dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "ConnectAsAppUser",
                        "Effect": "Allow",
                        "Action": "elasticache:Connect",
                        "Resource": [self.replication_group.arn, self.app_user.arn],
                    }
                ],
            }
        )

    def _user_group(self, name: str, args: CacheArgs) -> aws.elasticache.UserGroup:
        """The switched-off ``default`` user (every group must hold one) and an IAM-authenticated app user."""
        engine = args.settings.engine
        default = aws.elasticache.User(
            f"{name}-user-default",
            user_id=f"{args.user_prefix}-default",
            user_name="default",
            engine=engine,
            access_string="off -@all",
            authentication_mode=aws.elasticache.UserAuthenticationModeArgs(type="no-password-required"),
            opts=child(self),
        )
        # IAM authentication requires user_id == user_name.
        app_user = f"{args.user_prefix}-app"
        app = self.app_user = aws.elasticache.User(
            f"{name}-user-app",
            user_id=app_user,
            user_name=app_user,
            engine=engine,
            access_string="on ~* +@all -@dangerous",
            authentication_mode=aws.elasticache.UserAuthenticationModeArgs(type="iam"),
            opts=child(self),
        )
        return aws.elasticache.UserGroup(
            f"{name}-users", user_group_id=f"{args.user_prefix}-{name}", engine=engine, user_ids=[default.user_id, app.user_id], opts=child(self)
        )


def _secret(value: Optional[SecretValue]) -> Optional[pulumi.Output[str]]:
    return value.as_output() if value is not None else None
