"""RDS PostgreSQL per stack: encryption, Multi-AZ, backups, protection in prod, replicas
spread over the AZs, the proxy (TLS, pooling, a secret-scoped role) and bad input."""

from __future__ import annotations

import json

import pytest

from components.database import Database, DatabaseArgs, ProxyArgs
from infra.config import load_from_pulumi
from infra.wiring.data import proxy_enabled, replica_count
from scalestack import REPO_ROOT, capacity
from scalestack.offline import Capture, run_stack
from tests.data_helpers import config_error, ingress_sources, parsed, sg_id

DB = "aws:rds/instance:Instance"
PROXY = "aws:rds/proxy:Proxy"
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/0b5d2c1e-4a3f-4e8b-9c2f-1d2e3f4a5b6c"


def primary(capture: Capture) -> dict:
    return capture.find("database-primary").inputs


def replicas(capture: Capture) -> list[dict]:
    return [r.inputs for r in capture.by_type(DB) if r.name.startswith("database-replica-")]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_primary_is_encrypted_private_and_passwordless(request: pytest.FixtureRequest, stack: str) -> None:
    capture: Capture = request.getfixturevalue(stack)
    db = primary(capture)
    assert db["engine"] == "postgres" and db["engineVersion"] == "16.4"
    assert db["storageEncrypted"] is True and db["storageType"] == "gp3"
    assert db["maxAllocatedStorage"] > db["allocatedStorage"]
    assert db["manageMasterUserPassword"] is True and "password" not in db
    assert db["publiclyAccessible"] is False
    interval = capture.config.database.monitoring_interval_s
    assert db["performanceInsightsEnabled"] is True and db["monitoringInterval"] == interval == {"dev": 0, "prod": 60}[stack]
    if interval:
        assert db["monitoringRoleArn"].startswith("arn:aws:iam::123456789012:role/database-monitoring")
    assert set(db["enabledCloudwatchLogsExports"]) == {"postgresql", "upgrade"}
    assert db["autoMinorVersionUpgrade"] is True and db["maintenanceWindow"] and db["backupWindow"]
    assert db["copyTagsToSnapshot"] is True and db["skipFinalSnapshot"] is False
    assert db["finalSnapshotIdentifier"] == f"mortgagematch-{stack}-database-final"
    subnets = capture.one("aws:rds/subnetGroup:SubnetGroup").inputs["subnetIds"]
    isolated = {s.id for s in capture.by_type("aws:ec2/subnet:Subnet") if s.inputs["tags"]["tier"] == "isolated"}
    assert set(subnets) == isolated
    params = {p["name"]: p["value"] for p in capture.one("aws:rds/parameterGroup:ParameterGroup").inputs["parameters"]}
    assert params["rds.force_ssl"] == "1"
    assert capture.one("aws:rds/parameterGroup:ParameterGroup").inputs["family"] == "postgres16"


def test_prod_primary_is_multi_az_protected_and_keeps_backups(prod: Capture, dev: Capture) -> None:
    db = primary(prod)
    assert db["multiAz"] is True and db["deletionProtection"] is True
    assert db["backupRetentionPeriod"] == 14 and db["deleteAutomatedBackups"] is False
    assert prod.find("database-primary").protect is True
    dev_db = primary(dev)
    assert dev_db["multiAz"] is False and dev_db["deletionProtection"] is False and not dev.find("database-primary").protect


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_replicas_follow_the_capacity_model_and_spread_over_azs(request: pytest.FixtureRequest, stack: str) -> None:
    capture: Capture = request.getfixturevalue(stack)
    cfg = capture.config
    expected = capacity.read_replicas(cfg.load, cfg.database.instance_class)
    found = replicas(capture)
    assert len(found) == expected >= 1
    source = capture.find("database-primary").id
    assert all(r["replicateSourceDb"] == source for r in found)
    interval = cfg.database.monitoring_interval_s
    assert all(r["performanceInsightsEnabled"] and r["monitoringInterval"] == interval and r["storageEncrypted"] for r in found)
    zones = [r["availabilityZone"] for r in found]
    assert set(zones) == set(cfg.azs[: len(found)]), "replicas use every AZ before doubling up"
    assert max(zones.count(z) for z in set(zones)) - min(zones.count(z) for z in set(zones)) <= 1


