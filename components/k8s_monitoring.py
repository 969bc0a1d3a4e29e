"""Monitoring inside the cluster: kube-prometheus-stack (Prometheus, Alertmanager,
Grafana, kube-state-metrics) and prometheus-adapter (serves the requests/s metric the HPA
scales on), PrometheusRule alerts that mirror the CloudWatch alarms, and a Grafana
dashboard shipped as a ConfigMap the Grafana sidecar loads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.k8s_common import PART_OF, PART_OF_LABEL, critical_placement
from components.k8s_workload import RPS_METRIC
from components.naming import child, token

NAMESPACE = "monitoring"
PROMETHEUS_REPO = "https://prometheus-community.github.io/helm-charts"
GRAFANA_SECRET = "grafana-admin"
# Where the app's pods expose http_requests_total and the duration histogram (their named
# container port; the NetworkPolicy admits Prometheus there).
APP_METRICS_PORT, APP_METRICS_PATH = "http", "/metrics"


@dataclass(frozen=True)
class K8sMonitoringArgs:
    namespace: str  # the app's namespace (what the alerts and dashboard watch)
    chart_version: str
    adapter_chart_version: str
    retention_days: int
    storage_gb: int
    storage_class: str
    grafana_admin_password: Optional[pulumi.Output[str]] = None
    error_rate_pct: float = 5.0
    latency_p95_ms: int = 500
    saturation_pct: int = 85


def error_rate_expr(sel: str) -> str:
    return f'sum(rate(http_requests_total{{{sel},status=~"5.."}}[5m])) / sum(rate(http_requests_total{{{sel}}}[5m])) * 100'


def latency_p95_expr(sel: str) -> str:
    return f"histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{{{sel}}}[5m])))"


def cpu_saturation_expr(sel: str) -> str:
    return f'sum(rate(container_cpu_usage_seconds_total{{{sel},container!=""}}[5m])) / sum(kube_pod_container_resource_requests{{{sel},resource="cpu"}}) * 100'


def alert_rules(ns: str, error_rate_pct: float, latency_p95_ms: int, saturation_pct: int) -> list[dict[str, Any]]:
    """The CloudWatch alarms' Kubernetes twins: error rate, latency, saturation, HPA at max."""
    sel = f'namespace="{ns}"'
    return [
        {
            "alert": "HighErrorRate",
            "expr": f"{error_rate_expr(sel)} > {error_rate_pct:g}",
            "for": "5m",
            "labels": {"severity": "critical"},
            "annotations": {"summary": f"More than {error_rate_pct:g}% of requests fail with 5xx"},
        },
        {
            "alert": "HighLatencyP95",
            "expr": f"{latency_p95_expr(sel)} * 1000 > {latency_p95_ms}",
            "for": "10m",
            "labels": {"severity": "warning"},
            "annotations": {"summary": f"p95 latency above {latency_p95_ms} ms"},
        },
        {
            "alert": "CpuSaturation",
            "expr": f"{cpu_saturation_expr(sel)} > {saturation_pct}",
            "for": "15m",
            "labels": {"severity": "warning"},
            "annotations": {"summary": f"Pods use more than {saturation_pct}% of the CPU they request"},
        },
        {
            "alert": "HpaAtMaxReplicas",
            "expr": (f"kube_horizontalpodautoscaler_status_current_replicas{{{sel}}} >= kube_horizontalpodautoscaler_spec_max_replicas{{{sel}}}"),
            "for": "15m",
            "labels": {"severity": "warning"},
            "annotations": {"summary": "{{ $labels.horizontalpodautoscaler }} has been at its maximum for 15 minutes: raise max or node capacity"},
        },
    ]


def app_pod_monitor(ns: str) -> dict[str, Any]:
    """The scrape of the app's pods: without it Prometheus has no http_requests_total, so the
    adapter serves no requests/s to the HPA and the alerts and dashboard stay empty."""
    return {
        "namespaceSelector": {"matchNames": [ns]},
        "selector": {"matchLabels": {PART_OF_LABEL: PART_OF}},
        "podMetricsEndpoints": [{"port": APP_METRICS_PORT, "path": APP_METRICS_PATH, "interval": "30s"}],
    }


