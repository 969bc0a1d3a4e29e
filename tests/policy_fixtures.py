"""Synthetic resources as the engine would send them to the analyzer: pulumi-aws types,
engine camelCase inputs, property dependencies for the stack graph. ``good_*`` builders
are compliant with the production defaults; tests break one thing at a time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Optional

from scalestack.offline import SECRET_SIG, SIG_KEY
from scalestack.policy_runner import Resource

PROJECT = "mortgagematch-scaling"


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:test::{PROJECT}::{type_}::{name}"


def res(type_: str, name: str, props: Mapping[str, Any], protect: bool = False, refs: Optional[Mapping[str, Sequence[Resource]]] = None) -> Resource:
    """A resource whose inputs ``refs`` were computed from other resources."""
    refs = refs or {}
    deps = sorted({r.urn for rs in refs.values() for r in rs})
    return Resource(
        urn=urn(type_, name),
        type=type_,
        name=name,
        properties=dict(props),
        protect=protect,
        dependencies=deps,
        property_dependencies={k: [r.urn for r in v] for k, v in refs.items()},
    )


def secret(value: Any) -> dict[str, Any]:
    return {SIG_KEY: SECRET_SIG, "value": value}


def merge(base: Mapping[str, Any], **changes: Any) -> dict[str, Any]:
    out = dict(base)
    for k, v in changes.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = v
    return out


SUBNETS = [
    res("aws:ec2/subnet:Subnet", f"private-{az}", {"availabilityZone": az, "cidrBlock": f"10.0.{i}.0/24", "mapPublicIpOnLaunch": False})
    for i, az in enumerate(("us-east-1a", "us-east-1b", "us-east-1c"))
]

LT = {
    "instanceType": "m7g.large",
    "metadataOptions": {"httpTokens": "required", "httpEndpoint": "enabled", "httpPutResponseHopLimit": 1},
    "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "volumeType": "gp3", "volumeSize": 20}}],
    "networkInterfaces": [{"associatePublicIpAddress": "false"}],
}


def good_lt(name: str = "web-lt", **changes: Any) -> Resource:
    return res("aws:ec2/launchTemplate:LaunchTemplate", name, merge(LT, **changes))


def good_asg(name: str, lt: Resource, subnets: Sequence[Resource] = SUBNETS, tg: Optional[Resource] = None, **changes: Any) -> Resource:
    props: dict[str, Any] = {
        "minSize": 3,
        "maxSize": 10,
        "healthCheckType": "ELB",
        "vpcZoneIdentifiers": [f"subnet-{s.name}" for s in subnets],
        "launchTemplate": {"id": "lt-123", "version": "$Latest"},
        "instanceRefresh": {"strategy": "Rolling", "preferences": {"autoRollback": True, "minHealthyPercentage": 90}},
        "tags": [{"key": "tier", "value": "web" if "web" in name else "workers", "propagateAtLaunch": True}],
    }
    refs: dict[str, list[Resource]] = {"launchTemplate": [lt], "vpcZoneIdentifiers": list(subnets)}
    if tg is not None:
        props["targetGroupArns"] = ["arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/abc"]
        refs["targetGroupArns"] = [tg]
    return res("aws:autoscaling/group:Group", name, merge(props, **changes), refs=refs)


RDS = {
    "instanceClass": "db.r7g.xlarge",
    "engine": "postgres",
    "storageEncrypted": True,
    "storageType": "gp3",
    "multiAz": True,
    "publiclyAccessible": False,
    "backupRetentionPeriod": 14,
    "skipFinalSnapshot": False,
    "finalSnapshotIdentifier": "db-final",
    "deletionProtection": True,
    "manageMasterUserPassword": True,
    "username": "app",
}


def good_db(name: str = "db-primary", protect: bool = True, **changes: Any) -> Resource:
    return res("aws:rds/instance:Instance", name, merge(RDS, **changes), protect=protect)


def replica(primary: Resource, i: int, **changes: Any) -> Resource:
    props = {"instanceClass": "db.r7g.xlarge", "replicateSourceDb": "db-primary-id", "storageType": "gp3", "publiclyAccessible": False}
    return res("aws:rds/instance:Instance", f"db-replica-{i}", merge(props, **changes), refs={"replicateSourceDb": [primary]})


CACHE = {
    "nodeType": "cache.r7g.large",
    "numNodeGroups": 2,
    "replicasPerNodeGroup": 1,
    "atRestEncryptionEnabled": True,
    "transitEncryptionEnabled": True,
    "automaticFailoverEnabled": True,
    "multiAzEnabled": True,
    "snapshotRetentionLimit": 7,
    "authToken": secret("tok"),
}


def good_cache(name: str = "cache-rg", protect: bool = True, **changes: Any) -> Resource:
    return res("aws:elasticache/replicationGroup:ReplicationGroup", name, merge(CACHE, **changes), protect=protect)


def queues() -> tuple[Resource, Resource]:
    dlq = res("aws:sqs/queue:Queue", "jobs-dlq", {"sqsManagedSseEnabled": True, "messageRetentionSeconds": 1209600})
    work = res(
        "aws:sqs/queue:Queue",
        "jobs",
        {"sqsManagedSseEnabled": True, "redrivePolicy": '{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:jobs-dlq","maxReceiveCount":5}'},
        refs={"redrivePolicy": [dlq]},
    )
    return work, dlq


def alarm(name: str, target: Resource) -> Resource:
    return res("aws:cloudwatch/metricAlarm:MetricAlarm", name, {"comparisonOperator": "GreaterThanThreshold", "threshold": 1}, refs={"dimensions": [target]})


def bucket_with(name: str, pab: Optional[dict[str, Any]] = None, sse: Optional[str] = "AES256") -> list[Resource]:
    bucket = res("aws:s3/bucket:Bucket", name, {"bucket": name})
    out = [bucket]
    flags = {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True, "restrictPublicBuckets": True}
    if pab is not None:
        out.append(res("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", f"{name}-pab", {**flags, **pab, "bucket": name}, refs={"bucket": [bucket]}))
    if sse is not None:
        rules = [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": sse}}]
        out.append(
            res(
                "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                f"{name}-sse",
                {"bucket": name, "rules": rules},
                refs={"bucket": [bucket]},
            )
        )
    return out


def sg(role: str, ingress: Optional[list[dict[str, Any]]] = None) -> Resource:
    return res("aws:ec2/securityGroup:SecurityGroup", f"sg-{role}", {"vpcId": "vpc-1", "tags": {"tier": role}, "ingress": ingress or []})


def ingress(name: str, group: Resource, port: int, cidr4: Optional[str] = None, cidr6: Optional[str] = None, proto: str = "tcp") -> Resource:
    props: dict[str, Any] = {"securityGroupId": "sg-id", "ipProtocol": proto, "fromPort": port, "toPort": port}
    if cidr4:
        props["cidrIpv4"] = cidr4
    if cidr6:
        props["cidrIpv6"] = cidr6
    return res("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", name, props, refs={"securityGroupId": [group]})


ALB = {
    "loadBalancerType": "application",
    "internal": False,
    "dropInvalidHeaderFields": True,
    "accessLogs": {"bucket": "alb-logs", "enabled": True},
    "subnets": ["subnet-a", "subnet-b"],
}


def good_alb(name: str = "alb", subnets: Sequence[Resource] = SUBNETS[:2], groups: Sequence[Resource] = (), **changes: Any) -> Resource:
    return res("aws:lb/loadBalancer:LoadBalancer", name, merge(ALB, **changes), refs={"subnets": list(subnets), "securityGroups": list(groups)})


CDN = {
    "enabled": True,
    "priceClass": "PriceClass_100",
    "viewerCertificate": {
        "acmCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc",
        "minimumProtocolVersion": "TLSv1.2_2021",
        "sslSupportMethod": "sni-only",
    },
    "defaultCacheBehavior": {"viewerProtocolPolicy": "redirect-to-https", "targetOriginId": "alb"},
    "orderedCacheBehaviors": [{"pathPattern": "/static/*", "viewerProtocolPolicy": "https-only", "targetOriginId": "alb"}],
    "webAclId": "arn:aws:wafv2:us-east-1:123456789012:global/webacl/cdn/abc",
    "loggingConfig": {"bucket": "cdn-logs.s3.amazonaws.com"},
    "origins": [
        {
            "originId": "alb",
            "domainName": "alb.example.com",
            "customOriginConfig": {"originProtocolPolicy": "https-only", "originSslProtocols": ["TLSv1.2"], "httpPort": 80, "httpsPort": 443},
        }
    ],
}


def good_cdn(name: str = "cdn", **changes: Any) -> Resource:
    return res("aws:cloudfront/distribution:Distribution", name, merge(CDN, **changes))


# --- Kubernetes ------------------------------------------------------------------------

K8S_CONTAINER = {
    "name": "web",
    "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/mortgagematch/web:2.4.1",
    "resources": {"requests": {"cpu": "500m", "memory": "512Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
    "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True, "runAsUser": 10001},
}


def deployment(name: str = "web", namespace: str = "app", replicas: Optional[int] = None, **container: Any) -> Resource:
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": name}},
        "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [merge(K8S_CONTAINER, name=name, **container)]}},
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return res("kubernetes:apps/v1:Deployment", f"k8s-{name}", {"metadata": {"name": name, "namespace": namespace}, "spec": spec})


def hpa(target: str = "web", namespace: str = "app", min_replicas: int = 2) -> Resource:
    spec = {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target}, "minReplicas": min_replicas, "maxReplicas": 10}
    return res("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", f"k8s-{target}-hpa", {"metadata": {"name": target, "namespace": namespace}, "spec": spec})


def pdb(target: str = "web", namespace: str = "app") -> Resource:
    spec = {"minAvailable": 1, "selector": {"matchLabels": {"app": target}}}
    return res("kubernetes:policy/v1:PodDisruptionBudget", f"k8s-{target}-pdb", {"metadata": {"name": target, "namespace": namespace}, "spec": spec})


def network_policy(namespace: str = "app") -> Resource:
    spec = {"podSelector": {}, "policyTypes": ["Ingress"]}
    return res(
        "kubernetes:networking.k8s.io/v1:NetworkPolicy", f"k8s-{namespace}-netpol", {"metadata": {"name": "default", "namespace": namespace}, "spec": spec}
    )


def helm_release(values: Mapping[str, Any]) -> Resource:
    props = {"chart": "kube-prometheus-stack", "version": "77.6.2", "namespace": "monitoring", "values": dict(values)}
    return res("kubernetes:helm.sh/v3:Release", "monitoring-release", props)


def k8s_secret(string_data: Any) -> Resource:
    return res("kubernetes:core/v1:Secret", "grafana-admin", {"metadata": {"name": "grafana-admin", "namespace": "monitoring"}, "stringData": string_data})
