"""Web tier wiring: the CDN origin secret, the ALB (with its ingress) and the web Auto
Scaling group with the policies the phase switches on."""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_aws as aws
import pulumi_random

from components.load_balancer import LoadBalancer, LoadBalancerArgs
from components.naming import child
from components.security_groups import allow_from_groups, allow_to_group
from infra.platform import Platform
from infra.wiring.groups import build_group, watch_group
from scalestack import capacity

CLOUDFRONT_PREFIX_LIST = "com.amazonaws.global.cloudfront.origin-facing"
# A rule that references the CloudFront prefix list counts as 55 of the 60 inbound rules a
# security group may hold by default: one such rule fits, a second one is rejected by EC2.
CLOUDFRONT_PREFIX_LIST_WEIGHT = 55
SG_INBOUND_RULES_QUOTA = 60
HTTP_ONLY_WARNING = "web: no certificate_arn configured; the ALB serves plain HTTP only (set web.certificate_arn to enable HTTPS)"


def wire(platform: Platform) -> None:
    config = platform.config
    if config.compute.platform != "asg":
        return  # on EKS the AWS Load Balancer Controller's Ingress serves traffic
    origin_secret: Optional[pulumi_random.RandomPassword] = None
    if config.cdn.enabled:
        # CloudFront adds this header to origin requests; the ALB refuses requests without it.
        origin_secret = pulumi_random.RandomPassword("cdn-origin-secret", length=48, special=False, opts=platform.opts())
        platform.components["cdn_origin_secret"] = origin_secret
    lb = _load_balancer(platform, origin_secret)
    web = config.web
    model = capacity.web_capacity(config.load, web.instance_type, config.network.az_count, config.is_prod)
    lb_alarms = platform.components["monitoring"].alb(lb, "alb", lb_arn_suffix=lb.arn_suffix, tg_arn_suffix=lb.target_group.arn_suffix)
    request_target = capacity.per_instance_rps(config.load, web.instance_type) * web.scaling.request_target_utilization_pct / 100
    group = build_group(
        platform,
        "web",
        web,
        model,
        target_group_arns=[lb.target_group.arn],
        request_target=request_target,
        request_label=pulumi.Output.all(lb.arn_suffix, lb.target_group.arn_suffix).apply(lambda s: f"{s[0]}/{s[1]}"),
        rollback_alarm_names=lb_alarms.rollback_alarm_names,
    )
    watch_group(platform, group, "web", web, model)
    platform.components["web"] = group
    platform.outputs["web_asg_name"] = group.group.name


def _load_balancer(platform: Platform, origin_secret: Optional[pulumi_random.RandomPassword]) -> LoadBalancer:
    config, web, security = platform.config, platform.config.web, platform.security
    https = web.certificate_arn is not None
    lb = LoadBalancer(
        "alb",
        LoadBalancerArgs(
            vpc_id=platform.network.vpc_id,
            subnet_ids=platform.network.public_subnet_ids,
            security_group_id=security.group_id("alb"),
            region=config.region,
            app_port=web.app_port,
            health_check_path=web.health_check_path,
            certificate_arn=web.certificate_arn,
            ssl_policy=web.ssl_policy,
            deletion_protection=web.deletion_protection if web.deletion_protection is not None else config.is_prod,
            idle_timeout_s=web.idle_timeout_s,
            deregistration_delay_s=web.deregistration_delay_s,
            slow_start_s=web.slow_start_s,
            access_log_retention_days=web.access_log_retention_days,
            waf_enabled=web.waf.enabled,
            waf_rate_limit=web.waf.rate_limit,
            waf_rate_window_s=web.waf.rate_window_s,
            waf_common_rule_set=web.waf.common_rule_set,
            origin_verify_value=pulumi.Output.secret(origin_secret.result) if origin_secret is not None else None,
        ),
        opts=platform.opts(),
    )
    _alb_ingress(platform, lb, https)
    allow_from_groups(lb, "web-ingress", security.group_id("web"), web.app_port, {"alb": security.group_id("alb")})
    allow_to_group(lb, "alb-egress-to-web", security.group_id("alb"), web.app_port, security.group_id("web"))
    platform.components["alb"] = lb
    platform.outputs["alb_dns_name"] = lb.dns_name
    platform.outputs["web_scheme"] = "https" if https else "http"
    if not https:
        pulumi.log.warn(HTTP_ONLY_WARNING)
    return lb


def _alb_ingress(platform: Platform, lb: LoadBalancer, https: bool) -> None:
    """Listener ports from the internet, or, when the CDN is on, only the one port CloudFront
    reaches the origin on (443 with a certificate, else 80) from CloudFront's edge."""
    alb_sg = platform.security.group_id("alb")
    sources: dict[str, dict[str, pulumi.Input[str]]]
    if platform.config.cdn.enabled:
        prefix_list = aws.ec2.get_managed_prefix_list_output(name=CLOUDFRONT_PREFIX_LIST, opts=pulumi.InvokeOutputOptions(parent=lb))
        sources = {"cloudfront": {"prefix_list_id": prefix_list.id}}
        ports: tuple[int, ...] = (443,) if https else (80,)
    else:
        sources = {"ipv4": {"cidr_ipv4": "0.0.0.0/0"}, "ipv6": {"cidr_ipv6": "::/0"}}
        ports = (443, 80) if https else (80,)
    for port in ports:
        for label, source in sources.items():
            aws.vpc.SecurityGroupIngressRule(
                f"alb-ingress-{port}-{label}",
                security_group_id=alb_sg,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                description=f"{label} to the ALB on {port}",
                opts=child(lb),
                **source,  # type: ignore[arg-type]
            )
