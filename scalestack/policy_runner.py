"""Run the policy pack exactly as the Pulumi engine does, without the CLI.

The pack is started as ``python -m pulumi.policy <engine-address> policies``; its first
stdout line is the analyzer's port. Then, over the real ``pulumirpc.Analyzer`` gRPC
protocol: ``GetAnalyzerInfo`` -> ``Configure`` (the stack's policy config, validated
against each policy's schema and filled with its defaults, as the CLI does) ->
``ConfigureStack`` -> ``Analyze`` per resource (options incl. protect, provider) ->
``AnalyzeStack`` (the whole graph with parent, dependencies, propertyDependencies).

Input is a ``Capture`` (offline plan) or a ``pulumi stack export`` file (version 3).
Nothing passes silently: a rule that reads an unknown value, a rule that raises and an
analyzer call that fails all come back as findings."""

from __future__ import annotations

import difflib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import grpc
import jsonschema
from google.protobuf import empty_pb2, json_format
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc, engine_pb2_grpc

from scalestack import REPO_ROOT
from scalestack.offline import RESOURCE_REF_SIG, SECRET_SIG, SIG_KEY, Capture

PACK_DIR = REPO_ROOT / "policies"
CONFIG_DIR = PACK_DIR / "config"
LEVELS = ("advisory", "mandatory", "remediate", "disabled")
_LEVEL_TO_PROTO = {
    "advisory": analyzer_pb2.ADVISORY,
    "mandatory": analyzer_pb2.MANDATORY,
    "remediate": analyzer_pb2.REMEDIATE,
    "disabled": analyzer_pb2.DISABLED,
}
_PROTO_TO_LEVEL = {v: k for k, v in _LEVEL_TO_PROTO.items()}
_UNKNOWN_PREFIX = "can't run policy"
START_TIMEOUT_S = 30.0


class PolicyPackError(Exception):
    """The pack could not start or its config is invalid (one line, names the file)."""


@dataclass(frozen=True)
class Finding:
    """One verdict: a violation, a rule that could not run on unknowns, or an error."""

    policy: str
    pack: str
    enforcement: str  # advisory | mandatory (remediate reports as mandatory)
    urn: str
    message: str
    kind: str = "violation"  # violation | unknown | error

    @property
    def blocking(self) -> bool:
        return self.enforcement == "mandatory"

    def as_dict(self) -> dict[str, str]:
        return {"policy": self.policy, "pack": self.pack, "enforcement": self.enforcement, "urn": self.urn, "message": self.message, "kind": self.kind}


@dataclass
class Resource:
    """What the engine knows of a resource when it calls the analyzer."""

    urn: str
    type: str
    name: str
    properties: dict[str, Any]  # wire form: secrets and other signatures kept
    parent: str = ""
    protect: bool = False
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    provider: str = ""  # provider reference "<urn>::<id>"


# --- inputs ---------------------------------------------------------------------------


def _downgrade_refs(value: Any) -> Any:
    """Resource references become their URN: analyzers don't accept references (the engine
    downgrades them too), and pulumi-policy refuses unknown signatures."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == RESOURCE_REF_SIG:
            return value.get("id") or value.get("urn", "")
        return {k: _downgrade_refs(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_downgrade_refs(v) for v in value]
    return value


def resources_from_capture(capture: Capture) -> list[Resource]:
    return [
        Resource(
            urn=r.urn,
            type=r.type,
            name=r.name,
            properties=_downgrade_refs(json_format.MessageToDict(r.raw_inputs)),
            parent=r.parent,
            protect=r.protect,
            dependencies=list(r.dependencies),
            property_dependencies={k: list(v) for k, v in r.property_dependencies.items()},
            provider=r.provider,
        )
        for r in capture.resources
    ]


def _export_value(value: Any) -> Any:
    """Export secrets ({sig, plaintext|ciphertext}) -> wire secrets ({sig, value})."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            inner = json.loads(value["plaintext"]) if "plaintext" in value else value.get("value", "[secret]")
            return {SIG_KEY: SECRET_SIG, "value": _export_value(inner)}
        return {k: _export_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_export_value(v) for v in value]
    return value


