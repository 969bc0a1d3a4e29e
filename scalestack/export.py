"""``--format stack-export``: the capture as a ``pulumi stack export`` (version 3)
document, which ``pulumi policy analyze --file`` and ``pulumi stack import`` read.

Secrets are secret objects (the engine's signature) around the placeholder, never the value."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, Optional

from google.protobuf import json_format

from infra.config.secrets import PLACEHOLDER
from scalestack.offline import SECRET_SIG, SIG_KEY, UNKNOWN, Capture, CapturedResource

EXPORT_VERSION = 3
PULUMI_VERSION = "v3.272.0"


def secret_object() -> dict[str, str]:
    return {SIG_KEY: SECRET_SIG, "plaintext": json.dumps(PLACEHOLDER)}


def export_value(value: Any) -> Any:
    """Wire value -> state value: secrets masked as secret objects, integral doubles as ints."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return secret_object()
        return {k: export_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [export_value(v) for v in value if v != UNKNOWN]
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if value == PLACEHOLDER:
        return secret_object()
    return value


def import_value(value: Any) -> Any:
    """State value -> the plan's plain form (secrets as the placeholder)."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return PLACEHOLDER
        return {k: import_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [import_value(v) for v in value]
    return value


def export_resource(r: CapturedResource) -> dict[str, Any]:
    inputs = {k: v for k, v in export_value(json_format.MessageToDict(r.raw_inputs)).items() if v != UNKNOWN}
    entry: dict[str, Any] = {
        "urn": r.urn,
        "custom": r.custom,
        "type": r.type,
        "inputs": inputs,
        "outputs": export_value(r.state()),
    }
    if r.custom:
        entry["id"] = r.id
    if r.parent:
        entry["parent"] = r.parent
    if r.protect:
        entry["protect"] = True
    entry["dependencies"] = sorted(r.dependencies)
    if r.provider:
        entry["provider"] = r.provider
    entry["propertyDependencies"] = {k: sorted(v) for k, v in sorted(r.property_dependencies.items())}
    return entry


def state_order(resources: list[CapturedResource]) -> list[CapturedResource]:
    """Pulumi checks a snapshot's integrity: every resource comes after its parent, its
    provider and its dependencies. Depth-first, keeping the capture's order otherwise."""
    by_urn = {r.urn: r for r in resources}
    done: set[str] = set()
    out: list[CapturedResource] = []

    def visit(r: CapturedResource) -> None:
        if r.urn in done:
            return
        done.add(r.urn)
        provider_urn = r.provider.rsplit("::", 1)[0] if r.provider else ""
        for urn in (r.parent, provider_urn, *r.dependencies):
            if urn in by_urn:
                visit(by_urn[urn])
        out.append(r)

    for r in resources:
        visit(r)
    return out


def stack_export(capture: Capture, time: Optional[str] = None) -> dict[str, Any]:
    return {
        "version": EXPORT_VERSION,
        "deployment": {
            "manifest": {
                "time": time or datetime.now(UTC).isoformat(timespec="seconds"),
                "magic": hashlib.sha256(PULUMI_VERSION.encode()).hexdigest(),
                "version": PULUMI_VERSION,
            },
            "resources": [export_resource(r) for r in state_order(capture.resources)],
        },
    }


def imported_resources(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Read an export back into the plan's per-resource shape (for round trips and diffs)."""
    if doc.get("version") != EXPORT_VERSION:
        raise ValueError(f"stack export version must be {EXPORT_VERSION}, got {doc.get('version')!r}")
    out = []
    for r in doc["deployment"]["resources"]:
        name = r["urn"].rsplit("::", 1)[-1]
        out.append(
            {
                "urn": r["urn"],
                "type": r["type"],
                "name": name,
                "parent": r.get("parent", ""),
                "custom": r["custom"],
                "protect": r.get("protect", False),
                "dependencies": sorted(r.get("dependencies", [])),
                "inputs": import_value(r.get("inputs", {})),
            }
        )
    return out