def dashboard(ns: str) -> dict[str, Any]:
    def panel(i: int, title: str, expr: str, unit: str) -> dict[str, Any]:
        return {
            "id": i,
            "type": "timeseries",
            "title": title,
            "gridPos": {"h": 8, "w": 12, "x": (i - 1) % 2 * 12, "y": (i - 1) // 2 * 8},
            "fieldConfig": {"defaults": {"unit": unit}},
            "targets": [{"expr": expr, "refId": "A"}],
        }

    sel = f'namespace="{ns}"'
    return {
        "title": "MortgageMatchPro on EKS",
        "uid": "mortgagematch-eks",
        "schemaVersion": 39,
        "time": {"from": "now-6h", "to": "now"},
        "panels": [
            panel(1, "Requests/s", f"sum(rate(http_requests_total{{{sel}}}[1m]))", "reqps"),
            panel(2, "5xx rate %", error_rate_expr(sel), "percent"),
            panel(3, "p95 latency", latency_p95_expr(sel), "s"),
            panel(4, "Replicas vs max", f"kube_horizontalpodautoscaler_status_current_replicas{{{sel}}}", "short"),
            panel(5, "CPU used / requested %", cpu_saturation_expr(sel), "percent"),
            panel(6, "Nodes by capacity type", 'count by (label_capacity) (kube_node_labels{label_capacity!=""})', "short"),
        ],
    }


def stack_values(args: K8sMonitoringArgs) -> dict[str, Any]:
    placement = critical_placement()
    return {
        "prometheus": {
            "prometheusSpec": {
                **placement,
                "retention": f"{args.retention_days}d",
                # Leave 10 % of the volume for the WAL and compaction.
                "retentionSize": f"{int(args.storage_gb * 0.9)}GB",
                "ruleSelectorNilUsesHelmValues": False,
                "serviceMonitorSelectorNilUsesHelmValues": False,
                "podMonitorSelectorNilUsesHelmValues": False,
                "storageSpec": {
                    "volumeClaimTemplate": {
                        "spec": {
                            "storageClassName": args.storage_class,
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": f"{args.storage_gb}Gi"}},
                        }
                    }
                },
            }
        },
        "alertmanager": {"alertmanagerSpec": {**placement}},
        "grafana": {
            **placement,
            "admin": {"existingSecret": GRAFANA_SECRET, "userKey": "admin-user", "passwordKey": "admin-password"},
            "sidecar": {"dashboards": {"enabled": True, "label": "grafana_dashboard", "labelValue": "1", "searchNamespace": "ALL"}},
            "persistence": {"enabled": True, "storageClassName": args.storage_class, "size": "10Gi"},
        },
        "prometheusOperator": {**placement},
        "kube-state-metrics": {**placement},
    }


def adapter_values() -> dict[str, Any]:
    """Serve ``http_requests_per_second`` per pod from the app's request counter."""
    return {
        **critical_placement(),
        "prometheus": {"url": f"http://kube-prometheus-stack-prometheus.{NAMESPACE}.svc", "port": 9090},
        "rules": {
            "default": False,
            "custom": [
                {
                    "seriesQuery": 'http_requests_total{namespace!="",pod!=""}',
                    "resources": {"overrides": {"namespace": {"resource": "namespace"}, "pod": {"resource": "pod"}}},
                    "name": {"matches": "^http_requests_total$", "as": RPS_METRIC},
                    "metricsQuery": "sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)",
                }
            ],
        },
    }


class K8sMonitoring(pulumi.ComponentResource):
    def __init__(self, name: str, args: K8sMonitoringArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(token("k8s", "Monitoring"), name, None, opts)
        ns = k8s.core.v1.Namespace(f"{name}-ns", metadata={"name": NAMESPACE, "labels": {"pod-security.kubernetes.io/enforce": "privileged"}}, opts=child(self))
        password: pulumi.Output[str]
        if args.grafana_admin_password is not None:
            password = args.grafana_admin_password
        else:
            password = random.RandomPassword(f"{name}-grafana-admin", length=32, special=False, opts=child(self)).result
        secret_password: pulumi.Output[str] = pulumi.Output.secret(password)
        secret = k8s.core.v1.Secret(
            f"{name}-grafana-admin",
            metadata={"name": GRAFANA_SECRET, "namespace": NAMESPACE},
            type="Opaque",
            string_data={"admin-user": "admin", "admin-password": secret_password},
            opts=child(self, depends_on=[ns]),
        )
        self.release = k8s.helm.v3.Release(
            f"{name}-kube-prometheus-stack",
            name="kube-prometheus-stack",
            chart="kube-prometheus-stack",
            version=args.chart_version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=PROMETHEUS_REPO),
            namespace=NAMESPACE,
            values=stack_values(args),
            atomic=True,
            cleanup_on_fail=True,
            timeout=900,
            opts=child(self, depends_on=[ns, secret]),
        )
        self.adapter = k8s.helm.v3.Release(
            f"{name}-prometheus-adapter",
            name="prometheus-adapter",
            chart="prometheus-adapter",
            version=args.adapter_chart_version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=PROMETHEUS_REPO),
            namespace=NAMESPACE,
            values=adapter_values(),
            atomic=True,
            opts=child(self, depends_on=[self.release]),
        )
        k8s.apiextensions.CustomResource(
            f"{name}-app-pods",
            api_version="monitoring.coreos.com/v1",
            kind="PodMonitor",
            metadata={"name": "mortgagematch-app", "namespace": NAMESPACE, "labels": {"release": "kube-prometheus-stack"}},
            spec=app_pod_monitor(args.namespace),
            opts=child(self, depends_on=[self.release]),
        )
        k8s.apiextensions.CustomResource(
            f"{name}-alerts",
            api_version="monitoring.coreos.com/v1",
            kind="PrometheusRule",
            metadata={"name": "mortgagematch-alerts", "namespace": NAMESPACE, "labels": {"release": "kube-prometheus-stack"}},
            spec={
                "groups": [{"name": "mortgagematch.rules", "rules": alert_rules(args.namespace, args.error_rate_pct, args.latency_p95_ms, args.saturation_pct)}]
            },
            opts=child(self, depends_on=[self.release]),
        )
        k8s.core.v1.ConfigMap(
            f"{name}-dashboard",
            metadata={"name": "mortgagematch-dashboard", "namespace": NAMESPACE, "labels": {"grafana_dashboard": "1"}},
            data={"mortgagematch.json": json.dumps(dashboard(args.namespace), sort_keys=True)},
            opts=child(self, depends_on=[ns]),
        )
        self.register_outputs({"namespace": NAMESPACE, "release": self.release.name})