def test_prod_replica_count_is_what_the_load_needs() -> None:
    # 3000 rps x 1.05^12 x 1.3 x 2 queries x 0.85 reads / (2 vCPU x 800 qps) = 7.4 -> 8 replicas.
    cfg = parsed("prod", "optimization", load={"peak_rps": 3000, "baseline_rps": 400, "db_qps_per_vcpu": 800, "db_read_share": 0.85})
    assert replica_count(cfg) == capacity.read_replicas(cfg.load, "db.r7g.large") == 8
    assert replica_count(parsed("prod", "optimization", database={"replicas": 2})) == 2
    assert replica_count(parsed("prod", "planning")) == 0, "read scaling arrives with implementation"


def test_database_admits_only_app_workers_and_proxy(prod: Capture, dev: Capture) -> None:
    sources = ingress_sources(prod, "database")
    assert sources == {sg_id(prod, "web"): 5432, sg_id(prod, "workers"): 5432, sg_id(prod, "proxy"): 5432}
    assert ingress_sources(prod, "proxy") == {sg_id(prod, "web"): 5432, sg_id(prod, "workers"): 5432}
    assert ingress_sources(dev, "database") == {sg_id(dev, "web"): 5432, sg_id(dev, "workers"): 5432}
    db = primary(prod)
    assert db["vpcSecurityGroupIds"] == [sg_id(prod, "database")]


def test_prod_proxy_requires_tls_pools_and_reads_only_the_managed_secret(prod: Capture) -> None:
    proxy = prod.one(PROXY).inputs
    assert proxy["requireTls"] is True and proxy["engineFamily"] == "POSTGRESQL" and proxy["idleClientTimeout"] == 1800
    assert proxy["vpcSecurityGroupIds"] == [sg_id(prod, "proxy")]
    secret_arn = prod.stack_outputs["database_secret_arn"]
    assert secret_arn.startswith("arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!")
    assert [a["secretArn"] for a in proxy["auths"]] == [secret_arn] and proxy["auths"][0]["authScheme"] == "SECRETS"
    policy = json.loads(prod.one("aws:iam/rolePolicy:RolePolicy", "database-proxy-secret").inputs["policy"])
    assert [s["Resource"] for s in policy["Statement"]] == [secret_arn], "the proxy may read only the managed secret"
    assert all("*" not in json.dumps(s["Action"]) for s in policy["Statement"])
    pool = prod.one("aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup").inputs["connectionPoolConfig"]
    assert pool == {"maxConnectionsPercent": 90, "maxIdleConnectionsPercent": 50, "connectionBorrowTimeout": 120}
    target = prod.one("aws:rds/proxyTarget:ProxyTarget").inputs
    assert target["dbInstanceIdentifier"] == prod.find("database-primary").id and target["targetGroupName"] == "default"
    endpoint = prod.stack_outputs["database_proxy_endpoint"]
    assert ".proxy-" in endpoint and endpoint.endswith(".us-east-1.rds.amazonaws.com")


def test_dev_has_no_proxy_because_the_pool_fits(dev: Capture) -> None:
    assert not dev.by_type(PROXY) and "database_proxy_endpoint" not in dev.stack_outputs
    assert not proxy_enabled(dev.config)
    assert not any(r.name == "sg-proxy" for r in dev.resources)


def test_proxy_follows_the_pooling_need_and_the_phase() -> None:
    crowded = parsed("dev", "implementation", load={"peak_rps": 5000, "baseline_rps": 100, "db_pool_size": 50})
    assert proxy_enabled(crowded), "500+ connections exceed what a db.t4g.medium takes"
    assert not proxy_enabled(parsed("prod", "assessment", load={"peak_rps": 5000, "baseline_rps": 100, "db_pool_size": 50}))
    assert proxy_enabled(parsed("dev", "implementation", database={"proxy": {"enabled": True}}))


