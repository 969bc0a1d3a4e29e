"""RDS PostgreSQL: an encrypted primary (Multi-AZ in prod), read replicas spread over the
AZs, and an optional RDS Proxy that pools the app's connections.

The master password is managed by RDS in Secrets Manager (``manage_master_user_password``):
no password is ever in config, in the program or in state. The proxy reads exactly that
secret and nothing else."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.iam import assume_role_policy
from components.naming import child, token
from components.security_groups import allow_from_groups
from infra.config.sections.database import Database as DatabaseSettings

PORT = 5432
MASTER_USERNAME = "mmp_admin"
LOG_EXPORTS = ["postgresql", "upgrade"]
ENHANCED_MONITORING_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"


@dataclass
class ProxyArgs:
    security_group_id: pulumi.Input[str]
    client_security_groups: Mapping[str, pulumi.Input[str]]


@dataclass
class DatabaseArgs:
    settings: DatabaseSettings
    region: str
    subnet_ids: Sequence[pulumi.Input[str]]
    azs: Sequence[str]
    security_group_id: pulumi.Input[str]
    client_security_groups: Mapping[str, pulumi.Input[str]]  # role -> SG admitted on 5432
    replicas: int
    protected: bool  # prod: deletion protection + Pulumi protect
    final_snapshot_identifier: str
    proxy: Optional[ProxyArgs] = None
    tags: dict[str, str] = field(default_factory=dict)


def secret_reader_policy(secret_arn: pulumi.Input[str], kms_key_arn: Optional[str], region: str) -> pulumi.Output[str]:
    """Read one secret (and decrypt it through Secrets Manager only, when a CMK is used)."""
    statements: list[dict[str, object]] = [
        {
            "Sid": "ReadManagedMasterSecret",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            "Resource": secret_arn,
        }
    ]
    if kms_key_arn:
        statements.append(
            {
                "Sid": "DecryptThroughSecretsManager",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": kms_key_arn,
                "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}},
            }
        )
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": statements})


class Database(pulumi.ComponentResource):
    primary: aws.rds.Instance
    replicas: list[aws.rds.Instance]
    proxy: Optional[aws.rds.Proxy]
    proxy_read_endpoint: Optional[pulumi.Output[str]]

    def __init__(self, name: str, args: DatabaseArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(token("data", "Database"), name, None, opts)
        s = args.settings
        self.security_group_id = args.security_group_id
        self.ingress = allow_from_groups(self, f"{name}-ingress", args.security_group_id, PORT, dict(args.client_security_groups))
        self.subnet_group = aws.rds.SubnetGroup(
            f"{name}-subnets", subnet_ids=list(args.subnet_ids), description="MortgageMatchPro database (isolated subnets)", opts=child(self)
        )
        self.parameter_group = aws.rds.ParameterGroup(
            f"{name}-params",
            family=f"postgres{s.major_version}",
            description=f"MortgageMatchPro PostgreSQL {s.major_version}",
            parameters=[
                aws.rds.ParameterGroupParameterArgs(name="rds.force_ssl", value="1"),
                aws.rds.ParameterGroupParameterArgs(name="log_min_duration_statement", value="1000"),
                aws.rds.ParameterGroupParameterArgs(name="shared_preload_libraries", value="pg_stat_statements", apply_method="pending-reboot"),
            ],
            opts=child(self),
        )
        self.monitoring_role = self._monitoring_role(name) if s.monitoring_interval_s else None
        self.primary = aws.rds.Instance(
            f"{name}-primary",
            engine="postgres",
            engine_version=s.engine_version,
            instance_class=s.instance_class,
            username=MASTER_USERNAME,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=s.kms_key_arn,
            db_subnet_group_name=self.subnet_group.name,
            vpc_security_group_ids=[args.security_group_id],
            parameter_group_name=self.parameter_group.name,
            publicly_accessible=False,
            multi_az=s.multi_az,
            backup_retention_period=s.backup_retention_days,
            backup_window=s.backup_window,
            delete_automated_backups=not args.protected,
            copy_tags_to_snapshot=True,
            skip_final_snapshot=False,
            final_snapshot_identifier=args.final_snapshot_identifier,
            deletion_protection=s.deletion_protection if s.deletion_protection is not None else args.protected,
            tags={**args.tags, "Name": f"{name}-primary", "role": "primary"},
            **self._instance_common(s),
            opts=child(self, protect=args.protected),
        )
        self.replicas = [
            aws.rds.Instance(
                f"{name}-replica-{i + 1}",
                replicate_source_db=self.primary.identifier,
                instance_class=s.instance_class,
                availability_zone=args.azs[i % len(args.azs)],
                vpc_security_group_ids=[args.security_group_id],
                parameter_group_name=self.parameter_group.name,
                publicly_accessible=False,
                multi_az=False,
                skip_final_snapshot=True,
                deletion_protection=args.protected,
                tags={**args.tags, "Name": f"{name}-replica-{i + 1}", "role": "replica"},
                **self._instance_common(s),
                opts=child(self),
            )
            for i in range(args.replicas)
        ]
        self.proxy = None
        self.proxy_endpoint: Optional[pulumi.Output[str]] = None
        # RDS Proxy READ_ONLY endpoints serve Aurora readers only; with RDS instances a
        # reader endpoint would fail every request, so the replicas are reached directly.
        self.proxy_read_endpoint = None
        if args.proxy is not None:
            self._proxy(name, args, args.proxy)
        self.replica_endpoints = [r.address for r in self.replicas]
        self.register_outputs(
            {
                "endpoint": self.primary.address,
                "replica_endpoints": self.replica_endpoints,
                "proxy_endpoint": self.proxy_endpoint,
                "master_secret_arn": self.master_secret_arn,
            }
        )

    @property
    def master_secret_arn(self) -> pulumi.Output[str]:
        return self.primary.master_user_secrets.apply(lambda secrets: secrets[0].secret_arn if secrets else "")

    def _instance_common(self, s: DatabaseSettings) -> dict[str, object]:
        """Properties primary and replicas share: storage, monitoring, logs, upgrades."""
        return {
            "storage_type": "gp3",
            "allocated_storage": s.allocated_storage_gb,
            "max_allocated_storage": s.max_allocated_storage_gb,
            "storage_encrypted": True,
            "kms_key_id": s.kms_key_arn,
            "performance_insights_enabled": True,
            "performance_insights_retention_period": s.performance_insights_retention_days,
            "performance_insights_kms_key_id": s.kms_key_arn,
            "monitoring_interval": s.monitoring_interval_s,
            "monitoring_role_arn": self.monitoring_role.arn if self.monitoring_role else None,
            "enabled_cloudwatch_logs_exports": LOG_EXPORTS,
            "auto_minor_version_upgrade": True,
            "maintenance_window": s.maintenance_window,
            "ca_cert_identifier": "rds-ca-rsa2048-g1",
            "port": PORT,
        }

    def _monitoring_role(self, name: str) -> aws.iam.Role:
        role = aws.iam.Role(f"{name}-monitoring", assume_role_policy=assume_role_policy("monitoring.rds.amazonaws.com"), opts=child(self))
        aws.iam.RolePolicyAttachment(f"{name}-monitoring", role=role.name, policy_arn=ENHANCED_MONITORING_POLICY, opts=child(self))
        return role

    def _proxy(self, name: str, args: DatabaseArgs, proxy_args: ProxyArgs) -> None:
        p = args.settings.proxy
        allow_from_groups(self, f"{name}-proxy-ingress", proxy_args.security_group_id, PORT, dict(proxy_args.client_security_groups))
        allow_from_groups(self, f"{name}-ingress", args.security_group_id, PORT, {"proxy": proxy_args.security_group_id})
        role = aws.iam.Role(f"{name}-proxy", assume_role_policy=assume_role_policy("rds.amazonaws.com"), opts=child(self))
        aws.iam.RolePolicy(
            f"{name}-proxy-secret",
            role=role.id,
            policy=secret_reader_policy(self.master_secret_arn, args.settings.kms_key_arn, args.region),
            opts=child(self),
        )
        self.proxy = aws.rds.Proxy(
            f"{name}-proxy",
            engine_family="POSTGRESQL",
            require_tls=True,
            idle_client_timeout=p.idle_client_timeout_s,
            role_arn=role.arn,
            vpc_subnet_ids=list(args.subnet_ids),
            vpc_security_group_ids=[proxy_args.security_group_id],
            auths=[
                aws.rds.ProxyAuthArgs(
                    auth_scheme="SECRETS",
                    secret_arn=self.master_secret_arn,
                    iam_auth="DISABLED",
                    client_password_auth_type="POSTGRES_SCRAM_SHA_256",
                    description="RDS-managed master user secret",
                )
            ],
            tags={**args.tags, "Name": f"{name}-proxy"},
            opts=child(self),
        )
        target_group = aws.rds.ProxyDefaultTargetGroup(
            f"{name}-proxy-pool",
            db_proxy_name=self.proxy.name,
            connection_pool_config=aws.rds.ProxyDefaultTargetGroupConnectionPoolConfigArgs(
                max_connections_percent=p.max_connections_percent,
                max_idle_connections_percent=p.max_idle_connections_percent,
                connection_borrow_timeout=p.connection_borrow_timeout_s,
            ),
            opts=child(self),
        )
        aws.rds.ProxyTarget(
            f"{name}-proxy-primary",
            db_proxy_name=self.proxy.name,
            target_group_name=target_group.name,
            db_instance_identifier=self.primary.identifier,
            opts=child(self),
        )
        self.proxy_endpoint = self.proxy.endpoint
