"""Web tier: the ALB (listeners, WAF, access logs, ingress) and the web Auto Scaling group
(launch template, mixed instances, refresh, every scaling policy kind) in dev and prod."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from components.load_balancer import ELB_LOG_ACCOUNTS
from infra.wiring.web import CLOUDFRONT_PREFIX_LIST_WEIGHT, HTTP_ONLY_WARNING, SG_INBOUND_RULES_QUOTA
from scalestack import capacity, catalog
from scalestack.mocks import CLOUDFRONT_PREFIX_LISTS
from scalestack.offline import Capture, CapturedResource
from tests.conftest import plan_variant

LISTENER = "aws:lb/listener:Listener"


def _policy(capture: Capture, name: str) -> dict[str, Any]:
    return capture.find(name).inputs


def _rules_on(capture: Capture, listener: CapturedResource) -> list[CapturedResource]:
    return [r for r in capture.by_type("aws:lb/listenerRule:ListenerRule") if r.property_dependencies.get("listenerArn") == [listener.urn]]


def test_prod_https_listener_uses_tls13_policy_and_certificate(prod: Capture) -> None:
    https = prod.find("alb-https")
    assert https.inputs["protocol"] == "HTTPS" and https.inputs["port"] == 443
    assert https.inputs["sslPolicy"].startswith("ELBSecurityPolicy-TLS13-")
    assert https.inputs["certificateArn"] == prod.config.web.certificate_arn
    assert prod.stack_outputs["web_scheme"] == "https" and not prod.diagnostics


def test_prod_http_listener_redirects_to_https_301(prod: Capture) -> None:
    (action,) = prod.find("alb-http").inputs["defaultActions"]
    assert action["type"] == "redirect"
    assert action["redirect"] == {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}


@pytest.mark.parametrize(("stack", "serving"), [("dev", "alb-http"), ("prod", "alb-https")])
def test_behind_cdn_only_the_origin_header_reaches_the_targets(stack: str, serving: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    capture: Capture = request.getfixturevalue(stack) if stack == "prod" else plan_variant(tmp_path, "dev", {"cdn": {"enabled": True}})
    listener = capture.find(serving)
    (default,) = listener.inputs["defaultActions"]
    assert default["type"] == "fixed-response" and default["fixedResponse"]["statusCode"] == "403"
    (rule,) = _rules_on(capture, listener)
    assert rule.inputs["priority"] == 1
    (condition,) = rule.inputs["conditions"]
    assert condition["httpHeader"]["httpHeaderName"] == "X-Origin-Verify"
    assert condition["httpHeader"]["values"] == ["[secret]"], "the origin secret stays a secret"
    assert rule.inputs["actions"][0]["targetGroupArn"] == capture.one("aws:lb/targetGroup:TargetGroup").id
    secret = capture.one("random:index/randomPassword:RandomPassword")
    assert (secret.name, secret.inputs["length"], secret.inputs["special"]) == ("cdn-origin-secret", 48, False)


def test_dev_without_certificate_serves_http_and_says_so(dev: Capture) -> None:
    assert dev.config.web.certificate_arn is None
    assert [r.inputs["port"] for r in dev.by_type(LISTENER)] == [80]
    assert dev.stack_outputs["web_scheme"] == "http"
    assert f"warning: {HTTP_ONLY_WARNING}" in dev.diagnostics


@pytest.mark.parametrize(("stack", "protected"), [("dev", False), ("prod", True)])
def test_alb_attributes(stack: str, protected: bool, request: pytest.FixtureRequest) -> None:
    capture: Capture = request.getfixturevalue(stack)
    lb = capture.one("aws:lb/loadBalancer:LoadBalancer").inputs
    assert lb["loadBalancerType"] == "application" and lb["internal"] is False
    assert lb["enableHttp2"] is True and lb["dropInvalidHeaderFields"] is True
    assert lb["enableDeletionProtection"] is protected
    assert lb["subnets"] == capture.stack_outputs["public_subnet_ids"]
    assert lb["securityGroups"] == [capture.find("sg-alb").id]
    bucket = capture.one("aws:s3/bucket:Bucket", "alb-logs")
    assert lb["accessLogs"] == {"bucket": bucket.id, "prefix": "alb", "enabled": True}


def test_access_log_bucket_is_encrypted_private_expiring_and_writable_by_elb(prod: Capture) -> None:
    sse = prod.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "alb-logs-encryption").inputs
    assert sse["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    block = prod.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "alb-logs-public-access").inputs
    assert all(block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    (rule,) = prod.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "alb-logs-lifecycle").inputs["rules"]
    assert rule["status"] == "Enabled" and rule["expiration"]["days"] == prod.config.web.access_log_retention_days == 365
    policy = json.loads(prod.one("aws:s3/bucketPolicy:BucketPolicy", "alb-logs-policy").inputs["policy"])
    delivery = next(s for s in policy["Statement"] if s["Sid"] == "ElbLogDelivery")
    assert delivery["Principal"] == {"AWS": f"arn:aws:iam::{ELB_LOG_ACCOUNTS['us-east-1']}:root"}
    assert delivery["Action"] == "s3:PutObject" and delivery["Resource"].endswith("/alb/AWSLogs/123456789012/*")
    assert any(s["Effect"] == "Deny" and s["Condition"]["Bool"]["aws:SecureTransport"] == "false" for s in policy["Statement"])


def test_target_group_health_check_deregistration_and_slow_start(prod: Capture) -> None:
    tg = prod.one("aws:lb/targetGroup:TargetGroup").inputs
    web = prod.config.web
    assert tg["port"] == web.app_port and tg["protocol"] == "HTTP"
    assert tg["healthCheck"]["path"] == web.health_check_path and tg["healthCheck"]["enabled"] is True
    assert tg["deregistrationDelay"] == web.deregistration_delay_s and tg["slowStart"] == web.slow_start_s


def test_waf_rate_rule_and_common_rule_set_with_metrics(prod: Capture) -> None:
    acl = prod.one("aws:wafv2/webAcl:WebAcl", "alb-waf")
    assert acl.inputs["scope"] == "REGIONAL" and acl.inputs["visibilityConfig"]["cloudwatchMetricsEnabled"] is True
    rules = {r["name"]: r for r in acl.inputs["rules"]}
    rate = rules["rate-limit-per-ip"]["statement"]["rateBasedStatement"]
    assert rate == {"limit": 2000, "aggregateKeyType": "IP", "evaluationWindowSec": 300}
    assert rules["rate-limit-per-ip"]["action"] == {"block": {}}
    managed = rules["aws-common-rule-set"]["statement"]["managedRuleGroupStatement"]
    assert (managed["vendorName"], managed["name"]) == ("AWS", "AWSManagedRulesCommonRuleSet")
    assert all(r["visibilityConfig"]["cloudwatchMetricsEnabled"] for r in rules.values())
    assoc = prod.one("aws:wafv2/webAclAssociation:WebAclAssociation").inputs
    assert assoc == {"resourceArn": prod.one("aws:lb/loadBalancer:LoadBalancer").id, "webAclArn": acl.outputs.get("arn", assoc["webAclArn"])}


def test_alb_ingress_only_from_cloudfront_when_cdn_is_on(prod: Capture) -> None:
    rules = [r for r in prod.by_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") if r.name.startswith("alb-ingress-")]
    assert {(r.inputs["fromPort"], r.inputs.get("prefixListId")) for r in rules} == {(443, CLOUDFRONT_PREFIX_LISTS["us-east-1"])}, "CloudFront uses 443 only"
    assert not any("cidrIpv4" in r.inputs or "cidrIpv6" in r.inputs for r in rules)
    web_rule = prod.find("web-ingress-from-alb").inputs
    assert web_rule["fromPort"] == prod.config.web.app_port and web_rule["referencedSecurityGroupId"] == prod.find("sg-alb").id


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_alb_egress_reaches_only_the_web_targets(stack: str, request: pytest.FixtureRequest) -> None:
    """The ALB opens no connections of its own: egress only to the web group on the app port."""
    capture: Capture = request.getfixturevalue(stack)
    alb_sg = capture.find("sg-alb").id
    egress = [r.inputs for r in capture.by_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule") if r.inputs["securityGroupId"] == alb_sg]
    port = capture.config.web.app_port
    assert [(e["ipProtocol"], e["fromPort"], e["toPort"], e.get("referencedSecurityGroupId"), e.get("cidrIpv4")) for e in egress] == [
        ("tcp", port, port, capture.find("sg-web").id, None)
    ]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_group_fits_the_inbound_rule_quota(stack: str, request: pytest.FixtureRequest) -> None:
    """EC2 counts a rule on the CloudFront prefix list as 55 of a group's 60 inbound rules:
    a second such rule (say ports 80 and 443) is refused at apply time."""
    capture: Capture = request.getfixturevalue(stack)
    weights: dict[str, int] = {}
    for rule in capture.by_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"):
        weight = CLOUDFRONT_PREFIX_LIST_WEIGHT if rule.inputs.get("prefixListId") in CLOUDFRONT_PREFIX_LISTS.values() else 1
        weights[rule.inputs["securityGroupId"]] = weights.get(rule.inputs["securityGroupId"], 0) + weight
    assert weights and max(weights.values()) <= SG_INBOUND_RULES_QUOTA, weights


def test_without_cdn_the_alb_is_open_to_the_internet_and_forwards(tmp_path: Path) -> None:
    capture = plan_variant(tmp_path, "dev", {"cdn": {"enabled": False}})
    rules = [r.inputs for r in capture.by_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") if r.name.startswith("alb-ingress-")]
    assert {(r["fromPort"], r.get("cidrIpv4"), r.get("cidrIpv6")) for r in rules} == {(80, "0.0.0.0/0", None), (80, None, "::/0")}
    assert capture.find("alb-http").inputs["defaultActions"][0]["type"] == "forward"
    assert not capture.by_type("aws:lb/listenerRule:ListenerRule") and not capture.by_type("random:index/randomPassword:RandomPassword")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_launch_template_imdsv2_encrypted_gp3_monitoring_ssm_ami(stack: str, request: pytest.FixtureRequest) -> None:
    capture: Capture = request.getfixturevalue(stack)
    lt = capture.find("web-lt").inputs
    assert lt["metadataOptions"]["httpTokens"] == "required" and lt["metadataOptions"]["httpPutResponseHopLimit"] == 1
    (disk,) = lt["blockDeviceMappings"]
    assert disk["ebs"]["encrypted"] == "true" and disk["ebs"]["volumeType"] == "gp3"
    assert lt["monitoring"] == {"enabled": stack == "prod"}, "dev turns billed 1-minute metrics off"
    assert lt["imageId"].startswith("ami-0") and lt["instanceType"] == capture.config.web.instance_type
    assert lt["iamInstanceProfile"]["arn"].endswith(capture.find("web-profile").id)


def test_instance_role_has_only_ssm_cloudwatch_agent_and_cache_sign_in(prod: Capture) -> None:
    role = prod.find("web-role")
    attached = [
        r.inputs["policyArn"]
        for r in prod.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if r.parent == role.parent and r.name.startswith("web-")
    ]
    assert sorted(attached) == ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore", "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"]
    inline = [json.loads(r.inputs["policy"]) for r in prod.by_type("aws:iam/rolePolicy:RolePolicy") if r.inputs["role"] == role.id]
    assert [s["Action"] for p in inline for s in p["Statement"]] == ["elasticache:Connect"], "only the cache's IAM sign-in"


@pytest.mark.parametrize(("stack", "base", "on_demand_pct"), [("dev", 1, 0), ("prod", None, 30)])
def test_mixed_instances_numbers_and_overrides(stack: str, base: Any, on_demand_pct: int, request: pytest.FixtureRequest) -> None:
    capture: Capture = request.getfixturevalue(stack)
    group = capture.find("web-asg").inputs
    web = capture.config.web
    model = capacity.web_capacity(capture.config.load, web.instance_type, capture.config.network.az_count, capture.config.is_prod)
    dist = group["mixedInstancesPolicy"]["instancesDistribution"]
    assert dist["onDemandBaseCapacity"] == (base if base is not None else model.min_size)
    assert dist["onDemandPercentageAboveBaseCapacity"] == on_demand_pct
    assert dist["spotAllocationStrategy"] == "price-capacity-optimized"
    overrides = group["mixedInstancesPolicy"]["launchTemplate"]["overrides"]
    types = [o["instanceType"] for o in overrides]
    assert types[0] == web.instance_type and len(types) >= 4 and len(set(types)) == len(types)
    assert {catalog.ec2_type(t).arch for t in types} == {catalog.ec2_type(web.instance_type).arch}
    assert all(o["weightedCapacity"] == "1" for o in overrides)
    assert (group["minSize"], group["maxSize"]) == (model.min_size, model.max_size)
    assert group["capacityRebalance"] is True


def test_group_health_refresh_rollback_and_tier_tag(prod: Capture) -> None:
    group = prod.find("web-asg").inputs
    assert group["healthCheckType"] == "ELB" and group["healthCheckGracePeriod"] == 300
    assert group["defaultInstanceWarmup"] == 180 and "GroupInServiceInstances" in group["enabledMetrics"]
    assert group["vpcZoneIdentifiers"] == prod.stack_outputs["private_subnet_ids"]
    assert group["instanceMaintenancePolicy"] == {"minHealthyPercentage": 90, "maxHealthyPercentage": 120}
    assert group["maxInstanceLifetime"] == 1209600 and group["terminationPolicies"][0] == "OldestLaunchTemplate"
    refresh = group["instanceRefresh"]
    assert refresh["strategy"] == "Rolling"
    assert refresh["preferences"]["autoRollback"] is True and refresh["preferences"]["minHealthyPercentage"] == 90
    assert refresh["preferences"]["checkpointPercentages"] == [33, 100]
    assert {"key": "tier", "value": "web", "propagateAtLaunch": True} in group["tags"]
    hook = prod.find("web-drain").inputs
    assert hook["lifecycleTransition"] == "autoscaling:EC2_INSTANCE_TERMINATING" and hook["defaultResult"] == "CONTINUE"


def test_prod_enables_every_policy_kind_with_its_metric_and_target(prod: Capture) -> None:
    load, web = prod.config.load, prod.config.web
    requests = _policy(prod, "web-requests-tracking")["targetTrackingConfiguration"]
    assert requests["predefinedMetricSpecification"]["predefinedMetricType"] == "ALBRequestCountPerTarget"
    assert requests["predefinedMetricSpecification"]["resourceLabel"].startswith("app/alb-lb-")
    assert "/targetgroup/alb-tg-" in requests["predefinedMetricSpecification"]["resourceLabel"]
    assert requests["targetValue"] == pytest.approx(capacity.per_instance_rps(load, web.instance_type) * 0.70) == 84
    cpu = _policy(prod, "web-cpu-tracking")["targetTrackingConfiguration"]
    assert cpu == {"targetValue": 50, "predefinedMetricSpecification": {"predefinedMetricType": "ASGAverageCPUUtilization"}}
    step = _policy(prod, "web-cpu-step")
    assert step["policyType"] == "StepScaling" and [s["scalingAdjustment"] for s in step["stepAdjustments"]] == [1, 2, 4]
    assert "metricIntervalUpperBound" not in step["stepAdjustments"][-1]
    alarm = prod.find("web-cpu-spike").inputs
    assert (
        alarm["threshold"] == 80
        and alarm["metricName"] == "CPUUtilization"
        and alarm["alarmActions"] == [prod.find("web-cpu-step").outputs.get("arn", alarm["alarmActions"][0])]
    )
    start, end = prod.find("web-business-hours-start").inputs, prod.find("web-business-hours-end").inputs
    assert start["timeZone"] == end["timeZone"] == "America/New_York"
    assert start["recurrence"] == "0 7 * * MON-FRI" and start["minSize"] > end["minSize"]
    predictive = _policy(prod, "web-predictive")["predictiveScalingConfiguration"]
    assert predictive["mode"] == "ForecastAndScale" and predictive["maxCapacityBreachBehavior"] == "IncreaseMaxCapacity"
    assert predictive["maxCapacityBuffer"] == "10"
