"""CloudFront in front of the ALB: the edge caches static assets (long TTL, gzip and
brotli), passes the API through uncached, speaks HTTP/2 and HTTP/3 over IPv4 and IPv6,
adds security headers, and is guarded by a WAF web ACL with a rate limit.

The ALB only accepts requests that carry the ``X-Origin-Verify`` header with a generated
secret (checked by an ALB listener rule that the web tier owns), so viewers can't bypass
the edge. The secret travels only as a Pulumi secret output."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal, Optional

import pulumi
import pulumi_aws as aws

from components.naming import child, token
from infra.config.sections.cdn import Cdn as CdnSettings

ORIGIN_VERIFY_HEADER = "X-Origin-Verify"
FAILOVER_STATUS_CODES = [500, 502, 503, 504]
ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
READ_METHODS = ["GET", "HEAD", "OPTIONS"]
ALB_ORIGIN, SECONDARY_ORIGIN, STATIC_ORIGIN, APP_GROUP = "alb", "secondary", "static-assets", "app-failover"
ONE_YEAR = 31536000


@dataclass
class CdnArgs:
    settings: CdnSettings
    origin_domain: pulumi.Input[str]  # the ALB's DNS name
    origin_verify_secret: pulumi.Input[str]  # a secret output (RandomPassword.result)
    origin_shield_region: str
    global_provider: aws.Provider  # us-east-1: WAF for CloudFront lives there
    # What the ALB listens to: without a certificate it has no HTTPS listener, and an
    # https-only origin would fail every request (dev; the policy pack flags it there).
    origin_protocol_policy: Literal["https-only", "http-only"] = "https-only"
    tags: dict[str, str] = field(default_factory=dict)


def _private_bucket(parent: pulumi.Resource, name: str, object_writer_acls: bool = False) -> aws.s3.Bucket:
    """A bucket with every public-access block on and SSE-S3. CloudFront standard logging
    writes with an ACL, so the log bucket keeps ACLs (BucketOwnerPreferred) and SSE-S3 (it
    can't write to SSE-KMS buckets); other buckets disable ACLs (BucketOwnerEnforced)."""
    bucket = aws.s3.Bucket(name, force_destroy=False, opts=child(parent))
    aws.s3.BucketPublicAccessBlock(
        name, bucket=bucket.id, block_public_acls=True, block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True, opts=child(parent)
    )
    aws.s3.BucketOwnershipControls(
        name, bucket=bucket.id, rule={"object_ownership": "BucketOwnerPreferred" if object_writer_acls else "BucketOwnerEnforced"}, opts=child(parent)
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        name, bucket=bucket.id, rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}, "bucket_key_enabled": True}], opts=child(parent)
    )
    return bucket


def _visibility(metric: str) -> dict[str, Any]:
    return {"cloudwatch_metrics_enabled": True, "metric_name": metric, "sampled_requests_enabled": True}