def test_component_alone_with_a_customer_managed_key() -> None:
    """The component under mocks on its own: a CMK encrypts storage, PI and the secret,
    and the proxy role may decrypt only through Secrets Manager."""
    built: list[Database] = []

    def program() -> None:
        cfg = load_from_pulumi()
        settings = cfg.database.model_copy(update={"kms_key_arn": KMS_KEY})
        built.append(
            Database(
                "solo",
                DatabaseArgs(
                    settings=settings,
                    region="us-east-1",
                    subnet_ids=["subnet-0aaa", "subnet-0bbb"],
                    azs=["us-east-1a", "us-east-1b"],
                    security_group_id="sg-0db",
                    client_security_groups={"web": "sg-0web"},
                    replicas=3,
                    protected=False,
                    final_snapshot_identifier="solo-final",
                    proxy=ProxyArgs(security_group_id="sg-0proxy", client_security_groups={"web": "sg-0web"}),
                ),
            )
        )

    capture = run_stack(REPO_ROOT, "dev", program)
    db = capture.find("solo-primary").inputs
    assert db["kmsKeyId"] == KMS_KEY and db["masterUserSecretKmsKeyId"] == KMS_KEY and db["performanceInsightsKmsKeyId"] == KMS_KEY
    assert [r.inputs["availabilityZone"] for r in capture.by_type(DB) if "replica" in r.name] == ["us-east-1a", "us-east-1b", "us-east-1a"]
    policy = json.loads(capture.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    decrypt = next(s for s in policy["Statement"] if s["Action"] == "kms:Decrypt")
    assert decrypt["Resource"] == KMS_KEY and decrypt["Condition"]["StringEquals"]["kms:ViaService"] == "secretsmanager.us-east-1.amazonaws.com"
    assert built[0].proxy_read_endpoint is None, "RDS Proxy reader endpoints serve Aurora only"
    assert {r.inputs["referencedSecurityGroupId"] for r in capture.by_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")} == {
        "sg-0web",
        "sg-0proxy",
    }


@pytest.mark.parametrize(
    ("section", "key", "message"),
    [
        ({"engine": "mysql"}, "database.engine", "must be one of 'postgres', got 'mysql'"),
        ({"engine_version": "sixteen"}, "database.engine_version", "must be a PostgreSQL version like 16.4"),
        ({"engine_version": "11.22"}, "database.engine_version", "with major 13, 14, 15, 16, 17, got '11.22'"),
        ({"replicas": 16}, "database.replicas", "must be <= 15, got 16"),
        ({"backup_retention_days": 3}, "database.backup_retention_days", "must be >= 7 in prod, got 3"),
        ({"max_allocated_storage_gb": 30}, "database.max_allocated_storage_gb", "must be >= allocated_storage_gb (50), got 30"),
        ({"kms_key_arn": "alias/rds"}, "database.kms_key_arn", "must be a KMS key or alias ARN"),
        ({"proxy": {"max_idle_connections_percent": 95}}, "database.proxy.max_idle_connections_percent", "must be <= max_connections_percent (90), got 95"),
        ({"maintenance_window": "sunday 4am"}, "database.maintenance_window", "must look like sun:04:30-sun:05:30 (UTC), got 'sunday 4am'"),
    ],
)
def test_bad_database_input_is_one_line(section: dict, key: str, message: str) -> None:
    error = config_error("prod", "implementation", database=section)
    assert error.startswith(f"Pulumi.prod.yaml: mortgagematch-scaling:{key}: ")
    assert message in error


def test_read_replicas_need_backups_on_the_primary() -> None:
    """CreateDBInstanceReadReplica refuses a source whose backup retention is 0."""
    error = config_error("dev", "implementation", database={"backup_retention_days": 0})
    assert error == (
        "Pulumi.dev.yaml: mortgagematch-scaling:database.backup_retention_days: "
        "must be >= 1 while read replicas are on (or set read_replicas_enabled: false), got 0"
    )
    assert parsed("dev", "implementation", database={"backup_retention_days": 0, "read_replicas_enabled": False}).database.backup_retention_days == 0
