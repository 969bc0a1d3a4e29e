"""Load balancer: a public ALB with its target group, listeners (HTTPS with a TLS 1.3
policy, HTTP redirecting to it), access logs in a private encrypted bucket, and a WAF
web ACL with a per-IP rate limit and the AWS common rule set.

Behind CloudFront the ALB only answers requests carrying the origin-verify header the
distribution adds: anything else (someone who found the ALB's DNS name) gets a 403."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Optional

import pulumi
import pulumi_aws as aws

from components.naming import child, token

# Accounts ELB writes access logs from in regions that predate the log-delivery service principal.
ELB_LOG_ACCOUNTS = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-central-1": "054676820928",
}
LOG_PREFIX = "alb"


@dataclass(frozen=True)
class LoadBalancerArgs:
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    security_group_id: pulumi.Input[str]
    region: str
    app_port: int = 8080
    health_check_path: str = "/healthz"
    certificate_arn: Optional[str] = None
    ssl_policy: str = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    deletion_protection: bool = True
    idle_timeout_s: int = 60
    deregistration_delay_s: int = 30
    slow_start_s: int = 60
    access_log_retention_days: int = 90
    waf_enabled: bool = True
    waf_rate_limit: int = 2000
    waf_rate_window_s: int = 300
    waf_common_rule_set: bool = True
    origin_verify_header_name: str = "X-Origin-Verify"
    origin_verify_value: Optional[pulumi.Input[str]] = None


def _visibility(metric: str) -> dict[str, Any]:
    return {"cloudwatch_metrics_enabled": True, "metric_name": metric, "sampled_requests_enabled": True}


def log_delivery_policy(bucket_arn: str, account_id: str, region: str) -> str:
    """The bucket policy ELB access-log delivery needs, plus TLS-only access."""
    principal = (
        {"AWS": f"arn:aws:iam::{ELB_LOG_ACCOUNTS[region]}:root"}
        if region in ELB_LOG_ACCOUNTS
        else {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
    )
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ElbLogDelivery",
                    "Effect": "Allow",
                    "Principal": principal,
                    "Action": "s3:PutObject",
                    "Resource": f"{bucket_arn}/{LOG_PREFIX}/AWSLogs/{account_id}/*",
                },
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket_arn, f"{bucket_arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
            ],
        }
    )


class LoadBalancer(pulumi.ComponentResource):
    lb: aws.lb.LoadBalancer
    target_group: aws.lb.TargetGroup
    https_listener: Optional[aws.lb.Listener]
    http_listener: aws.lb.Listener
    web_acl: Optional[aws.wafv2.WebAcl]

    def __init__(self, name: str, args: LoadBalancerArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(token("web", "LoadBalancer"), name, None, opts)
        self.log_bucket, log_policy = self._access_log_bucket(name, args)
        self.lb = aws.lb.LoadBalancer(
            f"{name}-lb",
            load_balancer_type="application",
            internal=False,
            subnets=list(args.subnet_ids),
            security_groups=[args.security_group_id],
            enable_deletion_protection=args.deletion_protection,
            drop_invalid_header_fields=True,
            enable_http2=True,
            desync_mitigation_mode="defensive",
            idle_timeout=args.idle_timeout_s,
            access_logs={"bucket": self.log_bucket.bucket, "prefix": LOG_PREFIX, "enabled": True},
            opts=child(self, depends_on=[log_policy]),
        )
        self.arn_suffix = self.lb.arn_suffix
        self.dns_name = self.lb.dns_name
        self.zone_id = self.lb.zone_id
        self.target_group = aws.lb.TargetGroup(
            f"{name}-tg",
            vpc_id=args.vpc_id,
            port=args.app_port,
            protocol="HTTP",
            target_type="instance",
            deregistration_delay=args.deregistration_delay_s,
            slow_start=args.slow_start_s,
            health_check={
                "enabled": True,
                "path": args.health_check_path,
                "protocol": "HTTP",
                "matcher": "200-399",
                "interval": 15,
                "timeout": 5,
                "healthy_threshold": 2,
                "unhealthy_threshold": 3,
            },
            opts=child(self),
        )
        self.https_listener = None
        serving: aws.lb.Listener
        if args.certificate_arn:
            self.https_listener = serving = aws.lb.Listener(
                f"{name}-https",
                load_balancer_arn=self.lb.arn,
                port=443,
                protocol="HTTPS",
                ssl_policy=args.ssl_policy,
                certificate_arn=args.certificate_arn,
                default_actions=[self._default_action(args)],
                opts=child(self),
            )
            redirect = {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "status_code": "HTTP_301"}}
            self.http_listener = aws.lb.Listener(
                f"{name}-http", load_balancer_arn=self.lb.arn, port=80, protocol="HTTP", default_actions=[redirect], opts=child(self)
            )
        else:
            self.http_listener = serving = aws.lb.Listener(
                f"{name}-http", load_balancer_arn=self.lb.arn, port=80, protocol="HTTP", default_actions=[self._default_action(args)], opts=child(self)
            )
        self.origin_rule: Optional[aws.lb.ListenerRule] = None
        if args.origin_verify_value is not None:
            self.origin_rule = aws.lb.ListenerRule(
                f"{name}-origin-verified",
                listener_arn=serving.arn,
                priority=1,
                conditions=[{"http_header": {"http_header_name": args.origin_verify_header_name, "values": [args.origin_verify_value]}}],
                actions=[{"type": "forward", "target_group_arn": self.target_group.arn}],
                opts=child(self),
            )
        self.web_acl = self._waf(name, args) if args.waf_enabled else None
        outputs: dict[str, Any] = {"arn": self.lb.arn, "dns_name": self.dns_name, "target_group_arn": self.target_group.arn}
        if self.web_acl is not None:
            outputs["web_acl_arn"] = self.web_acl.arn
        self.register_outputs(outputs)

    def _default_action(self, args: LoadBalancerArgs) -> dict[str, Any]:
        """Forward, unless the origin must be verified: then only the header rule forwards."""
        if args.origin_verify_value is None:
            return {"type": "forward", "target_group_arn": self.target_group.arn}
        return {"type": "fixed-response", "fixed_response": {"content_type": "text/plain", "message_body": "Forbidden", "status_code": "403"}}

    def _access_log_bucket(self, name: str, args: LoadBalancerArgs) -> tuple[aws.s3.Bucket, aws.s3.BucketPolicy]:
        bucket = aws.s3.Bucket(f"{name}-logs", force_destroy=False, opts=child(self))
        block = aws.s3.BucketPublicAccessBlock(
            f"{name}-logs-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child(self),
        )
        aws.s3.BucketOwnershipControls(f"{name}-logs-ownership", bucket=bucket.id, rule={"object_ownership": "BucketOwnerEnforced"}, opts=child(self))
        # ELB log delivery supports SSE-S3 only (not SSE-KMS).
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-logs-encryption",
            bucket=bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}, "bucket_key_enabled": True}],
            opts=child(self),
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-logs-lifecycle",
            bucket=bucket.id,
            rules=[
                {
                    "id": "expire-access-logs",
                    "status": "Enabled",
                    "filter": {"prefix": f"{LOG_PREFIX}/"},
                    "expiration": {"days": args.access_log_retention_days},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
                }
            ],
            opts=child(self),
        )
        account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        policy = aws.s3.BucketPolicy(
            f"{name}-logs-policy",
            bucket=bucket.id,
            policy=pulumi.Output.all(bucket.arn, account).apply(lambda a: log_delivery_policy(a[0], a[1], args.region)),
            opts=child(self, depends_on=[block]),
        )
        return bucket, policy

    def _waf(self, name: str, args: LoadBalancerArgs) -> aws.wafv2.WebAcl:
        metric = name.replace("-", "")
        rules: list[Any] = [
            {
                "name": "rate-limit-per-ip",
                "priority": 1,
                "action": {"block": {}},
                "statement": {
                    "rate_based_statement": {"limit": args.waf_rate_limit, "aggregate_key_type": "IP", "evaluation_window_sec": args.waf_rate_window_s}
                },
                "visibility_config": _visibility(f"{metric}RateLimit"),
            }
        ]
        if args.waf_common_rule_set:
            rules.append(
                {
                    "name": "aws-common-rule-set",
                    "priority": 2,
                    "override_action": {"none": {}},
                    "statement": {"managed_rule_group_statement": {"vendor_name": "AWS", "name": "AWSManagedRulesCommonRuleSet"}},
                    "visibility_config": _visibility(f"{metric}CommonRuleSet"),
                }
            )
        acl = aws.wafv2.WebAcl(
            f"{name}-waf",
            scope="REGIONAL",
            description="Rate limiting and the AWS common rule set for the web ALB",
            default_action={"allow": {}},
            rules=rules,
            visibility_config=_visibility(f"{metric}WebAcl"),
            opts=child(self),
        )
        aws.wafv2.WebAclAssociation(f"{name}-waf-association", resource_arn=self.lb.arn, web_acl_arn=acl.arn, opts=child(self))
        return acl
