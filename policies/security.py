"""Security rules: what awsguard and Pulumi's compliance-ready AWS policies check for our
resource types (encryption at rest, no public IPs or databases, logging, TLS, S3 public
access), plus what they miss: launch templates (string booleans), separate SG rule
resources, RDS Proxy TLS, ElastiCache in transit, CloudFront to origin, plaintext secrets."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy import PolicyResource, ResourceValidationArgs

from policies._lib import Config, Finding, Graph, flag, get, items, resource_policy, stack_policy, tags_of
from policies._secrets import SecretStr

LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
INSTANCE = "aws:ec2/instance:Instance"
VOLUME = "aws:ebs/volume:Volume"
RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_CLUSTER = "aws:rds/cluster:Cluster"
RDS_PROXY = "aws:rds/proxy:Proxy"
CACHE_RG = "aws:elasticache/replicationGroup:ReplicationGroup"
SQS_QUEUE = "aws:sqs/queue:Queue"
SNS_TOPIC = "aws:sns/topic:Topic"
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
BUCKET_ACL = "aws:s3/bucketAcl:BucketAcl"
SUBNET = "aws:ec2/subnet:Subnet"
SG = "aws:ec2/securityGroup:SecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SG_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
LB = "aws:lb/loadBalancer:LoadBalancer"
ALB = "aws:alb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
ALB_LISTENER = "aws:alb/listener:Listener"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"

# --- encryption at rest ---------------------------------------------------------------


def _ebs_encrypted(args: ResourceValidationArgs, _: Config) -> Iterator[str]:
    p = args.props
    if args.resource_type == LAUNCH_TEMPLATE:
        for i, bdm in enumerate(items(p, "blockDeviceMappings")):
            ebs = bdm.get("ebs") if isinstance(bdm, Mapping) else None
            if ebs is not None and flag(ebs.get("encrypted")) is not True:
                yield f"blockDeviceMappings[{i}] ({bdm.get('deviceName', '?')}): ebs.encrypted is {ebs.get('encrypted')!r}; set encrypted='true'"
    elif args.resource_type == INSTANCE:
        root = p.get("rootBlockDevice") or {}
        if flag(root.get("encrypted")) is not True:
            yield "rootBlockDevice.encrypted must be true"
        for i, dev in enumerate(items(p, "ebsBlockDevices")):
            if flag(dev.get("encrypted")) is not True:
                yield f"ebsBlockDevices[{i}].encrypted must be true"
    elif flag(p.get("encrypted")) is not True:
        yield "encrypted must be true"


def _rds_encrypted(args: ResourceValidationArgs, _: Config) -> Iterator[str]:
    p = args.props
    if p.get("replicateSourceDb"):
        return  # a replica inherits its source's encryption (and cannot set it)
    if flag(p.get("storageEncrypted")) is not True:
        yield f"storageEncrypted is {p.get('storageEncrypted')!r}; set storageEncrypted=True"
    if flag(p.get("performanceInsightsEnabled")) and not p.get("performanceInsightsKmsKeyId") and args.resource_type == RDS_CLUSTER:
        yield "Performance Insights data must be encrypted with a KMS key"


def _cache_at_rest(args: ResourceValidationArgs, _: Config) -> Iterator[str]:
    if flag(args.props.get("atRestEncryptionEnabled")) is not True:
        yield "atRestEncryptionEnabled must be true"


def _queue_encrypted(args: ResourceValidationArgs, _: Config) -> Iterator[str]:
    p = args.props
    if not p.get("kmsMasterKeyId") and flag(p.get("sqsManagedSseEnabled")) is not True:
        yield "set sqsManagedSseEnabled=True or a kmsMasterKeyId"


def _topic_encrypted(args: ResourceValidationArgs, _: Config) -> Iterator[str]:
    if not args.props.get("kmsMasterKeyId"):
        yield "set kmsMasterKeyId (e.g. alias/aws/sns)"


def _buckets_encrypted(resources: list[PolicyResource], _: Config) -> Iterator[Finding]:
    g = Graph(resources)
    for bucket in g.of_type(BUCKET):
        configs = list(g.referrers(bucket, (BUCKET_SSE,), "bucket"))
        if not configs:
            yield f"bucket {bucket.name} has no BucketServerSideEncryptionConfiguration", bucket.urn
        for c in configs:
            for rule in items(c.props, "rules"):
                algo = get(rule, "applyServerSideEncryptionByDefault.sseAlgorithm")
                if algo not in ("aws:kms", "aws:kms:dsse", "AES256"):
                    yield f"bucket {bucket.name}: sseAlgorithm {algo!r} is not AES256 or aws:kms", c.urn


# --- encryption in transit ------------------------------------------------------------


def _cache_in_transit(args: ResourceValidationArgs, _: Config) -> Iterator[str]:
    if flag(args.props.get("transitEncryptionEnabled")) is not True:
        yield "transitEncryptionEnabled must be true"


def _proxy_tls(args: ResourceValidationArgs, _: Config) -> Iterator[str]:
    if flag(args.props.get("requireTls")) is not True:
        yield "requireTls must be true"


def _cloudfront_origin_https(args: ResourceValidationArgs, _: Config) -> Iterator[str]:
    for origin in items(args.props, "origins"):
        custom = origin.get("customOriginConfig")
        if not custom:
            continue
        oid = origin.get("originId", "?")
        if custom.get("originProtocolPolicy") != "https-only":
            yield f"origin {oid}: originProtocolPolicy is {custom.get('originProtocolPolicy')!r}; use 'https-only'"
        weak = [v for v in custom.get("originSslProtocols") or [] if v != "TLSv1.2"]
        if weak:
            yield f"origin {oid}: originSslProtocols allows {', '.join(weak)}; allow only TLSv1.2"


# --- instances ------------------------------------------------------------------------


def _imdsv2(args: ResourceValidationArgs, config: Config) -> Iterator[str]:
    meta = args.props.get("metadataOptions") or {}
    if meta.get("httpTokens") != "required":
        yield f"metadataOptions.httpTokens is {meta.get('httpTokens')!r}; set 'required' (IMDSv2)"
    hop = meta.get("httpPutResponseHopLimit")
    if hop is not None and hop > config["maxHopLimit"]:
        yield f"metadataOptions.httpPutResponseHopLimit is {hop:g}; at most {config['maxHopLimit']}"


def _no_public_ip(args: ResourceValidationArgs, _: Config) -> Iterator[str]:
    p = args.props
    if args.resource_type == LAUNCH_TEMPLATE:
        for i, nic in enumerate(items(p, "networkInterfaces")):
            if flag(nic.get("associatePublicIpAddress")) is True:
                yield f"networkInterfaces[{i}].associatePublicIpAddress is 'true'; app instances stay private behind the load balancer"
    elif args.resource_type == INSTANCE:
        if flag(p.get("associatePublicIpAddress")) is True:
            yield "associatePublicIpAddress is true; app instances stay private behind the load balancer"
    elif flag(p.get("mapPublicIpOnLaunch")) is True:
        yield "mapPublicIpOnLaunch is true; public subnets host only load balancers and NAT gateways"


# --- network exposure -----------------------------------------------------------------


def _rds_private(args: ResourceValidationArgs, _: Config) -> Iterator[str]:
    if flag(args.props.get("publiclyAccessible")) is True:
        yield "publiclyAccessible is true; the database lives in isolated subnets"


def _is_world(cidr: Any) -> bool:
    try:
        return isinstance(cidr, str) and ipaddress.ip_network(cidr, strict=False).prefixlen == 0
    except ValueError:
        return False


def _ports(rule: Mapping[str, Any], proto_key: str) -> tuple[int, int, str]:
    proto = str(rule.get(proto_key, "")).lower()
    if proto in ("-1", "all"):
        return 0, 65535, proto
    return int(rule.get("fromPort") or 0), int(rule.get("toPort") or 65535), proto


def _open_rule(where: str, rule: Mapping[str, Any], cidrs: Iterable[Any], proto_key: str, alb: bool, allowed: list[int]) -> Iterator[str]:
    world = [c for c in cidrs if _is_world(c)]
    if not world:
        return
    low, high, proto = _ports(rule, proto_key)
    ok = alb and proto in ("tcp", "6") and low == high and low in allowed
    if not ok:
        span = "all ports" if proto in ("-1", "all") else (f"port {low}" if low == high else f"ports {low}-{high}")
        owner = "the ALB's" if alb else "a non-ALB"
        yield f"{where}: {', '.join(world)} may reach {owner} {span}; the internet reaches only the ALB on {', '.join(map(str, allowed))}"


def _alb_groups(g: Graph) -> set[str]:
    """SG URNs that front the internet: referenced by a load balancer, or tagged tier=alb."""
    urns = {sg.urn for sg in g.of_type(SG) if tags_of(sg.props).get("tier") == "alb"}
    for lb in g.of_type(LB, ALB):
        urns.update(d.urn for d in g.referenced(lb, "securityGroups") if d.resource_type == SG)
    return urns


def _sg_world_ingress(resources: list[PolicyResource], config: Config) -> Iterator[Finding]:
    g = Graph(resources)
    alb = _alb_groups(g)
    allowed = list(config["albPorts"])
    for sg in g.of_type(SG):
        for i, rule in enumerate(items(sg.props, "ingress")):
            cidrs = [*(rule.get("cidrBlocks") or []), *(rule.get("ipv6CidrBlocks") or [])]
            for msg in _open_rule(f"{sg.name} ingress[{i}]", rule, cidrs, "protocol", sg.urn in alb, allowed):
                yield msg, sg.urn
    for rule in g.of_type(SG_INGRESS, SG_RULE):
        p = rule.props
        if rule.resource_type == SG_RULE and p.get("type") != "ingress":
            continue
        targets = g.referenced(rule, "securityGroupId")
        is_alb = any(t.urn in alb for t in targets)
        cidrs = [p.get("cidrIpv4"), p.get("cidrIpv6")] if rule.resource_type == SG_INGRESS else [*(p.get("cidrBlocks") or []), *(p.get("ipv6CidrBlocks") or [])]
        proto_key = "ipProtocol" if rule.resource_type == SG_INGRESS else "protocol"
        for msg in _open_rule(rule.name, p, cidrs, proto_key, is_alb, allowed):
            yield msg, rule.urn


# --- load balancer --------------------------------------------------------------------

_MODERN_TLS = re.compile(r"^ELBSecurityPolicy-(TLS13-1-[23]-|TLS-1-2-|FS-1-2-)")


def _listener_tls(args: ResourceValidationArgs, config: Config) -> Iterator[str]:
    p = args.props
    proto = str(p.get("protocol", "")).upper()
    if proto in ("HTTPS", "TLS"):
        policy = p.get("sslPolicy") or "ELBSecurityPolicy-2016-08 (the default)"
        allowed = config["allowedSslPolicies"]
        if (allowed and policy not in allowed) or (not allowed and not _MODERN_TLS.match(policy)):
            yield f"sslPolicy {policy} allows TLS below 1.2; use ELBSecurityPolicy-TLS13-1-2-2021-06 or newer"
    elif proto == "HTTP":
        for i, action in enumerate(items(p, "defaultActions")):
            redirect = action.get("redirect") or {}
            if action.get("type") != "redirect" or str(redirect.get("protocol", "")).upper() != "HTTPS":
                yield f"defaultActions[{i}] is {action.get('type')!r}; an HTTP listener only redirects to HTTPS"


def _alb_headers_and_logs(args: ResourceValidationArgs, config: Config) -> Iterator[str]:
    p = args.props
    if p.get("loadBalancerType", "application") != "application":
        return
    if flag(p.get("dropInvalidHeaderFields")) is not True:
        yield "dropInvalidHeaderFields must be true (request smuggling)"
    logs = p.get("accessLogs") or {}
    if config["requireAccessLogs"] and (flag(logs.get("enabled")) is not True or not logs.get("bucket")):
        yield "accessLogs must be enabled with a bucket"


# --- CloudFront -----------------------------------------------------------------------

_TLS_ORDER = ["SSLv3", "TLSv1", "TLSv1_2016", "TLSv1.1_2016", "TLSv1.2_2018", "TLSv1.2_2019", "TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025"]


def _cloudfront(args: ResourceValidationArgs, config: Config) -> Iterator[str]:
    p = args.props
    cert = p.get("viewerCertificate") or {}
    minimum = config["minimumTls"]
    if flag(cert.get("cloudfrontDefaultCertificate")) is True:
        yield f"the default *.cloudfront.net certificate accepts TLSv1; attach an ACM certificate with minimumProtocolVersion {minimum}"
    else:
        version = cert.get("minimumProtocolVersion", "TLSv1")
        rank = _TLS_ORDER.index(version) if version in _TLS_ORDER else -1
        if rank < _TLS_ORDER.index(minimum):
            yield f"viewerCertificate.minimumProtocolVersion is {version}; at least {minimum}"
    behaviors = [("defaultCacheBehavior", p.get("defaultCacheBehavior") or {})]
    behaviors += [(f"orderedCacheBehaviors[{i}]", b) for i, b in enumerate(items(p, "orderedCacheBehaviors"))]
    for where, b in behaviors:
        if b.get("viewerProtocolPolicy") not in ("redirect-to-https", "https-only"):
            yield f"{where}.viewerProtocolPolicy is {b.get('viewerProtocolPolicy')!r}; use 'redirect-to-https' or 'https-only'"
    if config["requireWaf"] and not p.get("webAclId"):
        yield "no WAF web ACL attached (webAclId)"
    if config["requireLogging"] and not get(p, "loggingConfig.bucket"):
        yield "access logging is off (loggingConfig.bucket)"


# --- secrets --------------------------------------------------------------------------


def _managed_password(args: ResourceValidationArgs, _: Config) -> Iterator[str]:
    p = args.props
    if p.get("replicateSourceDb"):
        return
    if p.get("password") or p.get("masterPassword"):
        yield "a master password is set in the program; use manageMasterUserPassword=True (Secrets Manager, nothing in state)"
    elif flag(p.get("manageMasterUserPassword")) is not True:
        yield "manageMasterUserPassword must be true"


# A key holds a secret VALUE when its last word is a secret noun ("password", "authToken",
# "admin-password", "secretString", "privateKey"); keys that name, point to or configure a
# secret ("existingSecret", "tlsSecretName", "secretArn", "envFrom.secretRef", "passwordKey",
# "manageMasterUserPassword") hold no secret. Values that are references (ARNs, dynamic
# references) are not secrets either.
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_SECRET_WORDS = frozenset({"password", "passwd", "passphrase", "secret", "token", "credential", "credentials"})
_SECRET_PAIRS = frozenset({("private", "key"), ("api", "key"), ("access", "key"), ("secret", "key"), ("secret", "string"), ("signing", "key")})
_REFERENCE_PREFIXES = frozenset({"existing", "manage", "managed", "generate", "create", "enable", "rotate", "use", "kms"})
_REFERENCE_VALUE = re.compile(r"^(arn:aws[\w-]*:|\{\{resolve:)")


def key_words(key: str) -> list[str]:
    """'existingSecret' -> ['existing', 'secret']; 'admin-password' -> ['admin', 'password']."""
    return [w.lower() for w in _WORD.findall(key)]


def holds_secret_value(key: str) -> bool:
    words = key_words(key)
    if not words or words[0] in _REFERENCE_PREFIXES:
        return False
    return words[-1] in _SECRET_WORDS or tuple(words[-2:]) in _SECRET_PAIRS


def _plaintext(value: Any, path: str, key: str = "") -> Iterator[str]:
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from _plaintext(v, f"{path}.{k}" if path else str(k), str(k))
    elif isinstance(value, Sequence) and not isinstance(value, str):
        for i, v in enumerate(value):
            yield from _plaintext(v, f"{path}[{i}]", key)
    elif isinstance(value, str) and value and not isinstance(value, SecretStr) and holds_secret_value(key) and not _REFERENCE_VALUE.match(value):
        yield f"input {path} holds a plaintext value; pass it as a Pulumi secret (config --secret, random.RandomPassword, Secrets Manager)"


def _no_plaintext_secrets(args: ResourceValidationArgs, _: Config) -> Iterator[str]:
    if args.resource_type.startswith("pulumi:providers:"):
        return
    yield from _plaintext(dict(args.props), "")


# --- S3 -------------------------------------------------------------------------------

PAB_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def _buckets_private(resources: list[PolicyResource], _: Config) -> Iterator[Finding]:
    g = Graph(resources)
    for bucket in g.of_type(BUCKET):
        if bucket.props.get("acl") in ("public-read", "public-read-write", "authenticated-read"):
            yield f"bucket {bucket.name} has canned ACL {bucket.props['acl']}", bucket.urn
        blocks = list(g.referrers(bucket, (BUCKET_PAB,), "bucket"))
        if not blocks:
            yield f"bucket {bucket.name} has no BucketPublicAccessBlock", bucket.urn
        for block in blocks:
            off = [f for f in PAB_FLAGS if flag(block.props.get(f)) is not True]
            if off:
                yield f"bucket {bucket.name}: public access block flags off: {', '.join(off)}", block.urn
        for acl in g.referrers(bucket, (BUCKET_ACL,), "bucket"):
            if acl.props.get("acl") in ("public-read", "public-read-write", "authenticated-read"):
                yield f"bucket {bucket.name}: BucketAcl grants {acl.props['acl']}", acl.urn


POLICIES = [
    resource_policy(
        "ebs-encrypted", "EBS volumes (launch templates, instances, volumes) are encrypted at rest.", (LAUNCH_TEMPLATE, INSTANCE, VOLUME), _ebs_encrypted
    ),
    resource_policy("rds-storage-encrypted", "RDS storage is encrypted at rest.", (RDS_INSTANCE, RDS_CLUSTER), _rds_encrypted),
    resource_policy("elasticache-encrypted-at-rest", "ElastiCache encrypts data at rest.", (CACHE_RG,), _cache_at_rest),
    resource_policy("elasticache-encrypted-in-transit", "ElastiCache encrypts traffic in transit.", (CACHE_RG,), _cache_in_transit),
    resource_policy("sqs-encrypted", "SQS queues are encrypted at rest.", (SQS_QUEUE,), _queue_encrypted),
    resource_policy("sns-encrypted", "SNS topics are encrypted at rest.", (SNS_TOPIC,), _topic_encrypted),
    stack_policy("s3-encrypted", "S3 buckets have default encryption configured.", _buckets_encrypted),
    resource_policy("rds-proxy-require-tls", "The RDS Proxy requires TLS.", (RDS_PROXY,), _proxy_tls),
    resource_policy("cloudfront-origin-https-only", "CloudFront reaches custom origins over HTTPS (TLSv1.2) only.", (DISTRIBUTION,), _cloudfront_origin_https),
    resource_policy(
        "imdsv2-required",
        "Instances require IMDSv2 tokens.",
        (LAUNCH_TEMPLATE, INSTANCE),
        _imdsv2,
        {
            "maxHopLimit": {
                "type": "integer",
                "minimum": 1,
                "maximum": 64,
                "default": 2,
                "description": "Highest allowed PUT response hop limit (2 lets containers reach IMDS).",
            }
        },
    ),
    resource_policy("no-public-ip", "App instances and subnets don't hand out public IPs.", (LAUNCH_TEMPLATE, INSTANCE, SUBNET), _no_public_ip),
    resource_policy("rds-not-public", "Databases are not publicly accessible.", (RDS_INSTANCE, RDS_CLUSTER), _rds_private),
    stack_policy(
        "sg-world-ingress-alb-only",
        "Security groups open to 0.0.0.0/0 or ::/0 only on the ALB's HTTP/HTTPS ports (inline rules and separate rule resources).",
        _sg_world_ingress,
        {
            "albPorts": {
                "type": "array",
                "items": {"type": "integer", "minimum": 1, "maximum": 65535},
                "default": [80, 443],
                "description": "Ports the internet may reach on the ALB.",
            }
        },
    ),
    resource_policy(
        "lb-listener-tls",
        "HTTPS listeners use a TLS 1.2+ policy; HTTP listeners only redirect to HTTPS.",
        (LISTENER, ALB_LISTENER),
        _listener_tls,
        {
            "allowedSslPolicies": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "description": "Allowed listener SSL policies; empty: any TLS13-1-2/1-3, TLS-1-2 or FS-1-2 policy.",
            }
        },
    ),
    resource_policy(
        "alb-hardened",
        "Application load balancers drop invalid headers and write access logs.",
        (LB, ALB),
        _alb_headers_and_logs,
        {"requireAccessLogs": {"type": "boolean", "default": True}},
    ),
    resource_policy(
        "cloudfront-hardened",
        "CloudFront: TLSv1.2_2021+ for viewers, HTTPS viewers only, WAF attached, access logging on.",
        (DISTRIBUTION,),
        _cloudfront,
        {
            "minimumTls": {"type": "string", "enum": _TLS_ORDER[_TLS_ORDER.index("TLSv1.2_2021") :], "default": "TLSv1.2_2021"},
            "requireWaf": {"type": "boolean", "default": True},
            "requireLogging": {"type": "boolean", "default": True},
        },
    ),
    resource_policy(
        "rds-managed-master-password", "RDS master passwords are managed by RDS in Secrets Manager.", (RDS_INSTANCE, RDS_CLUSTER), _managed_password
    ),
    resource_policy("no-plaintext-secrets", "No input that holds a secret is plaintext.", (), _no_plaintext_secrets),
    stack_policy("s3-private", "S3 buckets are private: no public ACL, every public access block flag on.", _buckets_private),
]
