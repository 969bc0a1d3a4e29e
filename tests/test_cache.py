"""ElastiCache per stack: encryption, failover, cluster-mode sizing from the capacity
model, access (RBAC by default, a secret AUTH token as an option) and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.cache import Cache, CacheArgs
from infra.config import ConfigError, SecretValue, load_from_pulumi
from scalestack import REPO_ROOT, capacity
from scalestack.offline import Capture, run_stack
from tests.conftest import shipped_config, write_stack
from tests.data_helpers import NS, assert_never_in_clear, config_error, ingress_sources, sg_id

GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
TOKEN = "correct-horse-battery-staple-0123456789"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_encrypted_private_and_rbac_by_default(request: pytest.FixtureRequest, stack: str) -> None:
    capture: Capture = request.getfixturevalue(stack)
    group = capture.one(GROUP).inputs
    assert group["engine"] == "valkey" and group["engineVersion"] == "8.0" and group["port"] == 6379
    assert group["atRestEncryptionEnabled"] is True and group["transitEncryptionEnabled"] is True and group["transitEncryptionMode"] == "required"
    assert "authToken" not in group
    user_group = capture.one("aws:elasticache/userGroup:UserGroup")
    assert group["userGroupIds"] == [user_group.id]
    users = {u.inputs["userName"]: u.inputs for u in capture.by_type("aws:elasticache/user:User")}
    assert users["default"]["accessString"].startswith("off"), "the default user can't connect"
    app = next(u for name, u in users.items() if name != "default")
    assert app["authenticationMode"] == {"type": "iam"} and app["userId"] == app["userName"]
    assert set(user_group.inputs["userIds"]) == {u["userId"] for u in users.values()}
    assert group["securityGroupIds"] == [sg_id(capture, "cache")]
    assert ingress_sources(capture, "cache") == {sg_id(capture, "web"): 6379, sg_id(capture, "workers"): 6379}
    isolated = {s.id for s in capture.by_type("aws:ec2/subnet:Subnet") if s.inputs["tags"]["tier"] == "isolated"}
    assert set(capture.one("aws:elasticache/subnetGroup:SubnetGroup").inputs["subnetIds"]) == isolated
    slow = capture.find("cache-slow-log")
    assert group["logDeliveryConfigurations"] == [{"destination": slow.id, "destinationType": "cloudwatch-logs", "logFormat": "json", "logType": "slow-log"}]
    params = {p["name"]: p["value"] for p in capture.one("aws:elasticache/parameterGroup:ParameterGroup").inputs["parameters"]}
    assert params["maxmemory-policy"] == "allkeys-lru"
    assert capture.one("aws:elasticache/parameterGroup:ParameterGroup").inputs["family"] == "valkey8"
    assert group["snapshotRetentionLimit"] >= 1 and group["finalSnapshotIdentifier"]


def test_prod_is_multi_az_with_failover_and_cluster_mode_sized_by_the_model(prod: Capture) -> None:
    group = prod.one(GROUP).inputs
    assert group["multiAzEnabled"] is True and group["automaticFailoverEnabled"] is True
    assert group["clusterMode"] == "enabled" and group["replicasPerNodeGroup"] == 1
    load = prod.config.load
    shards = capacity.cache_shards_for("cache.r7g.large", load.cache_working_set_gb, load.headroom_pct)
    assert group["numNodeGroups"] == shards == 3, "18 GB x 1.3 over 9.8 usable GB per node"
    assert group["nodeType"] == "cache.r7g.large" and group["snapshotRetentionLimit"] == 7
    params = {p["name"]: p["value"] for p in prod.one("aws:elasticache/parameterGroup:ParameterGroup").inputs["parameters"]}
    assert params["cluster-enabled"] == "yes"
    assert prod.stack_outputs["cache_endpoint"].startswith("clustercfg.")


def test_dev_is_one_small_node_picked_by_the_model(dev: Capture) -> None:
    group = dev.one(GROUP).inputs
    load = dev.config.load
    assert group["nodeType"] == capacity.cache_sizing(load.cache_working_set_gb, load.headroom_pct).node_type == "cache.t4g.small"
    assert group["clusterMode"] == "disabled" and group["numNodeGroups"] == 1 and group["replicasPerNodeGroup"] == 0
    assert group["multiAzEnabled"] is False and group["automaticFailoverEnabled"] is False
    assert dev.stack_outputs["cache_endpoint"].startswith("master.")


def _solo_cache(token: SecretValue) -> Capture:
    def program() -> None:
        cfg = load_from_pulumi()
        settings = cfg.cache.model_copy(update={"auth_token": token})
        args = CacheArgs.from_config(cfg, ["subnet-0aaa"], "sg-0cache", {"web": "sg-0web"})
        Cache("solo", CacheArgs(**{**args.__dict__, "settings": settings}))

    return run_stack(REPO_ROOT, "dev", program)


def test_component_alone_with_a_secret_auth_token_never_shows_it() -> None:
    capture = _solo_cache(SecretValue(TOKEN))
    group = capture.one(GROUP).inputs
    assert group["authToken"] == "[secret]" and "userGroupIds" not in group
    assert not capture.by_type("aws:elasticache/userGroup:UserGroup")
    assert_never_in_clear(capture, TOKEN)


def test_secure_auth_token_in_the_stack_file_becomes_a_secret(tmp_path: Path) -> None:
    config = shipped_config("dev")
    config[f"{NS}:cache"] = {"auth_token": {"secure": "v1:Zm9vYmFyYmF6:cXV4cXV1eA=="}}
    write_stack(tmp_path, "tok", config)
    capture = run_stack(tmp_path, "tok")
    group = capture.one(GROUP).inputs
    assert group["authToken"] == "[secret]" and "userGroupIds" not in group
    assert "v1:Zm9vYmFyYmF6" not in str([r.inputs for r in capture.resources])


def test_plaintext_auth_token_is_refused_in_one_line(tmp_path: Path) -> None:
    config = shipped_config("prod")
    config[f"{NS}:cache"] = {**config[f"{NS}:cache"], "auth_token": "hunter2hunter2hunter2"}
    write_stack(tmp_path, "plain", config)
    with pytest.raises(ConfigError) as info:
        run_stack(tmp_path, "plain")
    message = str(info.value)
    assert message.startswith("Pulumi.plain.yaml: mortgagematch-scaling:cache.auth_token: must be a secret")
    assert "\n" not in message and "hunter2" not in message


@pytest.mark.parametrize(
    ("section", "key", "message"),
    [
        ({"engine": "memcached"}, "cache.engine", "must be one of 'valkey' or 'redis', got 'memcached'"),
        ({"engine_version": "9.9"}, "cache.engine_version", "must be one of 7.2, 8.0, 8.1 for valkey, got '9.9'"),
        ({"engine": "redis", "engine_version": "8.0"}, "cache.engine_version", "must be one of 6.2, 7.0, 7.1 for redis, got '8.0'"),
        ({"shards": 501}, "cache.shards", "must be from 1 to 500 shards, got 501"),
        ({"shards": 0}, "cache.shards", "must be from 1 to 500 shards, got 0"),
        ({"replicas_per_shard": 6}, "cache.replicas_per_shard", "must be from 0 to 5 replicas per shard, got 6"),
        ({"shards": 100, "replicas_per_shard": 5}, "cache.shards", "must be <= 500 nodes, got 100 x 6 = 600"),
        ({"cluster_mode": False, "shards": 2}, "cache.shards", "must be 1 without cluster_mode"),
        ({"multi_az": True, "replicas_per_shard": 0}, "cache.replicas_per_shard", "must be >= 1 when multi_az is on"),
        ({"maxmemory_policy": "lru"}, "cache.maxmemory_policy", "must be one of volatile-lru"),
        (
            {"engine": "redis", "engine_version": "6.2"},
            "cache.auth_token",
            "must be set for redis 6.2 (the default IAM-authenticated user needs Redis OSS 7.0+",
        ),
    ],
)
def test_bad_cache_input_is_one_line(section: dict, key: str, message: str) -> None:
    error = config_error("prod", "implementation", cache=section)
    assert error.startswith(f"Pulumi.prod.yaml: mortgagematch-scaling:{key}: ")
    assert message in error


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_app_roles_may_connect_as_the_iam_user_and_nothing_more(request: pytest.FixtureRequest, stack: str) -> None:
    """IAM authentication signs in with the instance role: without ``elasticache:Connect`` on
    the group and the app user, every connection of the web and worker instances is refused."""
    capture: Capture = request.getfixturevalue(stack)
    group = capture.one(GROUP)
    app = next(u for u in capture.by_type("aws:elasticache/user:User") if u.inputs["userName"] != "default")
    for tier in ("web", "workers"):
        role = capture.one("aws:iam/role:Role", f"{tier}-role")
        grants = [p.inputs for p in capture.by_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role.id and "elasticache:" in p.inputs["policy"]]
        assert len(grants) == 1, tier
        statements = json.loads(grants[0]["policy"])["Statement"]
        assert statements == [
            {"Sid": "ConnectAsAppUser", "Effect": "Allow", "Action": "elasticache:Connect", "Resource": [group.state()["arn"], app.state()["arn"]]}
        ]
