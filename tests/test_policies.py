"""The policy pack, run as a real analyzer over gRPC by the runner: every policy with a
passing and a failing resource, config handling, diagnostics for broken rules, and the
verdicts on the shipped stacks. One pack process per test worker."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Optional

import pytest

from policies import security
from policies.security import holds_secret_value
from scalestack import REPO_ROOT, capacity, cost, pricing
from scalestack.offline import UNKNOWN, Capture
from scalestack.policy_runner import (
    CONFIG_DIR,
    Finding,
    PolicyPack,
    PolicyPackError,
    Resource,
    analyze_capture,
    analyze_export,
    read_config_file,
    reconcile,
    resources_from_capture,
)
from tests.conftest import captured, shipped_config, write_stack
from tests.policy_fixtures import (
    SUBNETS,
    alarm,
    bucket_with,
    deployment,
    good_alb,
    good_asg,
    good_cache,
    good_cdn,
    good_db,
    good_lt,
    helm_release,
    hpa,
    ingress,
    k8s_secret,
    network_policy,
    pdb,
    queues,
    replica,
    res,
    secret,
    sg,
)


@pytest.fixture(scope="session")
def pack() -> Iterator[PolicyPack]:
    with PolicyPack() as running:
        yield running


def verdicts(
    pack: PolicyPack, resources: list[Resource], config: Optional[Mapping[str, Any]] = None, stack: str = "prod", project_dir: Path = REPO_ROOT
) -> list[Finding]:
    pack.configure(config or {}, "test config", stack=stack, project_dir=project_dir)
    return pack.analyze(resources)


def fired(findings: list[Finding], policy: str) -> list[Finding]:
    return [f for f in findings if f.policy == policy]


# --- building blocks for the cases ----------------------------------------------------


def prod_load() -> Any:
    from infra.config import load_stack_file

    return load_stack_file(REPO_ROOT / "Pulumi.prod.yaml").load


def web_need(survive: bool = False) -> capacity.GroupCapacity:
    return capacity.web_capacity(prod_load(), "m7g.large", 3, survive)


def web_group(max_size: Any, min_size: Optional[int] = None, **changes: Any) -> list[Resource]:
    lt = good_lt()
    need = web_need()
    asg = good_asg("web-asg", lt, maxSize=max_size, minSize=need.at_baseline if min_size is None else min_size, **changes)
    return [*SUBNETS, lt, asg, alarm("web-cpu", asg)]


def listener(protocol: str, **props: Any) -> Resource:
    return res(
        "aws:lb/listener:Listener", f"listener-{protocol.lower()}-{len(props)}", {"protocol": protocol, "port": 443 if protocol == "HTTPS" else 80, **props}
    )


REDIRECT = [{"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}]
HTTPS_OK = {
    "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/x",
    "defaultActions": [{"type": "forward"}],
}


def alb_with_sg(rule_port: int, role: str = "alb", cidr6: bool = False) -> list[Resource]:
    group = sg(role)
    rule = ingress(f"{role}-in-{rule_port}", group, rule_port, cidr6="::/0" if cidr6 else None, cidr4=None if cidr6 else "0.0.0.0/0")
    return [group, rule]


def db_with_replicas(count: int, db_class: str = "db.r7g.xlarge") -> list[Resource]:
    primary = good_db(instanceClass=db_class)
    return [primary, *(replica(primary, i, instanceClass=db_class) for i in range(count))]


def proxy_case(with_proxy: bool) -> list[Resource]:
    need = capacity.pooling(1, prod_load().db_pool_size, "db.r7g.large")
    instances = need.usable // prod_load().db_pool_size + 1
    out = [*web_group(max(instances, web_need().at_peak)), good_db(instanceClass="db.r7g.large")]
    if with_proxy:
        out.append(res("aws:rds/proxy:Proxy", "db-proxy", {"requireTls": True, "engineFamily": "POSTGRESQL"}))
    return out


def db_monthly() -> float:
    """On-demand price of one ``good_db`` (db.r7g.xlarge Multi-AZ) for a month, from the catalogue."""
    return pricing.for_region("us-east-1").rds_hour("db.r7g.xlarge", "postgres", True) * pricing.HOURS_PER_MONTH


def reserved_db() -> Resource:
    """An RDS reserved instance buying what ``good_db`` runs (the offering described by tags)."""
    tags = {"reserved-class": "db.r7g.xlarge", "reserved-engine": "postgres", "reserved-multi_az": "true", "reserved-term": "1yr_no_upfront"}
    return res("aws:rds/reservedInstance:ReservedInstance", "db-reserved", {"offeringId": "offering-db", "instanceCount": 1, "tags": tags})


# Keys that name or point to a secret, next to keys that hold one.
SECRET_REFS = {
    "grafana": {"admin": {"existingSecret": "grafana-admin", "userKey": "admin-user", "passwordKey": "admin-password"}},
    "ingress": {"tls": [{"secretName": "web-tls", "hosts": ["example.com"]}]},
    "database": {"secretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf", "passwordSecretRef": {"name": "db", "key": "password"}},
    "env": [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}}],
    "auth": {"password": "arn:aws:secretsmanager:us-east-1:123456789012:secret:auth-XyZ"},
}

Case = tuple[str, Callable[[], list[Resource]], Callable[[], list[Resource]], dict[str, Any]]

SPOT = {"spot-above-base": {"required": True}}
MIXED = {"instancesDistribution": {"onDemandBaseCapacity": 1, "onDemandPercentageAboveBaseCapacity": 0, "spotAllocationStrategy": "price-capacity-optimized"}}

CASES: list[Case] = [
    # security
    (
        "ebs-encrypted",
        lambda: [good_lt()],
        lambda: [good_lt(blockDeviceMappings=[{"deviceName": "/dev/xvda", "ebs": {"encrypted": "false", "volumeType": "gp3"}}])],
        {},
    ),
    (
        "ebs-encrypted",
        lambda: [res("aws:ebs/volume:Volume", "vol", {"encrypted": True, "type": "gp3"})],
        lambda: [res("aws:ebs/volume:Volume", "vol", {"type": "gp3"})],
        {},
    ),
    ("rds-storage-encrypted", lambda: db_with_replicas(1), lambda: [good_db(storageEncrypted=False)], {}),
    ("elasticache-encrypted-at-rest", lambda: [good_cache()], lambda: [good_cache(atRestEncryptionEnabled=False)], {}),
    ("elasticache-encrypted-in-transit", lambda: [good_cache()], lambda: [good_cache(transitEncryptionEnabled=None)], {}),
    ("sqs-encrypted", lambda: list(queues()), lambda: [res("aws:sqs/queue:Queue", "plain", {"name": "plain"})], {}),
    (
        "sns-encrypted",
        lambda: [res("aws:sns/topic:Topic", "alerts", {"kmsMasterKeyId": "alias/aws/sns"})],
        lambda: [res("aws:sns/topic:Topic", "alerts", {})],
        {},
    ),
    ("s3-encrypted", lambda: bucket_with("logs", pab={}), lambda: bucket_with("logs", pab={}, sse=None), {}),
    (
        "rds-proxy-require-tls",
        lambda: [res("aws:rds/proxy:Proxy", "p", {"requireTls": True})],
        lambda: [res("aws:rds/proxy:Proxy", "p", {"requireTls": False})],
        {},
    ),
    (
        "cloudfront-origin-https-only",
        lambda: [good_cdn()],
        lambda: [
            good_cdn(origins=[{"originId": "alb", "customOriginConfig": {"originProtocolPolicy": "http-only", "originSslProtocols": ["TLSv1", "TLSv1.2"]}}])
        ],
        {},
    ),
    ("imdsv2-required", lambda: [good_lt()], lambda: [good_lt(metadataOptions={"httpTokens": "optional"})], {}),
    ("imdsv2-required", lambda: [good_lt()], lambda: [good_lt(metadataOptions={"httpTokens": "required", "httpPutResponseHopLimit": 3})], {}),
    ("no-public-ip", lambda: [good_lt(), *SUBNETS], lambda: [good_lt(networkInterfaces=[{"associatePublicIpAddress": "true"}])], {}),
    ("no-public-ip", lambda: [*SUBNETS], lambda: [res("aws:ec2/subnet:Subnet", "public-a", {"mapPublicIpOnLaunch": True})], {}),
    ("rds-not-public", lambda: [good_db()], lambda: [good_db(publiclyAccessible=True)], {}),
    ("sg-world-ingress-alb-only", lambda: [*alb_with_sg(443), *alb_with_sg(80, cidr6=True)], lambda: alb_with_sg(443, role="web"), {}),
    ("sg-world-ingress-alb-only", lambda: alb_with_sg(443), lambda: alb_with_sg(22), {}),
    (
        "sg-world-ingress-alb-only",
        lambda: [sg("web", [{"protocol": "tcp", "fromPort": 8080, "toPort": 8080, "securityGroups": ["sg-alb"]}])],
        lambda: [sg("web", [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}])],
        {},
    ),
    (
        # an untagged group is the ALB's because the load balancer uses it (the stack graph)
        "sg-world-ingress-alb-only",
        lambda: (lambda g: [g, ingress("lb-in", g, 443, cidr4="0.0.0.0/0"), good_alb(groups=[g])])(res("aws:ec2/securityGroup:SecurityGroup", "lb-sg", {})),
        lambda: (lambda g: [g, ingress("lb-in", g, 443, cidr4="0.0.0.0/0")])(res("aws:ec2/securityGroup:SecurityGroup", "lb-sg", {})),
        {},
    ),
    (
        "lb-listener-tls",
        lambda: [listener("HTTPS", **HTTPS_OK), listener("HTTP", defaultActions=REDIRECT)],
        lambda: [listener("HTTPS", **{**HTTPS_OK, "sslPolicy": "ELBSecurityPolicy-2016-08"})],
        {},
    ),
    ("lb-listener-tls", lambda: [listener("HTTP", defaultActions=REDIRECT)], lambda: [listener("HTTP", defaultActions=[{"type": "forward"}])], {}),
    ("lb-listener-tls", lambda: [listener("HTTPS", **HTTPS_OK)], lambda: [listener("HTTPS", defaultActions=[{"type": "forward"}])], {}),
    ("alb-hardened", lambda: [good_alb()], lambda: [good_alb(dropInvalidHeaderFields=False)], {}),
    ("alb-hardened", lambda: [good_alb()], lambda: [good_alb(accessLogs={"bucket": "", "enabled": False})], {}),
    ("cloudfront-hardened", lambda: [good_cdn()], lambda: [good_cdn(viewerCertificate={"cloudfrontDefaultCertificate": True})], {}),
    (
        "cloudfront-hardened",
        lambda: [good_cdn()],
        lambda: [good_cdn(viewerCertificate={"acmCertificateArn": "arn:x", "minimumProtocolVersion": "TLSv1.2_2019"})],
        {},
    ),
    ("cloudfront-hardened", lambda: [good_cdn()], lambda: [good_cdn(defaultCacheBehavior={"viewerProtocolPolicy": "allow-all"})], {}),
    ("cloudfront-hardened", lambda: [good_cdn()], lambda: [good_cdn(webAclId=None)], {}),
    ("cloudfront-hardened", lambda: [good_cdn()], lambda: [good_cdn(loggingConfig=None)], {}),
    ("rds-managed-master-password", lambda: [good_db()], lambda: [good_db(manageMasterUserPassword=None, password=secret("hunter2"))], {}),
    ("no-plaintext-secrets", lambda: [good_cache(), good_db(password=secret("x"))], lambda: [good_cache(authToken="plain-token-value")], {}),
    (
        "no-plaintext-secrets",
        lambda: [res("aws:secretsmanager/secretVersion:SecretVersion", "origin-header", {"secretId": "arn:x", "secretString": secret("v")})],
        lambda: [res("aws:secretsmanager/secretVersion:SecretVersion", "origin-header", {"secretId": "arn:x", "secretString": "v"})],
        {},
    ),
    ("no-plaintext-secrets", lambda: [helm_release(SECRET_REFS)], lambda: [helm_release({"grafana": {"adminPassword": "hunter2-plain"}})], {}),
    ("no-plaintext-secrets", lambda: [k8s_secret(secret({"admin-user": "admin", "admin-password": "x"}))], lambda: [k8s_secret({"admin-password": "x"})], {}),
    ("s3-private", lambda: bucket_with("logs", pab={}), lambda: bucket_with("logs", pab=None), {}),
    ("s3-private", lambda: bucket_with("logs", pab={}), lambda: bucket_with("logs", pab={"blockPublicPolicy": False}), {}),
    # reliability
    ("multi-az", lambda: [good_db(), good_cache()], lambda: [good_db(multiAz=False)], {}),
    ("multi-az", lambda: [good_cache()], lambda: [good_cache(automaticFailoverEnabled=False)], {}),
    ("multi-az", lambda: web_group(100), lambda: (lambda lt: [SUBNETS[0], lt, good_asg("web-asg", lt, subnets=SUBNETS[:1])])(good_lt()), {}),
    ("backups", lambda: [good_db(), good_cache()], lambda: [good_db(backupRetentionPeriod=3)], {}),
    ("backups", lambda: [good_db()], lambda: [good_db(skipFinalSnapshot=True, finalSnapshotIdentifier=None)], {}),
    ("backups", lambda: [good_cache()], lambda: [good_cache(snapshotRetentionLimit=0)], {}),
    ("deletion-protection", lambda: [good_db(), good_cache()], lambda: [good_db(protect=False)], {}),
    ("deletion-protection", lambda: [good_db()], lambda: [good_db(deletionProtection=False)], {}),
    ("deletion-protection", lambda: [good_cache()], lambda: [good_cache(protect=False)], {}),
    (
        "asg-elb-health-check",
        lambda: (lambda lt, tg: [lt, tg, good_asg("web-asg", lt, tg=tg)])(good_lt(), res("aws:lb/targetGroup:TargetGroup", "tg", {})),
        lambda: (lambda lt, tg: [lt, tg, good_asg("web-asg", lt, tg=tg, healthCheckType="EC2")])(good_lt(), res("aws:lb/targetGroup:TargetGroup", "tg", {})),
        {},
    ),
    (
        "asg-refresh-auto-rollback",
        lambda: web_group(100),
        lambda: web_group(100, instanceRefresh={"strategy": "Rolling", "preferences": {"autoRollback": False}}),
        {},
    ),
    ("queue-has-dlq", lambda: list(queues()), lambda: [res("aws:sqs/queue:Queue", "jobs", {"sqsManagedSseEnabled": True})], {}),
    ("tier-alarms", lambda: web_group(100), lambda: web_group(100)[:-1], {}),
    (
        "tier-alarms",
        lambda: (lambda w, d: [w, d, alarm("jobs-age", w), alarm("dlq-depth", d)])(*queues()),
        lambda: (lambda w, d: [w, d, alarm("jobs-age", w)])(*queues()),
        {},
    ),
    ("capacity-survives-az-loss", lambda: web_group(web_need(True).with_az_loss), lambda: web_group(web_need(True).with_az_loss - 1), {}),
    # cost
    ("allowed-instance-types", lambda: [good_lt(), good_db(), good_cache()], lambda: [good_lt(instanceType="t4g.small")], {}),
    ("allowed-instance-types", lambda: [good_lt()], lambda: [good_lt(instanceType="m5.large")], {}),
    ("allowed-instance-types", lambda: [good_lt()], lambda: [good_lt(instanceType="x9z.large")], {}),
    ("allowed-instance-types", lambda: [good_db()], lambda: [good_db(instanceClass="db.t4g.medium")], {}),
    (
        "allowed-instance-types",
        lambda: [good_lt(instanceType="t4g.small")],
        lambda: [good_lt()],
        {"allowed-instance-types": {"ec2Families": ["t4g"], "allowBurstable": True}},
    ),
    ("spot-above-base", lambda: web_group(100, mixedInstancesPolicy=MIXED), lambda: web_group(100), SPOT),
    (
        "spot-above-base",
        lambda: web_group(100, mixedInstancesPolicy=MIXED),
        lambda: web_group(100, mixedInstancesPolicy={"instancesDistribution": {"onDemandBaseCapacity": 4}}),
        SPOT,
    ),
    (
        "gp3-not-gp2",
        lambda: [good_lt(), good_db()],
        lambda: [good_lt(blockDeviceMappings=[{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "volumeType": "gp2"}}])],
        {},
    ),
    ("gp3-not-gp2", lambda: [good_db()], lambda: [good_db(storageType="gp2")], {}),
    ("gp3-not-gp2", lambda: [good_db()], lambda: [good_db(storageType=None)], {}),
    (
        "nat-gateway-limit",
        lambda: [res("aws:ec2/natGateway:NatGateway", "nat-a", {})],
        lambda: [res("aws:ec2/natGateway:NatGateway", f"nat-{az}", {}) for az in "ab"],
        {"nat-gateway-limit": {"maxNatGateways": 1}},
    ),
    (
        "cloudfront-price-class",
        lambda: [good_cdn()],
        lambda: [good_cdn(priceClass="PriceClass_All")],
        {"cloudfront-price-class": {"forbidden": ["PriceClass_All"]}},
    ),
    (
        "paid-extras",
        lambda: [good_db(performanceInsightsEnabled=True, performanceInsightsRetentionPeriod=7, multiAz=False)],
        lambda: [good_db(performanceInsightsEnabled=True, performanceInsightsRetentionPeriod=731, multiAz=False)],
        {"paid-extras": {"flag": True}},
    ),
    (
        "stack-monthly-budget",
        lambda: [good_db()],
        lambda: [good_db(), good_db("db-second")],
        {"stack-monthly-budget": {"monthlyBudgetUsd": 1.5 * db_monthly()}},
    ),
    ("baseline-commitments", lambda: [good_db(), reserved_db()], lambda: [good_db()], {}),
    # right-sizing
    ("asg-max-covers-peak", lambda: web_group(web_need().at_peak), lambda: web_group(web_need().at_peak - 1), {"capacity-survives-az-loss": "disabled"}),
    (
        "db-sized-for-load",
        lambda: db_with_replicas(capacity.read_replicas(prod_load(), "db.r7g.xlarge")),
        lambda: db_with_replicas(capacity.read_replicas(prod_load(), "db.r7g.xlarge") - 1),
        {},
    ),
    ("db-sized-for-load", lambda: db_with_replicas(capacity.read_replicas(prod_load(), "db.r7g.xlarge")), lambda: db_with_replicas(12, "db.r7g.large"), {}),
    (
        "cache-holds-working-set",
        lambda: [good_cache(numNodeGroups=capacity.cache_shards_for("cache.r7g.large", prod_load().cache_working_set_gb, prod_load().headroom_pct))],
        lambda: [good_cache(numNodeGroups=1)],
        {},
    ),
    ("rds-proxy-when-needed", lambda: proxy_case(True), lambda: proxy_case(False), {}),
    ("over-provisioned", lambda: web_group(100, min_size=web_need().at_baseline), lambda: web_group(100, min_size=2 * web_need().at_baseline + 1), {}),
    # kubernetes (EKS)
    ("k8s-requests-and-limits", lambda: [deployment()], lambda: [deployment(resources={"requests": {"cpu": "500m"}})], {}),
    ("k8s-no-privileged-or-root", lambda: [deployment()], lambda: [deployment(securityContext={"privileged": True, "runAsNonRoot": True})], {}),
    ("k8s-pinned-images", lambda: [deployment()], lambda: [deployment(image="nginx:latest")], {}),
    ("k8s-deployment-autoscaled", lambda: [deployment(), hpa()], lambda: [deployment()], {}),
    ("k8s-pdb-when-replicated", lambda: [deployment(replicas=3), pdb()], lambda: [deployment(replicas=3)], {}),
    ("k8s-network-policy-present", lambda: [deployment(), network_policy()], lambda: [deployment(), network_policy("other")], {}),
]


@pytest.mark.parametrize(("policy", "passing", "failing", "config"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_policy_passes_and_fails(
    pack: PolicyPack, policy: str, passing: Callable[[], list[Resource]], failing: Callable[[], list[Resource]], config: dict[str, Any]
) -> None:
    assert [f.message for f in fired(verdicts(pack, passing(), config), policy)] == []
    found = fired(verdicts(pack, failing(), config), policy)
    assert found, f"{policy} did not fire"
    assert all(f.kind == "violation" for f in found), found


def test_every_policy_has_a_case(pack: PolicyPack) -> None:
    dedicated = {"idle-read-capacity"}  # needs a stack without read load: test_idle_replicas_are_flagged_from_the_load_profile
    assert {p.name for p in pack.policies} == {c[0] for c in CASES} | dedicated


def test_right_sizing_messages_state_required_configured_and_suggested(pack: PolicyPack) -> None:
    need = web_need().at_peak
    [finding] = fired(verdicts(pack, web_group(need - 1)), "asg-max-covers-peak")
    assert f"required {need} instances" in finding.message
    assert f"configured maxSize {need - 1}" in finding.message
    assert f"suggested maxSize {need}" in finding.message
    assert finding.urn.endswith("::web-asg") and finding.enforcement == "mandatory"


def test_idle_replicas_are_flagged_from_the_load_profile(pack: PolicyPack, tmp_path: Path) -> None:
    config = shipped_config("prod")
    config["mortgagematch-scaling:load"]["db_read_share"] = 0
    write_stack(tmp_path, "noreads", config)
    graph = db_with_replicas(1)
    assert fired(verdicts(pack, graph), "idle-read-capacity") == []
    [finding] = fired(verdicts(pack, graph, stack="noreads", project_dir=tmp_path), "idle-read-capacity")
    assert "no read load" in finding.message and finding.enforcement == "advisory"


def test_sg_rule_identifies_the_alb_group_by_tag_or_graph_and_names_the_rule(pack: PolicyPack) -> None:
    [finding] = fired(verdicts(pack, alb_with_sg(22)), "sg-world-ingress-alb-only")
    assert finding.urn.endswith("::alb-in-22") and "port 22" in finding.message


def test_missing_load_profile_is_a_visible_finding(pack: PolicyPack) -> None:
    found = fired(verdicts(pack, web_group(100), stack="no-such-stack"), "asg-max-covers-peak")
    assert [f.message for f in found] == [f"cannot check this rule: no load profile: {REPO_ROOT / 'Pulumi.no-such-stack.yaml'} not found"]


def test_a_rule_that_raises_is_reported_not_swallowed(pack: PolicyPack) -> None:
    found = fired(verdicts(pack, web_group("lots")), "asg-max-covers-peak")
    assert [f.kind for f in found] == ["error"]
    assert "ValueError" in found[0].message and found[0].enforcement == "mandatory"


def test_a_rule_reading_an_unknown_value_is_reported_with_the_resource(pack: PolicyPack) -> None:
    lt = good_lt(instanceType=UNKNOWN)
    found = fired(verdicts(pack, [lt]), "allowed-instance-types")
    assert [(f.kind, f.urn, f.enforcement) for f in found] == [("unknown", lt.urn, "advisory")]
    assert "instanceType" in found[0].message


def test_without_config_the_pack_applies_production_defaults(pack: PolicyPack) -> None:
    levels = pack.configure({}, "none")
    assert {name for name, level in levels.items() if level != "mandatory"} == {"paid-extras", "idle-read-capacity", "over-provisioned", "baseline-commitments"}
    found = verdicts(pack, [good_lt(instanceType="t4g.small"), good_db(multiAz=False, backupRetentionPeriod=1)])
    assert {f.policy for f in found if f.blocking} >= {"allowed-instance-types", "multi-az", "backups"}


@pytest.mark.parametrize("stack", ["dev", "prod", "staging"])
def test_enforcement_levels_follow_the_stack_config_file(pack: PolicyPack, stack: str) -> None:
    raw = read_config_file(CONFIG_DIR / f"{stack}.json")
    levels = pack.configure(raw, f"{stack}.json", stack=stack)
    assert levels == {name: entry if isinstance(entry, str) else entry["enforcementLevel"] for name, entry in raw.items()}
    gp2 = good_lt(blockDeviceMappings=[{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "volumeType": "gp2"}}])
    [finding] = fired(pack.analyze([gp2]), "gp3-not-gp2")
    assert finding.enforcement == levels["gp3-not-gp2"]


SECURITY = {p.name for p in security.POLICIES}
# The only security relaxations dev may have: the issues let a dev stack run without a
# certificate (HTTP-only ALB, CloudFront's default certificate).
DEV_NO_CERTIFICATE = {"lb-listener-tls", "cloudfront-hardened"}


def test_dev_relaxes_cost_and_reliability_never_security_and_prod_is_mandatory() -> None:
    dev, prod = (read_config_file(CONFIG_DIR / f"{s}.json") for s in ("dev", "prod"))

    def level(entry: Any) -> str:
        return entry if isinstance(entry, str) else entry["enforcementLevel"]

    assert {n for n in SECURITY - DEV_NO_CERTIFICATE if level(dev[n]) != "mandatory"} == set()
    relaxed = {n for n, e in dev.items() if n not in SECURITY and level(e) != "mandatory"}
    assert len(relaxed) > (len(dev) - len(SECURITY)) / 2, "dev is mostly advisory outside security"
    assert sum(level(e) == "mandatory" for e in prod.values()) > 0.85 * len(prod)
    assert dev["nat-gateway-limit"]["maxNatGateways"] == 1
    assert dev["cloudfront-price-class"]["forbidden"] == ["PriceClass_All"]


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ('{"backups": {"minBackupDays": 7,}}', "broken.json: invalid JSON at line 1, column 33: Expecting property name enclosed in double quotes"),
        ('{"backup": "advisory"}', "broken.json: backup: unknown policy (did you mean 'backups'?)"),
        ('{"backups": {"minBackupDays": "seven"}}', "broken.json: backups.minBackupDays: 'seven' is not of type 'integer'"),
        (
            '{"backups": {"enforcementLevel": "strict"}}',
            "broken.json: backups.enforcementLevel: must be one of advisory, mandatory, remediate, disabled, got 'strict'",
        ),
        ('{"backups": {"minBackupDay": 7}}', "broken.json: backups: Additional properties are not allowed ('minBackupDay' was unexpected)"),
        ('{"all": "loud"}', "broken.json: all: must be one of advisory, mandatory, remediate, disabled, got 'loud'"),
        ("[]", "broken.json: must be a JSON object of policy name -> enforcement level or settings, got list"),
    ],
)
def test_a_broken_pack_config_gives_a_clear_error(pack: PolicyPack, tmp_path: Path, content: str, error: str) -> None:
    path = tmp_path / "broken.json"
    path.write_text(content)
    with pytest.raises(PolicyPackError) as exc:
        reconcile(read_config_file(path), pack.policies, path.name)
    assert str(exc.value) == error


def test_schema_defaults_fill_missing_properties(pack: PolicyPack) -> None:
    reconciled = reconcile({"backups": {"minBackupDays": 3}}, pack.policies, "x.json")
    assert reconciled["backups"] == ("mandatory", {"minBackupDays": 3, "minCacheSnapshotDays": 1})


@pytest.mark.parametrize("stack", ["dev", "prod", "staging"])
def test_shipped_stacks_have_no_mandatory_violations(pack: PolicyPack, stack: str) -> None:
    verdict = analyze_capture(captured(stack), pack=pack)
    assert verdict.config_file == f"{stack}.json"
    assert [f.as_dict() for f in verdict.blocking] == []
    # Deliberate advisory findings are listed in the README's policy section.
    assert [(f.policy, f.urn.rsplit("::", 1)[-1]) for f in verdict.findings] == EXPECTED_ADVISORY[stack]


# Deliberate: dev has no certificate (HTTP-only ALB reached over HTTP, default CloudFront certificate); prod
# buys no RDS/ElastiCache reservations nor a Savings Plan yet (the saving is stated);
# staging keeps an unprotected, single-node data tier (a rehearsal of the EKS path).
EXPECTED_ADVISORY: dict[str, list[tuple[str, str]]] = {
    "dev": [("lb-listener-tls", "alb-http")],
    "prod": [("baseline-commitments", "")] * 3,
    "staging": [
        ("deletion-protection", "cache-group"),
        ("deletion-protection", "database-primary"),
        ("deletion-protection", "database-primary"),
        ("multi-az", "cache-group"),
    ],
}


def _export(capture: Capture, extra: list[dict[str, Any]]) -> dict[str, Any]:
    resources = [
        {
            "urn": r.urn,
            "custom": r.custom,
            "type": r.type,
            "inputs": r.inputs,
            "parent": r.parent,
            "protect": r.protect,
            "dependencies": r.dependencies,
            "propertyDependencies": r.property_dependencies,
            "provider": r.provider,
        }
        for r in capture.resources
    ]
    return {"version": 3, "deployment": {"manifest": {"version": "3.272.0"}, "resources": resources + extra}}


def test_stack_export_files_are_analyzed(pack: PolicyPack, prod: Capture, tmp_path: Path) -> None:
    sig = "4dabf18193072939515e22adb298388d"
    db_urn = "urn:pulumi:prod::mortgagematch-scaling::aws:rds/instance:Instance::legacy-db"
    legacy = {**good_db().properties, "publiclyAccessible": True, "password": {sig: "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "AAAB..."}}
    path = tmp_path / "export.json"
    path.write_text(json.dumps(_export(prod, [{"urn": db_urn, "custom": True, "type": "aws:rds/instance:Instance", "inputs": legacy, "protect": True}])))
    verdict = analyze_export(path, pack=pack)
    assert verdict.config_file == "prod.json"
    by_policy = {f.policy: f for f in verdict.findings}
    assert by_policy["rds-not-public"].urn == db_urn and by_policy["rds-not-public"].blocking
    assert "rds-managed-master-password" in by_policy
    assert "no-plaintext-secrets" not in by_policy  # the encrypted password stays a secret


def test_an_export_of_another_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"version": 2, "deployment": {}}))
    with pytest.raises(PolicyPackError, match=r"old\.json: expected a `pulumi stack export` document with version 3, got version 2"):
        analyze_export(path)


def test_staging_relaxes_only_prod_only_rules() -> None:
    staging, prod = (read_config_file(CONFIG_DIR / f"{s}.json") for s in ("staging", "prod"))

    def level(entry: Any) -> str:
        return entry if isinstance(entry, str) else entry["enforcementLevel"]

    security = [name for name in prod if not name.startswith(("multi-az", "backups", "deletion", "capacity", "asg-", "queue", "tier"))]
    assert all(level(staging[n]) == "mandatory" for n in ("no-plaintext-secrets", "rds-not-public", "sg-world-ingress-alb-only", "k8s-no-privileged-or-root"))
    assert {level(staging[n]) for n in ("multi-az", "deletion-protection", "capacity-survives-az-loss")} == {"advisory"}
    assert staging["allowed-instance-types"]["allowBurstable"] and "t4g" in staging["allowed-instance-types"]["rdsFamilies"]
    assert set(staging) == set(prod) and security


@pytest.mark.parametrize(
    ("key", "holds"),
    [
        ("password", True),
        ("masterPassword", True),
        ("authToken", True),
        ("admin-password", True),
        ("secretString", True),
        ("privateKey", True),
        ("clientSecret", True),
        ("ADMIN_PASSWORD", True),
        ("existingSecret", False),
        ("tlsSecretName", False),
        ("secretArn", False),
        ("passwordSecretRef", False),
        ("passwordKey", False),
        ("existingSecretPasswordKey", False),
        ("manageMasterUserPassword", False),
        ("imagePullSecrets", False),
    ],
)
def test_secret_heuristic_tells_values_from_references(key: str, holds: bool) -> None:
    assert holds_secret_value(key) is holds


def test_budget_rule_prices_the_graph_with_the_plans_estimator(pack: PolicyPack, prod: Capture) -> None:
    """The pack gets no ids over the protocol; its estimate must still equal the plan's."""
    total = cost.estimate(prod).monthly_usd
    config = {"stack-monthly-budget": {"monthlyBudgetUsd": round(total - 100, 2)}}
    [finding] = fired(verdicts(pack, resources_from_capture(prod), config), "stack-monthly-budget")
    assert f"required ${total:,.2f}/month" in finding.message
    assert f"configured budget ${total - 100:,.2f} (policy config monthlyBudgetUsd); overrun $100.00" in finding.message
    assert finding.blocking


