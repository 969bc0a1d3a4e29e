"""``--format stack-export``: the capture as a ``pulumi stack export`` (version 3)
document that ``pulumi stack import`` accepts (then ``pulumi policy analyze`` runs on that
stack's state; it has no ``--file``): the fields of apitype ``DeploymentV3``/``ResourceV3``,
resources ordered after their parent, provider and (property) dependencies, and every
custom resource with a provider reference ``<urn>::<id>``, default providers included.

Secrets are secret objects (the engine's signature) around the placeholder, never the value."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any, Optional

from google.protobuf import json_format, struct_pb2

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


PROVIDER_PREFIX = "pulumi:providers:"


def default_provider(capture: Capture, package: str, version: str) -> CapturedResource:
    """The provider the engine creates for resources registered without one: one per
    package and version, no parent, named ``default_<version with _>``, inputs = the
    stack's ``<package>:*`` config (none here) plus ``version``; ids are UUIDs."""
    name = "default_" + re.sub(r"[^0-9A-Za-z_]", "_", version) if version else "default"
    type_ = PROVIDER_PREFIX + package
    urn = f"urn:pulumi:{capture.stack}::{capture.project}::{type_}::{name}"
    inputs = {"version": version} if version else {}
    raw = struct_pb2.Struct()
    raw.update(inputs)
    return CapturedResource(
        urn=urn,
        type=type_,
        name=name,
        parent="",
        custom=True,
        protect=False,
        dependencies=[],
        property_dependencies={},
        provider="",
        id=str(uuid.uuid5(uuid.NAMESPACE_URL, urn)),
        inputs=inputs,
        raw_inputs=raw,
        outputs=dict(inputs),
    )


def with_default_providers(capture: Capture) -> list[CapturedResource]:
    """The capture as the engine records it: a custom resource the program gives no
    provider gets a reference ``<urn>::<id>`` to its package's default provider (the
    mock monitor leaves ``provider`` empty there), and that provider is in the state."""
    defaults: dict[tuple[str, str], CapturedResource] = {}
    out: list[CapturedResource] = []
    for r in capture.resources:
        if r.custom and not r.provider and not r.type.startswith(PROVIDER_PREFIX):
            key = (r.type.split(":", 1)[0], r.version)
            if key not in defaults:
                defaults[key] = default_provider(capture, *key)
            p = defaults[key]
            r = dataclasses.replace(r, provider=f"{p.urn}::{p.id}")
        out.append(r)
    return [*defaults.values(), *out]


def state_order(resources: list[CapturedResource]) -> list[CapturedResource]:
    """Pulumi checks a snapshot's integrity: every resource comes after its parent, its
    provider, its dependencies and its property dependencies. Depth-first, keeping the capture's order otherwise."""
    by_urn = {r.urn: r for r in resources}
    done: set[str] = set()
    out: list[CapturedResource] = []

    def visit(r: CapturedResource) -> None:
        if r.urn in done:
            return
        done.add(r.urn)
        provider_urn = r.provider.rsplit("::", 1)[0] if r.provider else ""
        property_deps = [u for urns in r.property_dependencies.values() for u in urns]
        for urn in (r.parent, provider_urn, *r.dependencies, *property_deps):
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
            "resources": [export_resource(r) for r in state_order(with_default_providers(capture))],
        },
    }


def imported_resources(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Read an export back into the plan's per-resource shape (for round trips and diffs).
    Default providers are left out: the engine makes them, the program never registers them."""
    if doc.get("version") != EXPORT_VERSION:
        raise ValueError(f"stack export version must be {EXPORT_VERSION}, got {doc.get('version')!r}")
    out = []
    for r in doc["deployment"]["resources"]:
        name = r["urn"].rsplit("::", 1)[-1]
        if r["type"].startswith(PROVIDER_PREFIX) and (name == "default" or name.startswith("default_")):
            continue
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
