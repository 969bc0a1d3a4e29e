"""The Kubernetes path on the staging stack: cluster, node groups, identity, provider,
workloads, autoscalers, monitoring; every rendered manifest validates against the
Kubernetes OpenAPI schema of the configured version; ASG stacks stay Kubernetes-free."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from pytest_mock import MockerFixture

from infra.config import ConfigError, parse
from infra.config.sections.eks import ADDON_VERSIONS, SUPPORTED_VERSIONS
from infra.wiring import eks as eks_wiring
from scalestack import capacity, catalog
from scalestack.offline import Capture, CapturedResource, run_stack
from tests.conftest import captured, plan_variant, shipped_config, write_stack

NS = "mortgagematch-scaling"
CUSTOM_KINDS = {"VerticalPodAutoscaler", "ScaledObject", "TriggerAuthentication", "PrometheusRule", "PodMonitor"}


@pytest.fixture(scope="module")
def staging() -> Capture:
    return captured("staging")


def k8s_objects(capture: Capture) -> list[CapturedResource]:
    return [r for r in capture.resources if r.type.startswith("kubernetes:") and r.type != "kubernetes:helm.sh/v3:Release"]


def manifest(r: CapturedResource) -> dict[str, Any]:
    """The object the Kubernetes provider would send: the captured inputs as a manifest."""
    doc = dict(r.inputs)
    assert doc["apiVersion"] and doc["kind"], r.urn
    for field in ("data", "stringData"):
        # The SDK wraps a Secret's payload whole; offline it is one placeholder, never the value.
        if doc["kind"] == "Secret" and doc.get(field) == "[secret]":
            doc[field] = {"redacted": "[secret]"} if field == "stringData" else {"redacted": "W3NlY3JldF0="}
    return doc


def kind(capture: Capture, kind_: str, name: str | None = None) -> dict[str, Any]:
    found = [manifest(r) for r in k8s_objects(capture) if r.inputs.get("kind") == kind_ and name in (None, r.inputs["metadata"].get("name"))]
    assert len(found) == 1, (kind_, name, len(found))
    return found[0]


# --- config ---------------------------------------------------------------------


def _staging(**eks: Any) -> dict[str, Any]:
    values = shipped_config("staging")
    values[f"{NS}:eks"] = {**values[f"{NS}:eks"], **eks}
    return values


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (_staging(version="1.27"), f"x: {NS}:eks.version: must be one of the supported EKS versions 1.30, 1.31, 1.32, 1.33, 1.34, got '1.27'"),
        (
            _staging(worker={"image": "r/w:1", "requests": {"cpu_millicores": 2000, "memory_mib": 512}, "limits": {"cpu_millicores": 1000, "memory_mib": 512}}),
            f"x: {NS}:eks.worker.requests.cpu_millicores: must be <= limits.cpu_millicores (1000), got 2000",
        ),
        (
            _staging(web={"image": "r/w:1", "limits": {"cpu_millicores": 2000, "memory_mib": 256}}),
            f"x: {NS}:eks.web.requests.memory_mib: must be <= limits.memory_mib (256), got 1792",
        ),
        (_staging(web={"image": "r/w:1", "min_replicas": 6, "max_replicas": 3}), f"x: {NS}:eks.web.max_replicas: must be >= min_replicas (6), got 3"),
        (_staging(web={"image": "registry.example.com:5000/web"}), f"x: {NS}:eks.web.image: must be pinned by tag or digest"),
        (_staging(worker={"image": "r/worker:latest"}), f"x: {NS}:eks.worker.image: must be pinned by tag or digest"),
        (_staging(public_access_cidrs=[]), f"x: {NS}:eks.public_access_cidrs: must list the CIDRs allowed to reach the public endpoint, got []"),
        (_staging(public_access_cidrs=["0.0.0.0/0"]), f"x: {NS}:eks.public_access_cidrs: must not open the API endpoint to the whole internet"),
        (_staging(spot={"instance_type": "t4g.small"}), f"x: {NS}:eks.spot.instance_type: must have >= 3 same-size alternatives"),
        ({**_staging(), f"{NS}:phase": "planning"}, f"x: {NS}:compute.platform: must be 'asg' in phase 'planning' (eks needs the autoscaling"),
        ({**_staging(), f"{NS}:phase": "assessment"}, f"x: {NS}:compute.platform: must be 'asg' in phase 'assessment'"),
        (_staging(monitoring={"chart_version": "^77.0"}), f"x: {NS}:eks.monitoring.chart_version: must be an exact chart version like 1.2.3"),
    ],
)
def test_bad_eks_input_gives_one_line(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse(values, [], "x")
    assert str(err.value).startswith(message), str(err.value)
    assert "\n" not in str(err.value)


def test_bad_eks_input_through_the_cli_registers_nothing(tmp_path: Path, mocker: MockerFixture) -> None:
    from typer.testing import CliRunner

    from scalestack import offline
    from scalestack.cli import app

    write_stack(tmp_path, "bad", _staging(version="1.99"))
    spy = mocker.spy(offline.CapturingMonitor, "RegisterResource")
    result = CliRunner().invoke(app, ["plan", "bad", "--project-dir", str(tmp_path)])
    assert result.exit_code == 2 and spy.call_count == 0
    assert result.stderr.strip().endswith(
        f"Pulumi.bad.yaml: {NS}:eks.version: must be one of the supported EKS versions 1.30, 1.31, 1.32, 1.33, 1.34, got '1.99'"
    )


def test_supported_versions_have_offline_schemas_and_addon_pins() -> None:
    shipped = {kubernetes_validate.utils.major_minor(v) for v in kubernetes_validate.utils.all_versions()}
    assert set(SUPPORTED_VERSIONS) <= shipped
    for version in SUPPORTED_VERSIONS:
        assert ADDON_VERSIONS[version]["kube-proxy"].startswith(f"v{version}."), "kube-proxy must match the control plane minor"


# --- EKS (pulumi-aws) -----------------------------------------------------------


def test_cluster_private_endpoint_kms_logs_version(staging: Capture) -> None:
    cluster = staging.one("aws:eks/cluster:Cluster").inputs
    vpc = cluster["vpcConfig"]
    assert vpc["endpointPrivateAccess"] is True and vpc["endpointPublicAccess"] is True
    assert vpc["publicAccessCidrs"] == ["203.0.113.0/24"]
    assert set(vpc["subnetIds"]) == set(staging.stack_outputs["private_subnet_ids"])
    assert cluster["version"] == "1.32" and cluster["name"] == "mortgagematch-staging"
    assert cluster["encryptionConfig"]["resources"] == ["secrets"]
    assert cluster["encryptionConfig"]["provider"]["keyArn"].startswith("arn:aws:kms:us-east-1:")
    assert staging.one("aws:kms/key:Key", "eks-secrets-key").inputs["enableKeyRotation"] is True
    assert set(cluster["enabledClusterLogTypes"]) == {"api", "audit", "authenticator", "controllerManager", "scheduler"}
    assert staging.find("eks-control-plane-logs").inputs["name"] == "/aws/eks/mortgagematch-staging/cluster"
    assert cluster["accessConfig"]["authenticationMode"] == "API"


def test_addons_pinned_with_irsa_and_critical_placement(staging: Capture) -> None:
    addons = {r.inputs["addonName"]: r.inputs for r in staging.by_type("aws:eks/addon:Addon")}
    assert set(addons) == {"vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver"}
    assert {n: a["addonVersion"] for n, a in addons.items()} == ADDON_VERSIONS["1.32"]
    assert addons["aws-ebs-csi-driver"]["serviceAccountRoleArn"].startswith("arn:aws:iam::")
    assert json.loads(addons["vpc-cni"]["configurationValues"]) == {"enableNetworkPolicy": "true"}
    assert json.loads(addons["coredns"]["configurationValues"])["nodeSelector"] == {"workload-class": "critical"}


def test_node_groups_on_demand_baseline_and_diversified_spot(staging: Capture) -> None:
    od = staging.one("aws:eks/nodeGroup:NodeGroup", "eks-on-demand").inputs
    spot = staging.one("aws:eks/nodeGroup:NodeGroup", "eks-spot").inputs
    assert od["capacityType"] == "ON_DEMAND" and od["instanceTypes"] == ["m7g.large"]
    assert od["taints"] == [{"key": "workload-class", "value": "critical", "effect": "NO_SCHEDULE"}]
    assert od["labels"]["workload-class"] == "critical"
    assert spot["capacityType"] == "SPOT" and not spot.get("taints")
    assert spot["instanceTypes"][0] == "m7g.large"
    assert spot["instanceTypes"][1:] == catalog.same_size_alternatives("m7g.large")[: len(spot["instanceTypes"]) - 1]
    assert len(spot["instanceTypes"]) >= 4 and {catalog.ec2_type(t).arch for t in spot["instanceTypes"]} == {"arm64"}
    for group in (od, spot):
        assert group["amiType"] == "AL2023_ARM_64_STANDARD"
        assert group["tags"]["k8s.io/cluster-autoscaler/enabled"] == "true"
        assert group["tags"]["k8s.io/cluster-autoscaler/mortgagematch-staging"] == "owned"
        sc = group["scalingConfig"]
        assert 0 <= sc["minSize"] <= sc["desiredSize"] <= sc["maxSize"]
    assert od["tags"]["k8s.io/cluster-autoscaler/node-template/taint/workload-class"] == "critical:NoSchedule"
    assert od["scalingConfig"]["minSize"] >= 2, "one on-demand node per AZ at least"
    lt = staging.one("aws:ec2/launchTemplate:LaunchTemplate").inputs
    assert lt["metadataOptions"]["httpTokens"] == "required" and lt["metadataOptions"]["httpPutResponseHopLimit"] == 1
    assert lt["blockDeviceMappings"][0]["ebs"]["encrypted"] == "true"


def test_node_groups_wait_for_the_cni_and_coredns_waits_for_nodes(staging: Capture) -> None:
    """bootstrapSelfManagedAddons is off: nodes cannot turn Ready before vpc-cni and
    kube-proxy exist, and coredns/ebs-csi cannot turn ACTIVE before nodes exist."""
    assert staging.one("aws:eks/cluster:Cluster").inputs["bootstrapSelfManagedAddons"] is False
    addons = {r.inputs["addonName"]: r for r in staging.by_type("aws:eks/addon:Addon")}
    groups = staging.by_type("aws:eks/nodeGroup:NodeGroup")
    for group in groups:
        assert {addons["vpc-cni"].urn, addons["kube-proxy"].urn} <= set(group.dependencies), group.name
    for addon in ("coredns", "aws-ebs-csi-driver"):
        assert {g.urn for g in groups} <= set(addons[addon].dependencies), addon


def test_node_sizes_follow_the_capacity_model(staging: Capture) -> None:
    cfg = staging.config
    size = eks_wiring.sizing(cfg)
    req = cfg.eks.requests_for("web")
    assert req == capacity.default_pod_requests("m7g.large")
    assert size.web_replicas == (capacity.web_pod_capacity(cfg.load, req.cpu_millicores, 2, False).min_size, size.web.max_size)
    od = staging.one("aws:eks/nodeGroup:NodeGroup", "eks-on-demand").inputs["scalingConfig"]
    assert od["minSize"] == max(2, capacity.nodes_for(size.web_replicas[0], req, "m7g.large"))


def test_subnets_tagged_for_the_load_balancer_controller(staging: Capture) -> None:
    tags = {(r.inputs["resourceId"], r.inputs["key"]) for r in staging.by_type("aws:ec2/tag:Tag")}
    out = staging.stack_outputs
    assert {(s, "kubernetes.io/role/elb") for s in out["public_subnet_ids"]} <= tags
    assert {(s, "kubernetes.io/role/internal-elb") for s in out["private_subnet_ids"]} <= tags


def test_kubernetes_provider_from_cluster_outputs_with_exec_auth(staging: Capture) -> None:
    provider = staging.one("pulumi:providers:kubernetes")
    config = json.loads(provider.inputs["kubeconfig"])
    cluster = staging.one("aws:eks/cluster:Cluster")
    user = config["users"][0]["user"]
    assert user["exec"]["command"] == "aws" and user["exec"]["args"][:2] == ["eks", "get-token"]
    assert "token" not in user and config["clusters"][0]["cluster"]["server"].endswith(".eks.amazonaws.com")
    assert cluster.urn in provider.dependencies or any(cluster.urn in v for v in provider.property_dependencies.values())
    for r in k8s_objects(staging):
        assert r.provider.startswith(provider.urn + "::"), r.urn


def test_irsa_roles_trust_only_their_service_account(staging: Capture) -> None:
    oidc = staging.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider").inputs
    assert oidc["clientIdLists"] == ["sts.amazonaws.com"]
    trust = json.loads(staging.find("eks-lb-controller-irsa").inputs["assumeRolePolicy"])
    (statement,) = trust["Statement"]
    cond = statement["Condition"]["StringEquals"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert "system:serviceaccount:kube-system:aws-load-balancer-controller" in cond.values()


# --- workloads (pulumi-kubernetes) ----------------------------------------------


def test_every_manifest_validates_against_the_configured_kubernetes_schema(staging: Capture) -> None:
    version = staging.config.eks.version
    checked = set()
    for r in k8s_objects(staging):
        doc = manifest(r)
        if doc["kind"] in CUSTOM_KINDS:
            assert doc["metadata"]["name"] and isinstance(doc["spec"], dict)
            continue
        assert kubernetes_validate.validate(doc, version, strict=True) == version, r.urn
        checked.add(doc["kind"])
    assert {
        "Namespace",
        "Deployment",
        "Service",
        "Ingress",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "NetworkPolicy",
        "ConfigMap",
        "Secret",
        "StorageClass",
    } <= checked


def test_schema_validation_catches_a_broken_manifest(staging: Capture) -> None:
    doc = kind(staging, "HorizontalPodAutoscaler")
    broken = {**doc, "spec": {**doc["spec"], "minReplicas": "two"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, staging.config.eks.version, strict=True)


def test_web_deployment_is_hardened_pinned_probed_and_spread(staging: Capture) -> None:
    d = kind(staging, "Deployment", "web")
    assert "replicas" not in d["spec"], "the HPA owns the replica count"
    pod = d["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    assert c["image"].endswith("/mortgagematch/web:2.4.1")
    ctx = c["securityContext"]
    assert ctx["runAsNonRoot"] and ctx["readOnlyRootFilesystem"] and not ctx["allowPrivilegeEscalation"]
    assert ctx["capabilities"]["drop"] == ["ALL"] and ctx["seccompProfile"]["type"] == "RuntimeDefault"
    assert pod["securityContext"]["runAsUser"] != 0
    assert c["readinessProbe"]["httpGet"]["path"] == "/healthz" and "livenessProbe" in c
    req = staging.config.eks.requests_for("web")
    assert c["resources"]["requests"] == {"cpu": f"{req.cpu_millicores}m", "memory": f"{req.memory_mib}Mi"}
    assert c["resources"]["limits"]["cpu"] == f"{2 * req.cpu_millicores}m"
    zone = [t for t in pod["topologySpreadConstraints"] if t["topologyKey"] == "topology.kubernetes.io/zone"]
    assert zone and zone[0]["whenUnsatisfiable"] == "DoNotSchedule"
    assert pod["tolerations"][0]["key"] == "workload-class"


def test_ingress_uses_the_aws_load_balancer_controller(staging: Capture) -> None:
    ing = kind(staging, "Ingress")
    ann = ing["metadata"]["annotations"]
    assert ing["spec"]["ingressClassName"] == "alb"
    assert ann["alb.ingress.kubernetes.io/target-type"] == "ip" and ann["alb.ingress.kubernetes.io/scheme"] == "internet-facing"
    assert "routing.http.drop_invalid_header_fields.enabled=true" in ann["alb.ingress.kubernetes.io/load-balancer-attributes"]
    releases = {r.inputs["chart"]: r.inputs for r in staging.by_type("kubernetes:helm.sh/v3:Release")}
    lbc = releases["aws-load-balancer-controller"]
    assert lbc["version"] == "1.13.4" and lbc["values"]["clusterName"] == "mortgagematch-staging"
    assert lbc["values"]["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam::")


def test_hpa_scales_on_cpu_and_requests_per_second_with_behaviour(staging: Capture) -> None:
    hpa = kind(staging, "HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    spec = hpa["spec"]
    size = eks_wiring.sizing(staging.config)
    assert (spec["minReplicas"], spec["maxReplicas"]) == size.web_replicas and spec["minReplicas"] < spec["maxReplicas"]
    types = {m["type"]: m for m in spec["metrics"]}
    assert types["Resource"]["resource"]["target"]["averageUtilization"] == 60
    assert types["Pods"]["pods"]["metric"]["name"] == "http_requests_per_second"
    assert types["Pods"]["pods"]["target"]["averageValue"] == f"{round(size.rps_per_pod * 1000)}m"
    assert spec["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300
    assert spec["behavior"]["scaleDown"]["policies"][0]["type"] == "Percent"


def test_without_in_cluster_monitoring_the_hpa_scales_on_cpu_only(tmp_path: Path) -> None:
    """No prometheus-adapter, no custom metrics API: a Pods metric the HPA cannot fetch
    blocks every scale-down, so the HPA must not ask for it."""
    capture = plan_variant(tmp_path, "staging", {"eks": {"monitoring": {"enabled": False}}})
    assert "prometheus-adapter" not in {r.inputs["chart"] for r in capture.by_type("kubernetes:helm.sh/v3:Release")}
    metrics = kind(capture, "HorizontalPodAutoscaler")["spec"]["metrics"]
    assert [m["type"] for m in metrics] == ["Resource"]


def test_pdb_vpa_and_network_policy(staging: Capture) -> None:
    pdb = kind(staging, "PodDisruptionBudget", "web")
    assert pdb["spec"]["maxUnavailable"] == 1 and pdb["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] == "web"
    vpa = kind(staging, "VerticalPodAutoscaler", "web")
    assert vpa["apiVersion"] == "autoscaling.k8s.io/v1" and vpa["spec"]["updatePolicy"]["updateMode"] == "Off"
    assert vpa["spec"]["targetRef"]["name"] == "web"
    policy = kind(staging, "NetworkPolicy", "web-ingress")
    peers = policy["spec"]["ingress"][0]["from"]
    assert {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "web", "app.kubernetes.io/part-of": "mortgagematch"}}} in peers
    cidrs = {p["ipBlock"]["cidr"] for p in peers if "ipBlock" in p}
    public = {r.inputs["cidrBlock"] for r in staging.by_type("aws:ec2/subnet:Subnet") if r.name.startswith("network-public-")}
    assert cidrs == public and len(public) == 2, "only the ALB's public subnets"
    deny = kind(staging, "NetworkPolicy", "default-deny-ingress")
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}


def test_no_queues_no_keda(tmp_path: Path) -> None:
    capture = plan_variant(tmp_path, "staging", {"workers": {"enabled": False}})
    kinds = {r.inputs.get("kind") for r in k8s_objects(capture)}
    assert not kinds & {"ScaledObject", "TriggerAuthentication"}
    assert "keda" not in {r.inputs["chart"] for r in capture.by_type("kubernetes:helm.sh/v3:Release")}


# --- monitoring -----------------------------------------------------------------


def test_kube_prometheus_stack_pinned_with_retention_storage_and_secret_password(staging: Capture) -> None:
    stack = next(r.inputs for r in staging.by_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == "kube-prometheus-stack")
    assert stack["version"] == "77.6.2"
    prom = stack["values"]["prometheus"]["prometheusSpec"]
    assert prom["retention"] == "7d" and prom["retentionSize"] == "27GB"
    assert prom["storageSpec"]["volumeClaimTemplate"]["spec"]["resources"]["requests"]["storage"] == "30Gi"
    assert stack["values"]["grafana"]["admin"]["existingSecret"] == "grafana-admin"
    secret = next(r for r in k8s_objects(staging) if r.inputs.get("kind") == "Secret")
    assert secret.inputs["stringData"] == "[secret]"
    assert staging.by_type("random:index/randomPassword:RandomPassword"), "no password configured: one is generated"


def test_private_endpoint_and_configured_grafana_password(tmp_path: Path) -> None:
    values = _staging(monitoring={"grafana_admin_password": {"secure": "v1:abc"}}, endpoint_public_access=False, public_access_cidrs=[])
    write_stack(tmp_path, "pw", values)
    capture = run_stack(tmp_path, "pw")
    vpc = capture.one("aws:eks/cluster:Cluster").inputs["vpcConfig"]
    assert vpc["endpointPrivateAccess"] is True and vpc["endpointPublicAccess"] is False and "publicAccessCidrs" not in vpc
    assert not [r for r in capture.by_type("random:index/randomPassword:RandomPassword") if "grafana" in r.name]
    secret = next(r for r in k8s_objects(capture) if r.inputs.get("kind") == "Secret")
    assert secret.inputs["stringData"] == "[secret]"


def test_prometheus_rules_mirror_the_cloudwatch_alarms_and_dashboard_ships(staging: Capture) -> None:
    rules = kind(staging, "PrometheusRule")["spec"]["groups"][0]["rules"]
    assert {r["alert"] for r in rules} == {"HighErrorRate", "HighLatencyP95", "CpuSaturation", "HpaAtMaxReplicas"}
    assert all('namespace="mortgagematch"' in r["expr"] for r in rules)
    hpa_rule = next(r for r in rules if r["alert"] == "HpaAtMaxReplicas")
    assert "kube_horizontalpodautoscaler_spec_max_replicas" in hpa_rule["expr"]
    cm = kind(staging, "ConfigMap", "mortgagematch-dashboard")
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(cm["data"]["mortgagematch.json"])["panels"]


def test_prometheus_scrapes_the_app_pods_the_adapter_and_alerts_read(staging: Capture) -> None:
    """The adapter's series and the alerts need http_requests_total from the app's pods:
    a PodMonitor must select them on a container port they name, in their namespace."""
    monitor = kind(staging, "PodMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1" and monitor["metadata"]["namespace"] == "monitoring"
    spec = monitor["spec"]
    assert spec["namespaceSelector"] == {"matchNames": [staging.config.eks.namespace]}
    pod = kind(staging, "Deployment", "web")["spec"]["template"]
    assert spec["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    ports = {p["name"] for p in pod["spec"]["containers"][0]["ports"]}
    assert {e["port"] for e in spec["podMetricsEndpoints"]} <= ports
    release = next(r for r in staging.by_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == "kube-prometheus-stack")
    assert release.urn in staging.find("k8s-monitoring-app-pods").dependencies, "the CRD comes with the chart"


# --- ASG stacks -----------------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_asg_stacks_contain_no_kubernetes(stack: str) -> None:
    capture = captured(stack)
    assert capture.config.compute.platform == "asg"
    assert not [r for r in capture.resources if r.type.startswith(("kubernetes:", "pulumi:providers:kubernetes", "aws:eks/"))]
    assert not [r for r in capture.resources if r.type.startswith("mortgagematch:k8s") or r.type.startswith("mortgagematch:eks")]


# --- KEDA on the issue-3 job queues ---------------------------------------------


@pytest.fixture(scope="module")
def with_queues() -> Capture:
    return captured("staging")


def _queue(capture: Capture, name: str) -> CapturedResource:
    return capture.one("aws:sqs/queue:Queue", name)


def test_worker_scaled_by_keda_on_sqs_backlog_through_its_role(with_queues: Capture) -> None:
    so = kind(with_queues, "ScaledObject")
    (trigger,) = so["spec"]["triggers"]
    size = eks_wiring.sizing(with_queues.config)
    assert trigger["type"] == "aws-sqs-queue"
    assert trigger["metadata"]["queueURL"] == _queue(with_queues, "queues-jobs").state()["url"]
    assert trigger["metadata"]["queueLength"] == str(size.messages_per_pod)
    assert so["spec"]["scaleTargetRef"]["name"] == "worker"
    assert (so["spec"]["minReplicaCount"], so["spec"]["maxReplicaCount"]) == size.worker_replicas
    auth = kind(with_queues, "TriggerAuthentication")
    assert trigger["authenticationRef"]["name"] == auth["metadata"]["name"]
    assert auth["spec"]["podIdentity"] == {"provider": "aws", "identityOwner": "workload"}
    sa = kind(with_queues, "ServiceAccount", "worker")
    assert sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam::123456789012:role/eks-worker-irsa")
    keda = next(r.inputs for r in with_queues.by_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == "keda")
    assert keda["values"]["podIdentity"]["aws"]["irsa"]["enabled"] is True
    assert kubernetes_validate.validate(kind(with_queues, "Deployment", "worker"), "1.32", strict=True)


def test_worker_role_may_only_consume_its_queues(with_queues: Capture) -> None:
    policies = [r for r in with_queues.by_type("aws:iam/rolePolicy:RolePolicy") if r.name == "eks-worker-irsa"]
    policy = json.loads(policies[0].inputs["policy"])
    (statement,) = policy["Statement"]
    consumed = [q.state()["arn"] for q in with_queues.by_type("aws:sqs/queue:Queue") if "dlq" not in q.name]
    assert sorted(statement["Resource"]) == sorted(consumed), "the job queues, not the DLQ, nothing else"
    assert all(a.startswith("sqs:") for a in statement["Action"]) and "sqs:SendMessage" not in statement["Action"]
    role = next(r for r in with_queues.by_type("aws:iam/role:Role") if r.name == "eks-worker-irsa")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert "system:serviceaccount:mortgagematch:worker" in trust[0]["Condition"]["StringEquals"].values()
    assert trust[1]["Principal"]["AWS"][0].startswith("arn:aws:iam::123456789012:role/eks-keda-operator-irsa")
    worker = kind(with_queues, "Deployment", "worker")["spec"]["template"]["spec"]
    assert "tolerations" not in worker, "workers run on spot only"


def test_data_tier_admits_the_pods_through_the_cluster_security_group(staging: Capture) -> None:
    cluster_sg = staging.one("aws:eks/cluster:Cluster").state()["vpcConfig"]["clusterSecurityGroupId"]
    rules = {r.name: r.inputs for r in staging.by_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")}
    assert rules["database-ingress-from-eks-pods"]["referencedSecurityGroupId"] == cluster_sg
    assert rules["cache-ingress-from-eks-pods"]["referencedSecurityGroupId"] == cluster_sg
    assert not [n for n in rules if n.endswith(("-from-web", "-from-workers"))], "no instance groups on EKS"


def test_ingress_alb_is_deletable_outside_prod(staging: Capture) -> None:
    attributes = kind(staging, "Ingress")["metadata"]["annotations"]["alb.ingress.kubernetes.io/load-balancer-attributes"]
    assert "deletion_protection.enabled=false" in attributes, "`pulumi destroy` of a non-prod stack must not hang on the Ingress finalizer"
    assert "routing.http.drop_invalid_header_fields.enabled=true" in attributes