def test_budget_defaults_to_the_stack_config(pack: PolicyPack, tmp_path: Path) -> None:
    config = shipped_config("prod")
    config["mortgagematch-scaling:cost"] = {"monthly_budget_usd": round(db_monthly() / 2, 2)}
    write_stack(tmp_path, "tight", config)
    [finding] = fired(verdicts(pack, [good_db()], stack="tight", project_dir=tmp_path), "stack-monthly-budget")
    assert f"configured budget ${db_monthly() / 2:,.2f} (the stack's cost.monthly_budget_usd)" in finding.message


def test_commitment_advice_states_the_monthly_saving(pack: PolicyPack) -> None:
    [finding] = fired(verdicts(pack, [good_db()]), "baseline-commitments")
    saving = db_monthly() * pricing.reserved_discount("rds", "1yr_no_upfront")
    assert finding.message.startswith(f"RDS: the steady baseline runs on-demand (db-primary): ${db_monthly():,.2f}/month")
    assert f"saves ${saving:,.2f}/month" in finding.message and finding.enforcement == "advisory"


def test_commitment_advice_counts_the_ec2_baseline_and_a_savings_plan(pack: PolicyPack) -> None:
    group = web_group(100)
    [finding] = fired(verdicts(pack, group), "baseline-commitments")
    assert finding.message.startswith(f"EC2: the steady baseline runs on-demand (web-asg {web_need(True).at_baseline} x m7g.large)")
    plenty = {"baseline-commitments": {"savingsPlanHourlyUsd": 100}}
    assert fired(verdicts(pack, group, plenty), "baseline-commitments") == []


def test_commitment_advice_is_for_prod_only(pack: PolicyPack) -> None:
    assert fired(verdicts(pack, [good_db()], stack="dev"), "baseline-commitments") == []
