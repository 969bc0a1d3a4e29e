"""Run the real Pulumi program for one stack under the SDK's mock runtime and capture
the resource graph the engine would receive: every registration with its parent,
dependencies, protect flag, provider and inputs (engine camelCase names).

This is the one place that touches SDK internals (``run_pulumi_func``, ``_sync_await``);
the SDK's minor version is pinned in requirements.txt for that reason."""

from __future__ import annotations

import contextlib
import contextvars
import gc
import logging
import runpy
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pulumi
from google.protobuf import json_format, struct_pb2
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from infra.config import PROJECT, StackConfig, parse, read_stack_file
from infra.config.loader import engine_values, stack_file
from infra.config.secrets import PLACEHOLDER
from scalestack import REPO_ROOT
from scalestack.mocks import RealisticMocks

SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
OUTPUT_VALUE_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
RESOURCE_REF_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
ASSET_SIGS = {"c44067f5952c0a294b673a41bacd8c17", "0def7320c3a5731c473e5ecbe6d01bc7"}
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SIG_KEY = "4dabf18193072939515e22adb298388d"
STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass
class CapturedResource:
    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    protect: bool
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    provider: str
    id: str
    inputs: dict[str, Any]
    raw_inputs: struct_pb2.Struct = field(repr=False, compare=False)
    outputs: dict[str, Any] = field(default_factory=dict)
    raw_state: Optional[struct_pb2.Struct] = field(default=None, repr=False, compare=False)
    version: str = ""  # the package version the SDK asks for (picks the default provider)

    def state(self) -> dict[str, Any]:
        """Outputs: a component's registered outputs, or the mock provider's state of a
        custom resource (converted on demand, off the plan's hot path)."""
        if self.raw_state is None:
            return self.outputs
        return _outputs(self.raw_state, self.inputs)


@dataclass
class Capture:
    project: str
    stack: str
    config: StackConfig
    resources: list[CapturedResource]
    diagnostics: list[str]

    def by_type(self, type_: str) -> list[CapturedResource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: Optional[str] = None) -> CapturedResource:
        found = [r for r in self.by_type(type_) if name is None or r.name == name]
        if len(found) != 1:
            raise LookupError(f"expected one {type_} {name or ''}, found {len(found)}")
        return found[0]

    def find(self, name: str) -> CapturedResource:
        for r in self.resources:
            if r.name == name:
                return r
        raise LookupError(name)

    @property
    def stack_outputs(self) -> dict[str, Any]:
        root = next((r for r in self.resources if r.type == STACK_TYPE), None)
        return root.outputs if root else {}


def plain(value: Any) -> Any:
    """Engine wire values -> plain JSON: secrets become the placeholder, resource
    references their URN, integral floats ints (Struct numbers are doubles)."""
    if isinstance(value, dict):
        sig = value.get(SIG_KEY)
        if sig == SECRET_SIG or (sig == OUTPUT_VALUE_SIG and value.get("secret")):
            return PLACEHOLDER
        if sig == OUTPUT_VALUE_SIG:
            return plain(value["value"]) if "value" in value else "[unknown]"
        if sig == RESOURCE_REF_SIG:
            return value.get("urn", "")
        if sig in ASSET_SIGS:
            return {k: plain(v) for k, v in value.items() if k != SIG_KEY}
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if value == UNKNOWN:
        return "[unknown]"
    return value


