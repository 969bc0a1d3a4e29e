"""CloudFront per stack, in front of the real web tier's ALB: viewer TLS, HTTP/2+3, IPv6,
compression, price class, origin shield, WAF in us-east-1, access logging; the component
alone with failover and the origin-verify secret that never shows in clear."""

from __future__ import annotations

from pathlib import Path

import pulumi_random as random
import pytest

from components.cdn import Cdn, CdnArgs
from infra.config import load_from_pulumi
from infra.providers import make_providers
from scalestack import REPO_ROOT
from scalestack.mocks import random_password_value
from scalestack.offline import Capture, run_stack
from tests.conftest import captured, plan_variant
from tests.data_helpers import assert_never_in_clear, config_error

SECRET_NAME, SECRET_LENGTH = "cdn-origin-secret", 48

DIST = "aws:cloudfront/distribution:Distribution"
WAF = "aws:wafv2/webAcl:WebAcl"
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/3f2b9c1e-7a4d-4e8b-9c2f-5d6e7f8a9b0c"


@pytest.fixture(scope="module", params=["dev", "prod"])
def edge(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Capture:
    """prod as shipped; dev with its CDN switched on (the shipped dev turns it off: no
    certificate), which exercises CloudFront's default certificate and the HTTP origin."""
    if request.param == "prod":
        return captured("prod")
    return plan_variant(tmp_path_factory.mktemp("dev-edge"), "dev", {"cdn": {"enabled": True}}, stack="dev")


def behaviors(dist: dict) -> list[dict]:
    return [dist["defaultCacheBehavior"], *dist["orderedCacheBehaviors"]]


def test_without_a_web_tier_the_edge_is_skipped(tmp_path: Path) -> None:
    capture = plan_variant(tmp_path, "dev", {"compute": {"platform": "eks"}, "eks": {"public_access_cidrs": ["203.0.113.0/24"]}})
    assert not capture.by_type(DIST) and not [w for w in capture.by_type(WAF) if w.inputs["scope"] == "CLOUDFRONT"]


def test_distribution_speaks_modern_http_and_compresses(edge: Capture) -> None:
    dist = edge.one(DIST).inputs
    assert dist["enabled"] is True and dist["httpVersion"] == "http2and3" and dist["isIpv6Enabled"] is True
    assert all(b["viewerProtocolPolicy"] == "redirect-to-https" and b["compress"] is True for b in behaviors(dist))
    assert dist["priceClass"] == {"dev": "PriceClass_100", "prod": "PriceClass_200"}[edge.stack]
    assert edge.stack_outputs["cdn_domain_name"].endswith(".cloudfront.net")


def test_viewer_tls_prod_has_its_certificate_dev_the_default(edge: Capture) -> None:
    cert = edge.one(DIST).inputs["viewerCertificate"]
    if edge.stack == "prod":
        assert cert == {"acmCertificateArn": CERT, "sslSupportMethod": "sni-only", "minimumProtocolVersion": "TLSv1.2_2021"}
        assert edge.one(DIST).inputs["aliases"] == ["www.mortgagematchpro.com"]
    else:
        assert cert == {"cloudfrontDefaultCertificate": True}


def test_alb_origin_is_tls12_with_the_secret_header(edge: Capture) -> None:
    dist = edge.one(DIST).inputs
    alb = next(o for o in dist["origins"] if o["originId"] == "alb")
    lb = edge.one("aws:lb/loadBalancer:LoadBalancer").state()
    if edge.stack == "prod":
        # HTTPS origin: a name on the ALB's certificate, aliased to the ALB in Route 53.
        assert alb["domainName"] == "origin.mortgagematchpro.com"
        record = edge.one("aws:route53/record:Record", "cdn-origin-record").inputs
        assert (record["name"], record["type"], record["zoneId"]) == ("origin.mortgagematchpro.com", "A", "Z0123456789ABCDEFGHIJ")
        assert record["aliases"] == [{"name": lb["dnsName"], "zoneId": lb["zoneId"], "evaluateTargetHealth": True}]
    else:
        assert alb["domainName"] == lb["dnsName"], "plain HTTP: no certificate to match"
    assert alb["customOriginConfig"]["originSslProtocols"] == ["TLSv1.2"]
    assert alb["customHeaders"] == [{"name": "X-Origin-Verify", "value": "[secret]"}]
    shield = alb.get("originShield")
    assert (shield == {"enabled": True, "originShieldRegion": "us-east-1"}) if edge.stack == "prod" else shield is None
    assert_never_in_clear(edge, random_password_value(SECRET_NAME, SECRET_LENGTH))


def test_alb_origin_protocol_is_what_the_alb_listens_to(edge: Capture) -> None:
    """Prod's ALB has an HTTPS listener: https-only. Dev's has no certificate, so only an
    HTTP listener on 80: an https-only origin would fail every request there."""
    alb = next(o for o in edge.one(DIST).inputs["origins"] if o["originId"] == "alb")
    policy = alb["customOriginConfig"]["originProtocolPolicy"]
    assert policy == {"prod": "https-only", "dev": "http-only"}[edge.stack]
    port, protocol = (443, "HTTPS") if policy == "https-only" else (80, "HTTP")
    listeners = {r.inputs["port"]: r.inputs["protocol"] for r in edge.by_type("aws:lb/listener:Listener")}
    assert listeners[port] == protocol
    ingress = {r.inputs["fromPort"] for r in edge.by_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") if r.name.startswith("alb-ingress-")}
    assert ingress == {port}


def test_static_assets_cached_long_with_compression_api_not_cached(edge: Capture) -> None:
    dist = edge.one(DIST).inputs
    policies = {p.id: p.inputs for p in edge.by_type("aws:cloudfront/cachePolicy:CachePolicy")}
    by_path = {b.get("pathPattern", "default"): b for b in behaviors(dist)}
    static = policies[by_path["/static/*"]["cachePolicyId"]]
    assert static["defaultTtl"] >= 86400 and static["maxTtl"] == 31536000
    keys = static["parametersInCacheKeyAndForwardedToOrigin"]
    assert keys["enableAcceptEncodingGzip"] is True and keys["enableAcceptEncodingBrotli"] is True
    for path in ("/api/*", "default"):
        api = policies[by_path[path]["cachePolicyId"]]
        assert (api["defaultTtl"], api["maxTtl"], api["minTtl"]) == (0, 0, 0)
        assert by_path[path]["originRequestPolicyId"] == edge.one("aws:cloudfront/originRequestPolicy:OriginRequestPolicy").id
    assert set(by_path["/api/*"]["allowedMethods"]) >= {"POST", "PUT", "DELETE"}
    static_origin = next(o for o in dist["origins"] if o["originId"] == "static-assets")
    assert static_origin["originAccessControlId"] == edge.one("aws:cloudfront/originAccessControl:OriginAccessControl").id
    hsts = edge.one("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy").inputs["securityHeadersConfig"]["strictTransportSecurity"]
    assert hsts["accessControlMaxAgeSec"] >= 31536000 and hsts["includeSubdomains"] is True
    assert all(b["responseHeadersPolicyId"] for b in behaviors(dist))


def test_waf_is_global_with_a_rate_limit(edge: Capture) -> None:
    waf = edge.one(WAF, "cdn-waf")
    assert waf.inputs["scope"] == "CLOUDFRONT"
    global_provider = edge.one("pulumi:providers:aws", "aws-global")
    assert global_provider.inputs["region"] == "us-east-1" and waf.provider.startswith(global_provider.urn + "::")
    rate = next(r for r in waf.inputs["rules"] if "rateBasedStatement" in r["statement"])
    assert rate["action"] == {"block": {}}
    assert rate["statement"]["rateBasedStatement"] == {"limit": 2000, "evaluationWindowSec": 300, "aggregateKeyType": "IP"}
    assert edge.one(DIST).inputs["webAclId"].startswith("arn:aws:wafv2:us-east-1:123456789012:global/webacl/")


def test_access_logs_go_to_a_private_encrypted_bucket_cloudfront_can_write(edge: Capture) -> None:
    logging = edge.one(DIST).inputs["loggingConfig"]
    bucket = edge.find("cdn-logs")
    assert logging["bucket"] == f"{bucket.id}.s3.amazonaws.com" and logging["includeCookies"] is False
    controls = {r.name: r.inputs for r in edge.by_type("aws:s3/bucketOwnershipControls:BucketOwnershipControls")}
    assert controls["cdn-logs"]["rule"] == {"objectOwnership": "BucketOwnerPreferred"}, "standard logging writes with an ACL"
    assert controls["cdn-static"]["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    blocks = [r.inputs for r in edge.by_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock") if r.name.startswith("cdn-")]
    assert len(blocks) == 2 and all(b["blockPublicAcls"] and b["blockPublicPolicy"] and b["ignorePublicAcls"] and b["restrictPublicBuckets"] for b in blocks)
    sse = [
        r.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"]
        for r in edge.by_type("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
        if r.name.startswith("cdn-")
    ]
    assert sse == ["AES256", "AES256"]


def test_component_alone_with_a_secondary_origin_fails_over() -> None:
    def program() -> None:
        cfg = load_from_pulumi()
        settings = cfg.cdn.model_copy(update={"secondary_origin_domain": "standby.mortgagematchpro.com", "logging": False, "static_assets": False})
        secret = random.RandomPassword("solo-secret", length=32, special=False)
        Cdn(
            "solo",
            CdnArgs(
                settings=settings,
                origin_domain="origin.example.com",
                origin_verify_secret=secret.result,
                origin_shield_region="us-east-1",
                global_provider=make_providers(cfg).global_,
            ),
        )

    capture = run_stack(REPO_ROOT, "dev", program)
    dist = capture.one(DIST).inputs
    assert dist["originGroups"] == [
        {"originId": "app-failover", "failoverCriteria": {"statusCodes": [500, 502, 503, 504]}, "members": [{"originId": "alb"}, {"originId": "secondary"}]}
    ]
    assert dist["defaultCacheBehavior"]["targetOriginId"] == "app-failover"
    assert set(dist["defaultCacheBehavior"]["allowedMethods"]) == {"GET", "HEAD", "OPTIONS"}, "origin groups serve reads only"
    assert [b["targetOriginId"] for b in dist["orderedCacheBehaviors"]] == ["alb"]
    assert "loggingConfig" not in dist and not capture.by_type("aws:s3/bucket:Bucket")
    assert all(o["customHeaders"] == [{"name": "X-Origin-Verify", "value": "[secret]"}] for o in dist["origins"])
    assert_never_in_clear(capture, random_password_value("solo-secret", 32))


@pytest.mark.parametrize(
    ("section", "key", "message"),
    [
        ({"price_class": "PriceClass_50"}, "cdn.price_class", "must be one of 'PriceClass_100', 'PriceClass_200' or 'PriceClass_All', got 'PriceClass_50'"),
        ({"certificate_arn": CERT.replace("us-east-1", "eu-west-1")}, "cdn.certificate_arn", "must be an ACM certificate ARN in us-east-1"),
        ({"certificate_arn": "arn:aws:iam::123456789012:server-certificate/www"}, "cdn.certificate_arn", "must be an ACM certificate ARN in us-east-1"),
        ({"aliases": ["www.example.com"]}, "cdn.certificate_arn", "must be set when aliases are given (www.example.com), got nothing"),
        ({"aliases": ["WWW example"], "certificate_arn": CERT}, "cdn.aliases", "must be lower-case DNS names"),
        ({"minimum_protocol_version": "TLSv1"}, "cdn.minimum_protocol_version", "got 'TLSv1'"),
        ({"waf_rate_limit": 5}, "cdn.waf_rate_limit", "must be >= 10, got 5"),
        ({"static_ttl_s": 0}, "cdn.static_ttl_s", "must be >= 1, got 0"),
        ({"origin_domain_name": "origin example"}, "cdn.origin_domain_name", "must be a DNS name like origin.example.com"),
        ({"origin_hosted_zone_id": "Z123"}, "cdn.origin_domain_name", "must be set with origin_hosted_zone_id"),
        ({"origin_domain_name": "o.example.com", "origin_hosted_zone_id": "zone-1"}, "cdn.origin_hosted_zone_id", "must be a Route 53 hosted zone id"),
    ],
)
def test_bad_cdn_input_is_one_line(section: dict, key: str, message: str) -> None:
    error = config_error("prod", "implementation", cdn=section)
    assert error.startswith(f"Pulumi.prod.yaml: mortgagematch-scaling:{key}: ")
    assert message in error


def test_cache_hit_rate_panel_only_with_the_metrics_subscription(dev: Capture, prod: Capture) -> None:
    """CloudFront publishes CacheHitRate only with the (billed) additional-metrics subscription."""
    import json

    for capture, subscribed in ((prod, True), (dev, False)):
        subscriptions = capture.by_type("aws:cloudfront/monitoringSubscription:MonitoringSubscription")
        assert len(subscriptions) == int(subscribed)
        if subscribed:
            assert subscriptions[0].inputs["distributionId"] == capture.one(DIST).id
            config = subscriptions[0].inputs["monitoringSubscription"]["realtimeMetricsSubscriptionConfig"]
            assert config == {"realtimeMetricsSubscriptionStatus": "Enabled"}
        body = json.dumps(json.loads(capture.one("aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"]))
        assert ('"AWS/CloudFront", "CacheHitRate"' in body) is subscribed


def test_https_alb_behind_cloudfront_needs_an_origin_name_on_its_certificate() -> None:
    web = {"certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/8f6d1c2e-4b7a-4e0f-9c51-2d3a7b9e0f14"}
    error = config_error("prod", "implementation", web=web, cdn={})
    assert error == (
        "Pulumi.prod.yaml: mortgagematch-scaling:cdn.origin_domain_name: must be set when CloudFront fronts the HTTPS ALB: "
        "a name on the ALB's certificate that resolves to the ALB, got nothing"
    )