class Cdn(pulumi.ComponentResource):
    distribution: aws.cloudfront.Distribution
    web_acl: aws.wafv2.WebAcl

    def __init__(self, name: str, args: CdnArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(token("edge", "Cdn"), name, None, opts)
        s = args.settings
        static_policy, api_policy, forward_policy, headers_policy = self._policies(name, s)
        self.web_acl = self._web_acl(name, s, args.global_provider)
        self.log_bucket = self._log_bucket(name, s) if s.logging else None
        self.static_bucket = _private_bucket(self, f"{name}-static") if s.static_assets else None
        oac = (
            aws.cloudfront.OriginAccessControl(
                f"{name}-static-oac",
                description="CloudFront reads the static-assets bucket (SigV4)",
                origin_access_control_origin_type="s3",
                signing_behavior="always",
                signing_protocol="sigv4",
                opts=child(self),
            )
            if self.static_bucket
            else None
        )
        origins = [self._app_origin(ALB_ORIGIN, args.origin_domain, args, args.origin_protocol_policy)]
        origin_groups = []
        app_target = ALB_ORIGIN
        if s.secondary_origin_domain:
            origins.append(self._app_origin(SECONDARY_ORIGIN, s.secondary_origin_domain, args))
            origin_groups.append(
                {
                    "origin_id": APP_GROUP,
                    "failover_criteria": {"status_codes": FAILOVER_STATUS_CODES},
                    "members": [{"origin_id": ALB_ORIGIN}, {"origin_id": SECONDARY_ORIGIN}],
                }
            )
            app_target = APP_GROUP  # origin groups serve GET/HEAD/OPTIONS only; the API goes to the ALB

        def app_behavior(target: str, methods: list[str]) -> dict[str, Any]:
            """Dynamic pages and the API: not cached, the app's headers forwarded."""
            return {
                "target_origin_id": target,
                "allowed_methods": methods,
                "cached_methods": ["GET", "HEAD"],
                "viewer_protocol_policy": "redirect-to-https",
                "compress": True,
                "cache_policy_id": api_policy.id,
                "origin_request_policy_id": forward_policy.id,
                "response_headers_policy_id": headers_policy.id,
            }

        behaviors: list[dict[str, Any]] = [{"path_pattern": s.api_path_pattern, **app_behavior(ALB_ORIGIN, ALL_METHODS)}]
        if self.static_bucket and oac:
            origins.append({"origin_id": STATIC_ORIGIN, "domain_name": self.static_bucket.bucket_regional_domain_name, "origin_access_control_id": oac.id})
            behaviors.insert(
                0,
                {
                    "path_pattern": s.static_path_pattern,
                    "target_origin_id": STATIC_ORIGIN,
                    "allowed_methods": ["GET", "HEAD"],
                    "cached_methods": ["GET", "HEAD"],
                    "viewer_protocol_policy": "redirect-to-https",
                    "compress": True,
                    "cache_policy_id": static_policy.id,
                    "response_headers_policy_id": headers_policy.id,
                },
            )
        self.distribution = aws.cloudfront.Distribution(
            f"{name}-distribution",
            enabled=True,
            comment="MortgageMatchPro edge",
            aliases=s.aliases or None,
            http_version="http2and3",
            is_ipv6_enabled=True,
            price_class=s.price_class,
            web_acl_id=self.web_acl.arn,
            origins=origins,
            origin_groups=origin_groups or None,
            default_cache_behavior=app_behavior(app_target, ALL_METHODS if app_target == ALB_ORIGIN else READ_METHODS),
            ordered_cache_behaviors=behaviors,
            viewer_certificate=self._viewer_certificate(s),
            restrictions={"geo_restriction": {"restriction_type": "none"}},
            logging_config={"bucket": self.log_bucket.bucket_domain_name, "include_cookies": False, "prefix": "cloudfront/"} if self.log_bucket else None,
            tags={**args.tags, "Name": f"{name}-distribution"},
            opts=child(self),
        )
        if self.static_bucket:
            self._static_bucket_policy(name, self.static_bucket, self.distribution)
        self.additional_metrics = s.additional_metrics
        if s.additional_metrics:
            # Cache hit rate and origin latency are published only with this (billed) subscription.
            aws.cloudfront.MonitoringSubscription(
                f"{name}-metrics",
                distribution_id=self.distribution.id,
                monitoring_subscription={"realtime_metrics_subscription_config": {"realtime_metrics_subscription_status": "Enabled"}},
                opts=child(self),
            )
        self.domain_name = self.distribution.domain_name
        self.hosted_zone_id = self.distribution.hosted_zone_id
        self.register_outputs({"domain_name": self.domain_name, "distribution_id": self.distribution.id, "web_acl_arn": self.web_acl.arn})

    def _app_origin(self, origin_id: str, domain: pulumi.Input[str], args: CdnArgs, protocol: str = "https-only") -> dict[str, Any]:
        """An app origin (https-only TLS 1.2 unless it has no HTTPS listener) that carries the origin-verify secret."""
        origin: dict[str, Any] = {
            "origin_id": origin_id,
            "domain_name": domain,
            "custom_origin_config": {
                "http_port": 80,
                "https_port": 443,
                "origin_protocol_policy": protocol,
                "origin_ssl_protocols": ["TLSv1.2"],
                "origin_keepalive_timeout": 60,
                "origin_read_timeout": 30,
            },
            "custom_headers": [{"name": ORIGIN_VERIFY_HEADER, "value": pulumi.Output.secret(args.origin_verify_secret)}],
        }
        if args.settings.origin_shield:
            origin["origin_shield"] = {"enabled": True, "origin_shield_region": args.origin_shield_region}
        return origin

    @staticmethod
    def _viewer_certificate(s: CdnSettings) -> dict[str, Any]:
        if s.certificate_arn is None:
            return {"cloudfront_default_certificate": True}
        return {"acm_certificate_arn": s.certificate_arn, "ssl_support_method": "sni-only", "minimum_protocol_version": s.minimum_protocol_version}

    def _policies(
        self, name: str, s: CdnSettings
    ) -> tuple[aws.cloudfront.CachePolicy, aws.cloudfront.CachePolicy, aws.cloudfront.OriginRequestPolicy, aws.cloudfront.ResponseHeadersPolicy]:
        none = {
            "cookies_config": {"cookie_behavior": "none"},
            "headers_config": {"header_behavior": "none"},
            "query_strings_config": {"query_string_behavior": "none"},
        }
        static = aws.cloudfront.CachePolicy(
            f"{name}-static",
            comment="Static assets: long TTL, compressed (gzip and brotli)",
            min_ttl=1,
            default_ttl=s.static_ttl_s,
            max_ttl=ONE_YEAR,
            parameters_in_cache_key_and_forwarded_to_origin={**none, "enable_accept_encoding_gzip": True, "enable_accept_encoding_brotli": True},
            opts=child(self),
        )
        api = aws.cloudfront.CachePolicy(
            f"{name}-no-cache",
            comment="API and pages: never cached at the edge",
            min_ttl=0,
            default_ttl=0,
            max_ttl=0,
            parameters_in_cache_key_and_forwarded_to_origin={**none, "enable_accept_encoding_gzip": False, "enable_accept_encoding_brotli": False},
            opts=child(self),
        )
        forward = aws.cloudfront.OriginRequestPolicy(
            f"{name}-forward",
            comment="Forward what the app needs: cookies, query strings, viewer headers except Host",
            cookies_config={"cookie_behavior": "all"},
            query_strings_config={"query_string_behavior": "all"},
            headers_config={"header_behavior": "allExcept", "headers": {"items": ["Host"]}},
            opts=child(self),
        )
        headers = aws.cloudfront.ResponseHeadersPolicy(
            f"{name}-security-headers",
            comment="HSTS, no sniffing, no framing, strict referrer",
            security_headers_config={
                "strict_transport_security": {"access_control_max_age_sec": 2 * ONE_YEAR, "include_subdomains": True, "preload": True, "override": True},
                "content_type_options": {"override": True},
                "frame_options": {"frame_option": "DENY", "override": True},
                "referrer_policy": {"referrer_policy": "strict-origin-when-cross-origin", "override": True},
                "xss_protection": {"protection": True, "mode_block": True, "override": True},
            },
            opts=child(self),
        )
        return static, api, forward, headers

    def _web_acl(self, name: str, s: CdnSettings, provider: aws.Provider) -> aws.wafv2.WebAcl:
        metric = name.replace("-", "")
        return aws.wafv2.WebAcl(
            f"{name}-waf",
            scope="CLOUDFRONT",
            description="MortgageMatchPro edge: per-IP rate limit and AWS common rules",
            default_action={"allow": {}},
            rules=[
                {
                    "name": "rate-limit-per-ip",
                    "priority": 0,
                    "action": {"block": {}},
                    "statement": {
                        "rate_based_statement": {"limit": s.waf_rate_limit, "evaluation_window_sec": s.waf_rate_window_s, "aggregate_key_type": "IP"}
                    },
                    "visibility_config": _visibility(f"{metric}RateLimit"),
                },
                {
                    "name": "aws-common-rules",
                    "priority": 1,
                    "override_action": {"none": {}},
                    "statement": {"managed_rule_group_statement": {"vendor_name": "AWS", "name": "AWSManagedRulesCommonRuleSet"}},
                    "visibility_config": _visibility(f"{metric}Common"),
                },
            ],
            visibility_config=_visibility(f"{metric}WebAcl"),
            opts=child(self, provider=provider),
        )

    def _log_bucket(self, name: str, s: CdnSettings) -> aws.s3.Bucket:
        bucket = _private_bucket(self, f"{name}-logs", object_writer_acls=True)
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-logs",
            bucket=bucket.id,
            rules=[{"id": "expire-access-logs", "status": "Enabled", "filter": {"prefix": "cloudfront/"}, "expiration": {"days": s.log_retention_days}}],
            opts=child(self),
        )
        return bucket

    def _static_bucket_policy(self, name: str, bucket: aws.s3.Bucket, distribution: aws.cloudfront.Distribution) -> None:
        """Only this distribution (through its OAC) may read the static assets."""
        policy = pulumi.Output.all(bucket.arn, distribution.arn).apply(
            lambda a: json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "CloudFrontReadsThroughOAC",
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudfront.amazonaws.com"},
                            "Action": "s3:GetObject",
                            "Resource": f"{a[0]}/*",
                            "Condition": {"StringEquals": {"AWS:SourceArn": a[1]}},
                        },
                        {
                            "Sid": "DenyInsecureTransport",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": [a[0], f"{a[0]}/*"],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        },
                    ],
                }
            )
        )
        aws.s3.BucketPolicy(f"{name}-static", bucket=bucket.id, policy=policy, opts=child(self))