class CapturingMonitor(MockMonitor):
    """A MockMonitor that records what ``MockResourceArgs`` leaves out: parent,
    dependencies, protect and the raw wire properties."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.captured: dict[str, CapturedResource] = {}
        self._lock = threading.Lock()

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """URNs as the engine builds them: the parent's whole qualified type chain,
        without the root stack's type (the SDK's MockMonitor keeps only the last link)."""
        if parent:
            qualified = parent.split("::")[2]
            if qualified != STACK_TYPE:
                type_ = f"{qualified}${type_}"
        return f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::{type_}::{name}"

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.additionalSecretOutputs and request.custom:
            _mark_secret_outputs(response.object, request.additionalSecretOutputs)
        urn = response.urn
        raw = struct_pb2.Struct()
        raw.CopyFrom(request.object)
        inputs = plain(json_format.MessageToDict(request.object))
        record = CapturedResource(
            urn=urn,
            type=request.type,
            name=request.name,
            parent=request.parent,
            custom=bool(request.custom),
            protect=bool(request.protect),
            dependencies=list(request.dependencies),
            property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
            provider=request.provider,
            id=getattr(response, "id", "") or "",
            inputs=inputs,
            raw_inputs=raw,
            raw_state=getattr(response, "object", None) if request.custom else None,
            version=request.version,
        )
        with self._lock:
            self.captured[urn] = record
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        with self._lock:
            record = self.captured.get(request.urn)
            if record is not None:
                record.outputs = plain(json_format.MessageToDict(request.outputs))
        return super().RegisterResourceOutputs(request)


def _mark_secret_outputs(state: struct_pb2.Struct, keys: Any) -> None:
    """What the engine does for ``additionalSecretOutputs`` (e.g. a generated password's
    ``result``): return those outputs as secrets, so everything derived from them stays
    secret in the program, exactly as under ``pulumi up``."""
    fields = json_format.MessageToDict(state)
    wrapped = {k: {SIG_KEY: SECRET_SIG, "value": v} for k, v in fields.items() if k in set(keys)}
    if wrapped:
        state.update(wrapped)


def _overlay(state: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    """``state`` with ``inputs`` laid over it, nested objects merged key by key (a
    provider adds computed keys inside input objects, e.g. an EKS cluster's vpcConfig)."""
    out = dict(state)
    for key, value in inputs.items():
        out[key] = _overlay(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _outputs(state: struct_pb2.Struct, inputs: dict[str, Any]) -> dict[str, Any]:
    """The mock provider's state with every input-derived key taken from the (masked)
    inputs: mocks echo inputs back without their secret marks. Provider-declared secret
    outputs are already wrapped as secrets in ``state`` (``_mark_secret_outputs``)."""
    return _overlay(plain(json_format.MessageToDict(state)), inputs)


class _ListHandler(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__(level=logging.WARNING)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(f"{record.levelname.lower()}: {record.getMessage()}")


def default_program() -> None:
    """The project's real entry point, exactly what the Pulumi language host executes."""
    runpy.run_path(str(REPO_ROOT / "__main__.py"), run_name="__main__")


def run_stack(
    project_dir: Path,
    stack: str,
    program: Callable[[], None] = default_program,
) -> Capture:
    """Validate ``Pulumi.<stack>.yaml`` and run the program for it under mocks.

    Invalid config raises ``ConfigError`` before anything is registered."""
    path = stack_file(project_dir, stack)
    values, secret_keys = read_stack_file(path)
    config = parse(values, secret_keys, path.name)
    return contextvars.Context().run(_run_isolated, stack, config, values, secret_keys, program)


def _run_isolated(stack: str, config: StackConfig, values: dict[str, Any], secret_keys: set[str], program: Callable[[], None]) -> Capture:
    """Runs in a fresh contextvars context: the SDK keeps its settings, config and root
    stack in ContextVars, so every run starts clean and runs don't leak into each other."""
    diagnostics: list[str] = []
    logger = logging.getLogger(f"scalestack.engine.{stack}")
    logger.propagate = False
    logger.handlers = [_ListHandler(diagnostics)]
    monitor = CapturingMonitor(RealisticMocks(config.region))
    pulumi.runtime.set_all_config(engine_values(values), sorted(secret_keys))
    pulumi.runtime.set_mocks(monitor.mocks, project=PROJECT, stack=stack, preview=False, logger=logger, monitor=monitor)
    with no_gc_pauses():
        _sync_await(run_pulumi_func(program))
        resources = sorted(monitor.captured.values(), key=lambda r: r.urn)
        root = next((r for r in resources if r.type == STACK_TYPE), None)
        if root is not None:
            root.outputs = _stack_outputs()
    return Capture(project=PROJECT, stack=stack, config=config, resources=resources, diagnostics=diagnostics)


@contextlib.contextmanager
def no_gc_pauses() -> Iterator[None]:
    """A run allocates hundreds of thousands of short-lived objects in reference cycles
    (Outputs, futures, tasks), and the cyclic collector rescans them again and again
    mid-run: over half of a prod plan's time (measured: 0.75 s -> 0.29 s). A run is
    short and bounded, so the collector waits until it ends."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _stack_outputs() -> dict[str, Any]:
    """Resolved ``pulumi.export`` values (secrets as the placeholder)."""
    from pulumi.runtime.settings import get_root_resource

    stack = get_root_resource()
    outputs: dict[str, Any] = {}
    for key, value in (getattr(stack, "outputs", None) or {}).items():
        out = pulumi.Output.from_input(value)
        secret = _sync_await(out.is_secret())
        outputs[key] = PLACEHOLDER if secret else plain(_sync_await(out.future()))
    return outputs


def stack_names(project_dir: Path) -> list[str]:
    """Every stack with a ``Pulumi.<stack>.yaml`` in the project."""
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))
