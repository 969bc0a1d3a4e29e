"""What the EKS and Kubernetes components agree on: node labels and the taint that keep
critical pods on on-demand capacity, and the placement snippets that use them."""

from __future__ import annotations

from typing import Any

CLASS_LABEL = "workload-class"
CAPACITY_LABEL = "capacity"
CRITICAL = "critical"
GENERAL = "general"

# On-demand nodes carry this taint: only pods that tolerate it (system add-ons, the
# controllers, monitoring, the web baseline) land there; everything else goes to spot.
CRITICAL_TAINT = {"key": CLASS_LABEL, "value": CRITICAL, "effect": "NoSchedule"}
CRITICAL_TOLERATION = {"key": CLASS_LABEL, "operator": "Equal", "value": CRITICAL, "effect": "NoSchedule"}

ON_DEMAND_LABELS = {CLASS_LABEL: CRITICAL, CAPACITY_LABEL: "on-demand"}
SPOT_LABELS = {CLASS_LABEL: GENERAL, CAPACITY_LABEL: "spot"}

# A label every pod of the stack carries; NetworkPolicies select on it.
APP_LABEL = "app.kubernetes.io/name"
PART_OF_LABEL = "app.kubernetes.io/part-of"
PART_OF = "mortgagematch"


def critical_placement() -> dict[str, Any]:
    """Pod-spec fields (camelCase, as Helm values and add-on configs take them) that pin a
    pod to the on-demand baseline."""
    return {"nodeSelector": {CLASS_LABEL: CRITICAL}, "tolerations": [CRITICAL_TOLERATION]}
