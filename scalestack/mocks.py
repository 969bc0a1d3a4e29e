"""Realistic answers for the mock runtime: the ids, ARNs, DNS names and data-source
results the real AWS provider would return, so ``apply`` callbacks and policies see
values of the right shape. Deterministic: the same stack gives the same plan."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any, Optional

import pulumi

from scalestack import catalog

ACCOUNT_ID = "123456789012"
GLOBAL_PROVIDER_MARKER = "aws-global"
# ELB hosted zone ids per region (used for alias records).
ELB_ZONE_IDS = {
    "us-east-1": "Z35SXDOTRQ7X7K",
    "us-east-2": "Z3AADJGX6KTTL2",
    "us-west-2": "Z1H1FL5HABSF5",
    "eu-west-1": "Z32O12XQLNTSW2",
    "eu-central-1": "Z215JYRZR1TBD5",
    "eu-west-2": "ZHURV8PSTC4K8",
}
CLOUDFRONT_ZONE_ID = "Z2FDTNDATAQYW2"
# Managed CloudFront origin-facing prefix list ids.
CLOUDFRONT_PREFIX_LISTS = {
    "us-east-1": "pl-3b927c52",
    "us-east-2": "pl-b6a144df",
    "us-west-2": "pl-82a045eb",
    "eu-west-1": "pl-4fa04526",
    "eu-central-1": "pl-a3a144ca",
    "eu-west-2": "pl-93a247fa",
}
# Ids of AWS-managed CloudFront policies (identical in every account).
CLOUDFRONT_MANAGED_POLICIES = {
    "Managed-CachingOptimized": "658327ea-f89d-4fab-a63d-7e88639e58f6",
    "Managed-CachingDisabled": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
    "Managed-AllViewerExceptHostHeader": "b689b0a8-53d0-40ab-baf2-68738e2966ac",
    "Managed-AllViewer": "216adef6-5c7f-47e4-b989-5492eafa07d3",
    "Managed-SecurityHeadersPolicy": "67f7725c-6f97-4210-82d7-5512b31e9d03",
}


def _hex(seed: str, n: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:n]


def _uuid(seed: str) -> str:
    h = _hex(seed, 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def random_password_value(name: str, length: int) -> str:
    """The ``result`` the mocks give a ``random.RandomPassword`` (tests look for leaks of it)."""
    return (_hex("pw" + name, 64) * (length // 64 + 1))[:length]


def physical_name(name: str, inputs: dict[str, Any], key: str = "name") -> str:
    """What Pulumi auto-naming would produce: the logical name plus a random suffix."""
    given = inputs.get(key)
    return given if isinstance(given, str) and given else f"{name}-{_hex('name' + name, 7)}"


Outputs = dict[str, Any]
StateFn = Callable[[str, dict[str, Any], str], tuple[str, Outputs]]


def _arn(service: str, region: str, resource: str, account: str = ACCOUNT_ID) -> str:
    return f"arn:aws:{service}:{region}:{account}:{resource}"


def _prefixed(prefix: str, service: str = "ec2", kind: Optional[str] = None) -> StateFn:
    def fn(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
        rid = f"{prefix}-0{_hex(prefix + name, 16)}"
        return rid, {"arn": _arn(service, region, f"{kind or prefix}/{rid}")}

    return fn


def _lb(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
    pname = physical_name(name, inputs)[:32]
    kind = {"network": "net", "gateway": "gwy"}.get(inputs.get("loadBalancerType", "application"), "app")
    suffix = f"{kind}/{pname}/{_hex('lb' + name, 16)}"
    arn = _arn("elasticloadbalancing", region, f"loadbalancer/{suffix}")
    internal = "internal-" if inputs.get("internal") else ""
    return arn, {
        "arn": arn,
        "arnSuffix": suffix,
        "name": pname,
        "dnsName": f"{internal}{pname}-{int(_hex('dns' + name, 8), 16) % 10**10}.{region}.elb.amazonaws.com",
        "zoneId": ELB_ZONE_IDS.get(region, "Z35SXDOTRQ7X7K"),
    }


def _target_group(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
    pname = physical_name(name, inputs)[:32]
    suffix = f"targetgroup/{pname}/{_hex('tg' + name, 16)}"
    arn = _arn("elasticloadbalancing", region, suffix)
    return arn, {"arn": arn, "arnSuffix": suffix, "name": pname}


def _listener(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
    arn = _arn("elasticloadbalancing", region, f"listener/app/lb/{_hex('l' + name, 16)}/{_hex('L' + name, 16)}")
    return arn, {"arn": arn}


def _named_arn(service: str, kind: str, sep: str = "/", key: str = "name", global_: bool = False) -> StateFn:
    def fn(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
        pname = physical_name(name, inputs, key)
        arn = _arn(service, "" if global_ else region, f"{kind}{sep}{pname}")
        return pname, {"arn": arn, key: pname}

    return fn


def _iam(kind: str) -> StateFn:
    def fn(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
        pname = physical_name(name, inputs)
        return pname, {"arn": f"arn:aws:iam::{ACCOUNT_ID}:{kind}/{pname}", "name": pname, "uniqueId": "AROA" + _hex(name, 17).upper()}

    return fn


def _role_policy(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
    return f"{inputs.get('role', 'role')}:{physical_name(name, inputs)}", {}


def _attachment(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
    return f"{name}-{_hex(name, 20)}", {}


def _asg(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
    pname = physical_name(name, inputs)
    arn = _arn("autoscaling", region, f"autoScalingGroup:{_uuid(name)}:autoScalingGroupName/{pname}")
    return pname, {"arn": arn, "name": pname}


def _launch_template(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
    rid = f"lt-0{_hex('lt' + name, 16)}"
    return rid, {"arn": _arn("ec2", region, f"launch-template/{rid}"), "latestVersion": 1, "defaultVersion": 1, "name": physical_name(name, inputs)}


def _log_group(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
    pname = physical_name(name, inputs)
    return pname, {"arn": _arn("logs", region, f"log-group:{pname}"), "name": pname}


def _bucket(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
    pname = physical_name(name, inputs, "bucket").lower()
    return pname, {
        "arn": f"arn:aws:s3:::{pname}",
        "bucket": pname,
        "bucketDomainName": f"{pname}.s3.amazonaws.com",
        "bucketRegionalDomainName": f"{pname}.s3.{region}.amazonaws.com",
        "region": region,
        "hostedZoneId": "Z3AQBSTGFYJSTF",
    }


def _queue(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
    pname = physical_name(name, inputs)
    if inputs.get("fifoQueue") and not pname.endswith(".fifo"):
        pname += ".fifo"
    url = f"https://sqs.{region}.amazonaws.com/{ACCOUNT_ID}/{pname}"
    return url, {"arn": _arn("sqs", region, pname), "url": url, "name": pname}


def _topic(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
    pname = physical_name(name, inputs)
    arn = _arn("sns", region, pname)
    return arn, {"arn": arn, "name": pname}


def _kms_key(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
    kid = _uuid("kms" + name)
    return kid, {"arn": _arn("kms", region, f"key/{kid}"), "keyId": kid}


def _security_group(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
    rid = f"sg-0{_hex('sg' + name, 16)}"
    return rid, {"arn": _arn("ec2", region, f"security-group/{rid}"), "name": physical_name(name, inputs), "ownerId": ACCOUNT_ID}


def _eip(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
    rid = f"eipalloc-0{_hex('eip' + name, 16)}"
    n = int(_hex("ip" + name, 6), 16)
    return rid, {"allocationId": rid, "publicIp": f"44.{n % 256}.{(n >> 8) % 256}.{(n >> 16) % 254 + 1}", "arn": _arn("ec2", region, f"elastic-ip/{rid}")}


def _db_instance(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
    ident = physical_name(name, inputs, "identifier").lower()
    address = f"{ident}.c{_hex('rds' + region, 11)}.{region}.rds.amazonaws.com"
    port = int(inputs.get("port") or 5432)
    resource_id = "db-" + _hex("dbi" + name, 26).upper()
    out: Outputs = {
        "arn": _arn("rds", region, f"db:{ident}"),
        "identifier": ident,
        "address": address,
        "endpoint": f"{address}:{port}",
        "port": port,
        "resourceId": resource_id,
        "hostedZoneId": "Z2R2ITUGPM61AM",
    }
    if inputs.get("manageMasterUserPassword"):
        out["masterUserSecrets"] = [
            {"secretArn": _arn("secretsmanager", region, f"secret:rds!{ident}-{_hex(name, 6)}"), "secretStatus": "active", "kmsKeyId": ""}
        ]
    return ident, out


def _db_proxy(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
    pname = physical_name(name, inputs)
    return pname, {
        "arn": _arn("rds", region, f"db-proxy:prx-{_hex(name, 17)}"),
        "name": pname,
        "endpoint": f"{pname}.proxy-c{_hex('rds' + region, 11)}.{region}.rds.amazonaws.com",
    }


def _db_proxy_endpoint(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
    pname = physical_name(name, inputs, "dbProxyEndpointName")
    return f"{inputs.get('dbProxyName', 'proxy')}/{pname}", {
        "arn": _arn("rds", region, f"db-proxy-endpoint:prx-endpoint-{_hex(name, 17)}"),
        "endpoint": f"{pname}.endpoint.proxy-c{_hex('rds' + region, 11)}.{region}.rds.amazonaws.com",
    }


def _proxy_default_target_group(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
    proxy = str(inputs.get("dbProxyName", "proxy"))
    return proxy, {"arn": _arn("rds", region, f"target-group:prx-tg-{_hex(name, 17)}"), "name": "default"}


def _elasticache_user(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
    uid = str(inputs.get("userId", name))
    return uid, {"arn": _arn("elasticache", region, f"user:{uid}")}


def _elasticache_user_group(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
    gid = str(inputs.get("userGroupId", name))
    return gid, {"arn": _arn("elasticache", region, f"usergroup:{gid}")}


def _replication_group(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
    gid = physical_name(name, inputs, "replicationGroupId").lower()[:40]
    cluster_mode = inputs.get("clusterMode") == "enabled" or int(inputs.get("numNodeGroups") or 1) > 1
    short_region = region.replace("-", "")[:3] + region.split("-")[1][:1] + region.split("-")[-1]
    host = f"{gid}.{_hex('ec' + region, 6)}.{short_region}.cache.amazonaws.com"
    return gid, {
        "arn": _arn("elasticache", region, f"replicationgroup:{gid}"),
        "replicationGroupId": gid,
        "primaryEndpointAddress": f"master.{host}",
        "readerEndpointAddress": f"replica.{host}",
        "configurationEndpointAddress": f"clustercfg.{host}" if cluster_mode else None,
        "memberClusters": [f"{gid}-001"],
    }


def _distribution(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
    did = "E" + _hex("cf" + name, 13).upper()
    return did, {
        "arn": f"arn:aws:cloudfront::{ACCOUNT_ID}:distribution/{did}",
        "domainName": f"d{_hex('d' + name, 13)}.cloudfront.net",
        "hostedZoneId": CLOUDFRONT_ZONE_ID,
        "status": "Deployed",
        "etag": "E" + _hex("etag" + name, 12).upper(),
    }


def _cf_policy(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
    pid = _uuid("cfp" + name)
    return pid, {"etag": "E" + _hex("etag" + name, 12).upper(), "name": physical_name(name, inputs)}


def _origin_access_control(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
    oid = "E" + _hex("oac" + name, 13).upper()
    return oid, {"etag": "E" + _hex("etag" + name, 12).upper(), "arn": f"arn:aws:cloudfront::{ACCOUNT_ID}:origin-access-control/{oid}"}


def _reservation(service: str, kind: str) -> StateFn:
    def fn(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
        rid = str(inputs.get("reservationId") or inputs.get("elasticacheReservedCacheNodeId") or f"ri-{_hex(kind + name, 12)}")
        return rid, {"arn": _arn(service, region, f"{kind}:{rid}"), "state": "payment-pending", "startTime": "2026-12-01T00:00:00Z"}

    return fn


def _web_acl(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
    pname = physical_name(name, inputs)
    wid = _uuid("waf" + name)
    scope = "global" if inputs.get("scope") == "CLOUDFRONT" else "regional"
    arn_region = "us-east-1" if scope == "global" else region
    return wid, {"arn": _arn("wafv2", arn_region, f"{scope}/webacl/{pname}/{wid}"), "name": pname, "capacity": 700, "lockToken": _uuid("lock" + name)}


def _budget(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
    pname = physical_name(name, inputs)
    return f"{ACCOUNT_ID}:{pname}", {"arn": f"arn:aws:budgets::{ACCOUNT_ID}:budget/{pname}", "name": pname, "accountId": ACCOUNT_ID}


def _cost_explorer(kind: str) -> StateFn:
    def fn(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
        arn = f"arn:aws:ce::{ACCOUNT_ID}:{kind}/{_uuid(kind + name)}"
        return arn, {"arn": arn, "name": physical_name(name, inputs)}

    return fn


def _topic_policy(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
    return str(inputs.get("arn", "")), {"owner": ACCOUNT_ID}


def _topic_subscription(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
    arn = f"{inputs.get('topic', _arn('sns', region, 'topic'))}:{_uuid('sub' + name)}"
    # Email and HTTPS endpoints stay pending until the recipient confirms.
    return arn, {"arn": arn, "ownerId": ACCOUNT_ID, "pendingConfirmation": inputs.get("protocol") in ("email", "email-json", "https", "http")}


def _event_target(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
    target_id = inputs.get("targetId") or f"{name}-{_hex('target' + name, 8)}"
    return f"{inputs.get('rule', 'rule')}-{target_id}", {"targetId": target_id, "eventBusName": "default"}


def _kms_alias(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
    alias = str(inputs.get("name") or f"alias/{name}")
    return alias, {"arn": _arn("kms", region, alias), "targetKeyArn": _arn("kms", region, f"key/{inputs.get('targetKeyId', '')}")}


# A base64 PEM-shaped CA bundle (not a real certificate) for kubeconfig rendering.
_FAKE_CA = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIC/jCCAeagAwIBAgIBADANBgkqhkiG9w0BAQsFADAV\n-----END CERTIFICATE-----\n").decode()


def _eks_cluster(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
    pname = physical_name(name, inputs)
    oidc = _hex("oidc" + name, 32).upper()
    return pname, {
        "arn": _arn("eks", region, f"cluster/{pname}"),
        "name": pname,
        "endpoint": f"https://{oidc}.gr7.{region}.eks.amazonaws.com",
        "certificateAuthority": {"data": _FAKE_CA},
        "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.{region}.amazonaws.com/id/{oidc}"}]}],
        "platformVersion": "eks.10",
        "status": "ACTIVE",
        "vpcConfig": {**(inputs.get("vpcConfig") or {}), "clusterSecurityGroupId": f"sg-0{_hex('eks' + name, 16)}"},
    }


def _scaling_policy(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
    pname = physical_name(name, inputs)
    group = inputs.get("autoscalingGroupName") or "group"
    return pname, {"arn": _arn("autoscaling", region, f"scalingPolicy:{_uuid('sp' + name)}:autoScalingGroupName/{group}:policyName/{pname}"), "name": pname}


def _random_password(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
    """A deterministic stand-in of the requested length (the provider marks it secret)."""
    value = random_password_value(name, int(inputs.get("length") or 16))
    return f"none-{_hex(name, 8)}", {"result": value, "bcryptHash": "$2a$10$" + _hex("bcrypt" + name, 53)}


def _eks_child(kind: str, key: str) -> StateFn:
    """Node groups and add-ons: id ``cluster:name``, ARN under the cluster's."""

    def fn(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
        cluster = str(inputs.get("clusterName") or "cluster")
        pname = str(inputs.get(key) or physical_name(name, {}))
        suffix = _uuid(kind + name)
        out: Outputs = {"arn": _arn("eks", region, f"{kind}/{cluster}/{pname}/{suffix}"), key: pname}
        if kind == "nodegroup":
            out["status"] = "ACTIVE"
            out["resources"] = [{"autoscalingGroups": [{"name": f"eks-{pname}-{suffix}"}], "remoteAccessSecurityGroupId": ""}]
            out["releaseVersion"] = "1.32.3-20250519"
        return f"{cluster}:{pname}", out

    return fn


def _oidc_provider(name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
    host = str(inputs.get("url", "")).removeprefix("https://")
    arn = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{host}"
    return arn, {"arn": arn, "url": host}


STATE_BY_TYPE: dict[str, StateFn] = {
    "aws:ec2/vpc:Vpc": _prefixed("vpc"),
    "aws:ec2/subnet:Subnet": _prefixed("subnet"),
    "aws:ec2/internetGateway:InternetGateway": _prefixed("igw", kind="internet-gateway"),
    "aws:ec2/natGateway:NatGateway": _prefixed("nat", kind="natgateway"),
    "aws:ec2/eip:Eip": _eip,
    "aws:ec2/routeTable:RouteTable": _prefixed("rtb", kind="route-table"),
    "aws:ec2/route:Route": _prefixed("r"),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": _prefixed("rtbassoc"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": _prefixed("vpce", kind="vpc-endpoint"),
    "aws:ec2/flowLog:FlowLog": _prefixed("fl", kind="vpc-flow-log"),
    "aws:ec2/securityGroup:SecurityGroup": _security_group,
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": _security_group,
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _prefixed("sgr", kind="security-group-rule"),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": _prefixed("sgr", kind="security-group-rule"),
    "aws:ec2/launchTemplate:LaunchTemplate": _launch_template,
    "aws:ec2/capacityReservation:CapacityReservation": _prefixed("cr", kind="capacity-reservation"),
    "aws:autoscaling/group:Group": _asg,
    "aws:lb/loadBalancer:LoadBalancer": _lb,
    "aws:lb/targetGroup:TargetGroup": _target_group,
    "aws:lb/listener:Listener": _listener,
    "aws:lb/listenerRule:ListenerRule": _listener,
    "aws:iam/role:Role": _iam("role"),
    "aws:iam/instanceProfile:InstanceProfile": _iam("instance-profile"),
    "aws:iam/policy:Policy": _iam("policy"),
    "aws:iam/rolePolicy:RolePolicy": _role_policy,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": _attachment,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _named_arn("cloudwatch", "alarm", sep=":"),
    "aws:cloudwatch/dashboard:Dashboard": _named_arn("cloudwatch", "dashboard", key="dashboardName", global_=True),
    "aws:cloudwatch/eventRule:EventRule": _named_arn("events", "rule"),
    "aws:s3/bucket:Bucket": _bucket,
    "aws:s3/bucketV2:BucketV2": _bucket,
    "aws:sqs/queue:Queue": _queue,
    "aws:sns/topic:Topic": _topic,
    "aws:kms/key:Key": _kms_key,
    "aws:kms/alias:Alias": _kms_alias,
    "aws:sns/topicPolicy:TopicPolicy": _topic_policy,
    "aws:sns/topicSubscription:TopicSubscription": _topic_subscription,
    "aws:cloudwatch/eventTarget:EventTarget": _event_target,
    "aws:budgets/budget:Budget": _budget,
    "aws:costexplorer/anomalyMonitor:AnomalyMonitor": _cost_explorer("anomalymonitor"),
    "aws:costexplorer/anomalySubscription:AnomalySubscription": _cost_explorer("anomalysubscription"),
    "aws:rds/instance:Instance": _db_instance,
    "aws:rds/proxy:Proxy": _db_proxy,
    "aws:rds/proxyEndpoint:ProxyEndpoint": _db_proxy_endpoint,
    "aws:rds/subnetGroup:SubnetGroup": _named_arn("rds", "subgrp", sep=":"),
    "aws:rds/parameterGroup:ParameterGroup": _named_arn("rds", "pg", sep=":"),
    "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup": _proxy_default_target_group,
    "aws:elasticache/replicationGroup:ReplicationGroup": _replication_group,
    "aws:elasticache/user:User": _elasticache_user,
    "aws:elasticache/userGroup:UserGroup": _elasticache_user_group,
    "aws:elasticache/subnetGroup:SubnetGroup": _named_arn("elasticache", "subnetgroup", sep=":"),
    "aws:elasticache/parameterGroup:ParameterGroup": _named_arn("elasticache", "parametergroup", sep=":"),
    "aws:cloudfront/distribution:Distribution": _distribution,
    "aws:wafv2/webAcl:WebAcl": _web_acl,
    "aws:cloudfront/cachePolicy:CachePolicy": _cf_policy,
    "aws:cloudfront/originRequestPolicy:OriginRequestPolicy": _cf_policy,
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": _cf_policy,
    "aws:cloudfront/originAccessControl:OriginAccessControl": _origin_access_control,
    "aws:rds/reservedInstance:ReservedInstance": _reservation("rds", "ri"),
    "aws:elasticache/reservedCacheNode:ReservedCacheNode": _reservation("elasticache", "reserved-instance"),
    "aws:eks/cluster:Cluster": _eks_cluster,
    "aws:eks/nodeGroup:NodeGroup": _eks_child("nodegroup", "nodeGroupName"),
    "aws:eks/addon:Addon": _eks_child("addon", "addonName"),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": _oidc_provider,
    "aws:ec2/tag:Tag": lambda name, inputs, region: (f"{inputs.get('resourceId')},{inputs.get('key')}", {}),
    "aws:secretsmanager/secret:Secret": _named_arn("secretsmanager", "secret", sep=":"),
    "aws:autoscaling/policy:Policy": _scaling_policy,
    "aws:autoscaling/schedule:Schedule": _named_arn("autoscaling", "scheduledUpdateGroupAction", sep=":", key="scheduledActionName"),
    "random:index/randomPassword:RandomPassword": _random_password,
}


def _generic(typ: str, name: str, inputs: dict[str, Any], region: str) -> tuple[str, Outputs]:
    rid = f"{name}-{_hex(typ + name, 8)}"
    service = typ.split(":")[1].split("/")[0] if typ.count(":") >= 2 else "resource"
    return rid, {"arn": _arn(service, region, f"{name}/{rid}")}


class RealisticMocks(pulumi.runtime.Mocks):
    """Mocks that answer like the AWS and Kubernetes providers would."""

    def __init__(self, region: str) -> None:
        self.region = region

    def _region_for(self, args: pulumi.runtime.MockResourceArgs) -> str:
        provider = getattr(args, "provider", "") or ""
        return "us-east-1" if GLOBAL_PROVIDER_MARKER in provider else self.region

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[Optional[str], dict[str, Any]]:
        inputs = dict(args.inputs)
        if args.typ.startswith("pulumi:providers:"):
            return f"{_uuid('provider' + args.name)}", inputs
        if args.typ == "kubernetes:helm.sh/v3:Release":
            name = str(inputs.get("name") or physical_name(args.name, {}))
            release_ns = str(inputs.get("namespace") or "default")
            status = {
                "name": name,
                "namespace": release_ns,
                "chart": inputs.get("chart"),
                "version": inputs.get("version"),
                "status": "deployed",
                "revision": 1,
            }
            return f"{release_ns}/{name}", {**inputs, "name": name, "status": status}
        if args.typ.startswith("kubernetes:"):
            meta = dict(inputs.get("metadata") or {})
            meta.setdefault("name", physical_name(args.name, {}))
            meta["uid"] = _uuid("k8s" + args.name)
            inputs["metadata"] = meta
            ns = meta.get("namespace")
            return (f"{ns}/{meta['name']}" if ns else str(meta["name"])), inputs
        region = self._region_for(args)
        fn = STATE_BY_TYPE.get(args.typ)
        rid, extra = fn(args.name, inputs, region) if fn else _generic(args.typ, args.name, inputs, region)
        tags = inputs.get("tags")
        if isinstance(tags, dict):
            extra.setdefault("tagsAll", tags)
        return rid, {**inputs, **extra, "id": rid}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        region = GLOBAL_REGION if GLOBAL_PROVIDER_MARKER in (args.provider or "") else self.region
        handler = CALLS.get(args.token)
        if handler is None:
            raise NotImplementedError(f"scalestack mocks: no realistic answer for data source {args.token}; add one to CALLS")
        # The SDK iterates the failures list: an empty list, not None.
        return handler(dict(args.args), region), []


GLOBAL_REGION = "us-east-1"


def _azs(args: dict[str, Any], region: str) -> dict[str, Any]:
    names = catalog.regions().get(region, [f"{region}a", f"{region}b", f"{region}c"])
    short = region.split("-")[0][:2] + region.split("-")[1][:1] + region.split("-")[-1]
    return {
        "names": names,
        "zoneIds": [f"{short}-az{i + 1}" for i in range(len(names))],
        "id": region,
        "groupNames": [region] * len(names),
        "state": "available",
    }


def _ssm_parameter(args: dict[str, Any], region: str) -> dict[str, Any]:
    name = str(args.get("name", ""))
    return {
        "name": name,
        "type": "String",
        "value": f"ami-0{_hex(name + region, 16)}",
        "version": 1,
        "arn": _arn("ssm", region, f"parameter{name}"),
        "id": name,
        "insecureValue": "",
    }


def _managed_prefix_list(args: dict[str, Any], region: str) -> dict[str, Any]:
    plid = CLOUDFRONT_PREFIX_LISTS.get(region, "pl-3b927c52")
    return {
        "id": plid,
        "name": args.get("name") or "com.amazonaws.global.cloudfront.origin-facing",
        "arn": _arn("ec2", region, f"prefix-list/{plid}", account="aws"),
        "maxEntries": 55,
        "entries": [],
    }


def _managed_cf_policy(args: dict[str, Any], region: str) -> dict[str, Any]:
    name = str(args.get("name", ""))
    return {"id": CLOUDFRONT_MANAGED_POLICIES.get(name, _uuid(name)), "name": name}


# Reserved offerings the program looked up, by offering id: what each one buys, so the
# cost estimator can price ``offeringId``s that are opaque on their own.
OFFERINGS: dict[str, dict[str, Any]] = {}
_TERMS = {"31536000": "1yr", "94608000": "3yr", "P1Y": "1yr", "P3Y": "3yr", "1": "1yr", "3": "3yr"}
_UPFRONT_SHARE = {"no_upfront": 0.0, "partial_upfront": 0.5, "all_upfront": 1.0}


def _term(args: dict[str, Any]) -> str:
    duration = str(args.get("duration", "31536000")).split(".")[0]
    payment = str(args.get("offeringType", "No Upfront")).lower().replace(" ", "_")
    return f"{_TERMS.get(duration, '1yr')}_{payment}"


def _fixed_price(service: str, hourly_on_demand: float, term: str) -> float:
    """The offering's upfront charge, from the one price catalogue: the discounted term's
    cost times the share paid upfront."""
    from scalestack import pricing

    years = 3 if term.startswith("3yr") else 1
    try:
        discount = pricing.reserved_discount(service, term)
    except pricing.PriceNotFound:
        return 0.0
    share = _UPFRONT_SHARE.get(term.split("_", 1)[1], 0.0)
    return round(hourly_on_demand * (1 - discount) * 8760 * years * share, 2)


def _rds_offering(args: dict[str, Any], region: str) -> dict[str, Any]:
    from scalestack import pricing

    oid = _uuid("rds-offering" + repr(sorted(args.items())) + region)
    engine = str(args.get("productDescription", "postgresql")).lower()
    bought = {
        "class": args.get("dbInstanceClass"),
        "engine": "mysql" if "mysql" in engine else "postgres",
        "multi_az": bool(args.get("multiAz")),
        "term": _term(args),
    }
    OFFERINGS[oid] = bought
    hourly = pricing.for_region(region).rds_hour(str(bought["class"]), str(bought["engine"]), bool(bought["multi_az"]))
    return {**args, "offeringId": oid, "id": oid, "currencyCode": "USD", "fixedPrice": _fixed_price("rds", hourly, str(bought["term"]))}


def _cache_offering(args: dict[str, Any], region: str) -> dict[str, Any]:
    from scalestack import pricing

    oid = _uuid("cache-offering" + repr(sorted(args.items())) + region)
    bought = {"class": args.get("cacheNodeType"), "engine": str(args.get("productDescription", "redis")).lower(), "term": _term(args)}
    OFFERINGS[oid] = bought
    hourly = pricing.for_region(region).cache_hour(str(bought["class"]), str(bought["engine"]))
    return {**args, "offeringId": oid, "id": oid, "fixedPrice": _fixed_price("elasticache", hourly, str(bought["term"]))}


CALLS: dict[str, Callable[[dict[str, Any], str], dict[str, Any]]] = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": _azs,
    "aws:index/getCallerIdentity:getCallerIdentity": lambda a, r: {
        "accountId": ACCOUNT_ID,
        "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/ci",
        "userId": "AIDA" + _hex("u", 17).upper(),
        "id": ACCOUNT_ID,
    },
    "aws:index/getRegion:getRegion": lambda a, r: {"name": r, "region": r, "id": r, "endpoint": f"ec2.{r}.amazonaws.com", "description": r},
    "aws:index/getPartition:getPartition": lambda a, r: {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws", "reverseDnsPrefix": "com.amazonaws"},
    "aws:ssm/getParameter:getParameter": _ssm_parameter,
    "aws:ec2/getManagedPrefixList:getManagedPrefixList": _managed_prefix_list,
    "aws:cloudfront/getCachePolicy:getCachePolicy": _managed_cf_policy,
    "aws:cloudfront/getOriginRequestPolicy:getOriginRequestPolicy": _managed_cf_policy,
    "aws:cloudfront/getResponseHeadersPolicy:getResponseHeadersPolicy": _managed_cf_policy,
    "aws:rds/getReservedInstanceOffering:getReservedInstanceOffering": _rds_offering,
    "aws:elasticache/getReservedCacheNodeOffering:getReservedCacheNodeOffering": _cache_offering,
}