def resources_from_export(path: Path) -> tuple[str, list[Resource]]:
    """The stack name and resources of a ``pulumi stack export`` (version 3) file."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise PolicyPackError(f"{path.name}: not a readable stack export: {exc}") from None
    if not isinstance(doc, dict) or doc.get("version") != 3 or not isinstance(doc.get("deployment"), dict):
        raise PolicyPackError(
            f"{path.name}: expected a `pulumi stack export` document with version 3, got version {doc.get('version') if isinstance(doc, dict) else None!r}"
        )
    out: list[Resource] = []
    stack = ""
    for r in doc["deployment"].get("resources") or []:
        urn = r["urn"]
        stack = stack or urn.split("::")[0].removeprefix("urn:pulumi:")
        out.append(
            Resource(
                urn=urn,
                type=r["type"],
                name=urn.rsplit("::", 1)[-1],
                properties=_downgrade_refs(_export_value(r.get("inputs") or {})),
                parent=r.get("parent", ""),
                protect=bool(r.get("protect", False)),
                dependencies=list(r.get("dependencies") or []),
                property_dependencies={k: list(v) for k, v in (r.get("propertyDependencies") or {}).items()},
                provider=r.get("provider", ""),
            )
        )
    return stack, out


# --- the pack's config ----------------------------------------------------------------


@dataclass(frozen=True)
class PolicyMeta:
    name: str
    description: str
    enforcement: str
    schema: dict[str, Any]  # {"properties": {...}, "required": [...]}
    stack_policy: bool


def config_path(stack: str, environment: Optional[str] = None, config_dir: Path = CONFIG_DIR) -> Optional[Path]:
    """``policies/config/<stack>.json``, else the file for the stack's environment."""
    for name in (stack, environment):
        if name and (config_dir / f"{name}.json").is_file():
            return config_dir / f"{name}.json"
    return None


def read_config_file(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise PolicyPackError(f"{path.name}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except OSError as exc:
        raise PolicyPackError(f"{path.name}: cannot read: {exc.strerror}") from None
    if not isinstance(doc, dict):
        raise PolicyPackError(f"{path.name}: must be a JSON object of policy name -> enforcement level or settings, got {type(doc).__name__}")
    return doc


def reconcile(raw: Mapping[str, Any], policies: Sequence[PolicyMeta], source: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """Policy config as the CLI builds it from ``--policy-pack-config``: per policy the
    enforcement level (its entry, else ``all``, else the pack's default) and properties
    validated against its schema with the schema's defaults filled in."""
    known = {p.name: p for p in policies}
    default_level = raw.get("all")
    if default_level is not None and default_level not in LEVELS:
        raise PolicyPackError(f"{source}: all: must be one of {', '.join(LEVELS)}, got {default_level!r}")
    for name in raw:
        if name != "all" and name not in known:
            close = difflib.get_close_matches(name, list(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise PolicyPackError(f"{source}: {name}: unknown policy{hint}")
    result: dict[str, tuple[str, dict[str, Any]]] = {}
    for meta in policies:
        entry = raw.get(meta.name, {})
        if isinstance(entry, str):
            entry = {"enforcementLevel": entry}
        if not isinstance(entry, dict):
            raise PolicyPackError(f"{source}: {meta.name}: must be an enforcement level or an object, got {type(entry).__name__}")
        level = entry.get("enforcementLevel", default_level or meta.enforcement)
        if level not in LEVELS:
            raise PolicyPackError(f"{source}: {meta.name}.enforcementLevel: must be one of {', '.join(LEVELS)}, got {level!r}")
        props = {k: v for k, v in entry.items() if k != "enforcementLevel"}
        schema = {"type": "object", "additionalProperties": False, **meta.schema}
        schema.setdefault("properties", {})
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(props), key=lambda e: list(e.absolute_path))
        if errors:
            err = errors[0]
            where = ".".join(str(p) for p in err.absolute_path)
            raise PolicyPackError(f"{source}: {meta.name}{'.' + where if where else ''}: {err.message}")
        for key, spec in schema["properties"].items():
            if key not in props and "default" in spec:
                props[key] = spec["default"]
        result[meta.name] = (level, props)
    return result


# --- the engine side ------------------------------------------------------------------


class _Engine(engine_pb2_grpc.EngineServicer):
    """The engine address the pack is started with; collects its Log messages."""

    def __init__(self) -> None:
        self.logs: list[str] = []

    def Log(self, request: Any, context: Any) -> empty_pb2.Empty:
        self.logs.append(request.message)
        return empty_pb2.Empty()


class PolicyPack:
    """A running pack. Use as a context manager; ``analyze`` can be called many times."""

    def __init__(self, pack_dir: Path = PACK_DIR, python: str = sys.executable) -> None:
        self.pack_dir = pack_dir
        self.python = python
        self.engine = _Engine()
        self._server: Optional[grpc.Server] = None
        self._proc: Optional[subprocess.Popen[bytes]] = None
        self._channel: Optional[grpc.Channel] = None
        self.name = ""
        self.policies: list[PolicyMeta] = []

    def __enter__(self) -> PolicyPack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
        engine_pb2_grpc.add_EngineServicer_to_server(self.engine, self._server)
        engine_port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(self.pack_dir.resolve().parent), env.get("PYTHONPATH", "")) if p)
        self._proc = subprocess.Popen(
            [self.python, "-m", "pulumi.policy", f"127.0.0.1:{engine_port}", str(self.pack_dir)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        port = self._read_port()
        self._channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.max_receive_message_length", 400 * 1024 * 1024)])
        self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
        info = self._stub.GetAnalyzerInfo(empty_pb2.Empty())
        self.name = info.name
        self.policies = [
            PolicyMeta(
                name=p.name,
                description=p.description,
                enforcement=_PROTO_TO_LEVEL.get(p.enforcementLevel, "advisory"),
                schema=json_format.MessageToDict(p.configSchema, preserving_proto_field_name=True) if p.HasField("configSchema") else {},
                stack_policy=p.policy_type == analyzer_pb2.PolicyType.POLICY_TYPE_STACK,
            )
            for p in info.policies
        ]

    def _read_port(self) -> int:
        assert self._proc is not None and self._proc.stdout is not None
        line: list[bytes] = []
        reader = threading.Thread(target=lambda: line.append(self._proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(START_TIMEOUT_S)
        first = line[0].decode().strip() if line else ""
        if not first.isdigit():
            self.close()
            stderr = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
            tail = stderr.strip().splitlines()[-1] if stderr.strip() else "no output"
            raise PolicyPackError(f"policy pack {self.pack_dir.name} did not start: {tail}")
        return int(first)

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._proc is not None:
            for stream in (self._proc.stdout, self._proc.stderr):
                if stream is not None:
                    stream.close()
        if self._server is not None:
            self._server.stop(None)
            self._server = None

    # -- protocol --

    def configure(self, raw_config: Mapping[str, Any], source: str = "policy config", stack: str = "", project_dir: Optional[Path] = None) -> dict[str, str]:
        """Send the reconciled config; returns each policy's enforcement level. Policies
        with a ``stack`` property get this stack (and project dir) unless set already."""
        reconciled = reconcile(raw_config, self.policies, source)
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for meta in self.policies:
            level, props = reconciled[meta.name]
            names = meta.schema.get("properties", {})
            if "stack" in names and stack:
                props.setdefault("stack", stack)
            if "projectDir" in names and project_dir is not None:
                props.setdefault("projectDir", str(project_dir))
            entry = request.policyConfig[meta.name]
            entry.enforcementLevel = _LEVEL_TO_PROTO[level]
            entry.properties.update(props)
        self._stub.Configure(request)
        return {name: level for name, (level, _) in reconciled.items()}

    def configure_stack(self, project: str, stack: str) -> None:
        self._stub.ConfigureStack(analyzer_pb2.AnalyzerStackConfigureRequest(project=project, stack=stack, dry_run=True))

    def analyze(self, resources: Sequence[Resource]) -> list[Finding]:
        by_urn = {r.urn: r for r in resources}
        findings: list[Finding] = []
        for r in resources:
            request = analyzer_pb2.AnalyzeRequest(type=r.type, urn=r.urn, name=r.name, options=_options(r))
            request.properties.update(r.properties)
            provider = _provider(r, by_urn)
            if provider is not None:
                request.provider.CopyFrom(provider)
            try:
                response = self._stub.Analyze(request)
            except grpc.RpcError as exc:
                findings.append(self._rpc_failure("Analyze", r.urn, exc))
                continue
            findings.extend(self._findings(response.diagnostics, r.urn))
        stack_request = analyzer_pb2.AnalyzeStackRequest()
        for r in resources:
            item = stack_request.resources.add(type=r.type, urn=r.urn, name=r.name, parent=r.parent, options=_options(r))
            item.properties.update(r.properties)
            item.dependencies.extend(r.dependencies)
            for key, urns in r.property_dependencies.items():
                item.propertyDependencies[key].urns.extend(urns)
            provider = _provider(r, by_urn)
            if provider is not None:
                item.provider.CopyFrom(provider)
        try:
            findings.extend(self._findings(self._stub.AnalyzeStack(stack_request).diagnostics, ""))
        except grpc.RpcError as exc:
            findings.append(self._rpc_failure("AnalyzeStack", "", exc))
        return findings

    def _findings(self, diagnostics: Iterable[Any], urn: str) -> list[Finding]:
        out = []
        for d in diagnostics:
            level = _PROTO_TO_LEVEL.get(d.enforcementLevel, "advisory")
            if level == "remediate":
                level = "mandatory"
            kind = "unknown" if d.message.startswith(_UNKNOWN_PREFIX) else "error" if "policy error (" in d.message else "violation"
            message = d.message
            if message.startswith(d.description + "\n"):
                message = message[len(d.description) + 1 :]
            out.append(Finding(d.policyName, d.policyPackName or self.name, level, d.urn or urn, message, kind))
        return out

    def _rpc_failure(self, call: str, urn: str, exc: grpc.RpcError) -> Finding:
        detail = exc.details() if hasattr(exc, "details") else str(exc)
        return Finding("analyzer", self.name, "mandatory", urn, f"{call} failed, so nothing was checked here: {detail}", "error")


def _options(r: Resource) -> analyzer_pb2.AnalyzerResourceOptions:
    return analyzer_pb2.AnalyzerResourceOptions(protect=r.protect, parent=r.parent)


def _provider(r: Resource, by_urn: Mapping[str, Resource]) -> Optional[analyzer_pb2.AnalyzerProviderResource]:
    if not r.provider:
        return None
    urn = r.provider.rsplit("::", 1)[0] if r.provider.count("::") > 3 else r.provider
    p = by_urn.get(urn)
    if p is None:
        return analyzer_pb2.AnalyzerProviderResource(urn=urn, name=urn.rsplit("::", 1)[-1], type=urn.split("::")[2].rsplit("$", 1)[-1])
    msg = analyzer_pb2.AnalyzerProviderResource(type=p.type, urn=p.urn, name=p.name)
    msg.properties.update(p.properties)
    return msg


# --- one-call helpers -----------------------------------------------------------------


@dataclass
class Verdicts:
    pack: str
    config_file: str
    enforcement: dict[str, str]
    findings: list[Finding]

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.blocking]

    def as_dict(self) -> dict[str, Any]:
        ordered = sorted(self.findings, key=lambda f: (not f.blocking, f.policy, f.urn))
        return {
            "pack": self.pack,
            "config": self.config_file,
            "mandatory": len(self.blocking),
            "advisory": len(self.findings) - len(self.blocking),
            "violations": [f.as_dict() for f in ordered],
        }


def run(
    resources: Sequence[Resource],
    project: str,
    stack: str,
    raw_config: Optional[Mapping[str, Any]] = None,
    source: str = "",
    project_dir: Path = REPO_ROOT,
    pack: Optional[PolicyPack] = None,
) -> Verdicts:
    """Analyze ``resources`` with a running ``pack`` (or start one for this call)."""
    owned = pack is None
    running = pack or PolicyPack().__enter__()
    try:
        levels = running.configure(raw_config or {}, source or "policy config", stack=stack, project_dir=project_dir)
        running.configure_stack(project, stack)
        return Verdicts(running.name, source, levels, running.analyze(resources))
    finally:
        if owned:
            running.close()


def analyze_capture(capture: Capture, project_dir: Path = REPO_ROOT, config_file: Optional[Path] = None, pack: Optional[PolicyPack] = None) -> Verdicts:
    """The pack's verdicts on a captured plan, with the stack's policy config file."""
    path = config_file or config_path(capture.stack, capture.config.environment)
    raw = read_config_file(path) if path else {}
    source = path.name if path else ""
    return run(resources_from_capture(capture), capture.project, capture.stack, raw, source, project_dir, pack)


def analyze_export(export_file: Path, project_dir: Path = REPO_ROOT, config_file: Optional[Path] = None, pack: Optional[PolicyPack] = None) -> Verdicts:
    """The pack's verdicts on a ``pulumi stack export`` file."""
    stack, resources = resources_from_export(export_file)
    project = resources[0].urn.split("::")[1] if resources else ""
    path = config_file or config_path(stack)
    raw = read_config_file(path) if path else {}
    return run(resources, project, stack, raw, path.name if path else "", project_dir, pack)


# --- the plan's policy section --------------------------------------------------------


def policy_section(capture: Capture, project_dir: Path = REPO_ROOT, pack: Optional[PolicyPack] = None) -> dict[str, Any]:
    """``policy`` of the plan document: the pack's verdicts, blocking ones first."""
    return analyze_capture(capture, project_dir, pack=pack).as_dict()


def boot_in_background() -> futures.Future[PolicyPack]:
    """Start the pack process now and connect to it on a helper thread: it boots on
    another core while the program runs (the caller closes it)."""

    def boot() -> PolicyPack:
        pack = PolicyPack()
        pack.start()
        return pack

    pool = futures.ThreadPoolExecutor(max_workers=1)
    booting = pool.submit(boot)
    pool.shutdown(wait=False)
    return booting


def add_policy(project_dir: Path = REPO_ROOT, pack: Optional[futures.Future[PolicyPack]] = None) -> Callable[[Capture, dict[str, Any]], None]:
    """A plan enricher: the ``policy`` section, and every mandatory violation as a
    blocking finding (the plan exits 1 on those). ``pack``: one booting already."""

    def enrich(capture: Capture, doc: dict[str, Any]) -> None:
        section = policy_section(capture, project_dir, pack.result() if pack is not None else None)
        doc["policy"] = section
        doc["blocking"].extend(
            f"policy {v['policy']} on {v['urn'].rsplit('::', 1)[-1] or 'the stack'}: {v['message']}"
            for v in section["violations"]
            if v["enforcement"] == "mandatory"
        )

    return enrich


def render_policy(section: Mapping[str, Any], console: Any) -> None:
    """The verdicts as a table (rich console), blocking findings first."""
    from rich.table import Table

    config = section["config"] or "no config: production defaults"
    title = f"Policy pack {section['pack']} ({config}): {section['mandatory']} mandatory, {section['advisory']} advisory"
    if not section["violations"]:
        console.print(f"[green]{title}[/]")
        return
    table = Table(title=title)
    for column in ("enforcement", "policy", "resource", "message"):
        table.add_column(column)
    for v in section["violations"]:
        style = "red" if v["enforcement"] == "mandatory" else "yellow"
        table.add_row(f"[{style}]{v['enforcement']}[/]", v["policy"], v["urn"].rsplit("::", 1)[-1] or "(stack)", v["message"])
    console.print(table)
