"""One loader for both worlds: under ``pulumi up`` the values come from the engine's
config; offline they come from ``Pulumi.<stack>.yaml``. Either way the raw values go
through presets and the one schema, and any problem becomes a one-line ``ConfigError``."""

from __future__ import annotations

import difflib
import json
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Optional

import yaml
from pydantic import BaseModel, ValidationError

from infra.config.errors import ConfigError, KeyedError
from infra.config.model import StackConfig
from infra.config.presets import apply_presets
from infra.config.secrets import PLACEHOLDER, SecretValue

PROJECT = "mortgagematch-scaling"
# Keys outside the project namespace that the stack may carry.
_PASSTHROUGH_NAMESPACES = {"aws", "pulumi", "kubernetes"}
_STACK_FILE_KEYS = {"config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment"}


def stack_file(project_dir: Path, stack: str) -> Path:
    return project_dir / f"Pulumi.{stack}.yaml"


def read_stack_file(path: Path) -> tuple[dict[str, Any], set[str]]:
    """Raw ``namespace:key`` values and the keys holding secrets. ``secure:`` values are
    replaced by a placeholder: they cannot be decrypted without the stack's key."""
    source = path.name
    if not path.is_file():
        raise ConfigError(source, "", f"stack file not found in {path.parent} (create it with `pulumi stack init`)")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(source, "", f"YAML syntax error at {where}{problem}") from None
    except UnicodeDecodeError:
        raise ConfigError(source, "", "must be UTF-8 text") from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise ConfigError(source, "", f"must be a YAML mapping with a 'config:' key, got {type(doc).__name__}")
    for key in doc:
        if key not in _STACK_FILE_KEYS:
            raise ConfigError(source, str(key), f"unknown top-level key; allowed: {', '.join(sorted(_STACK_FILE_KEYS))}")
    config = doc.get("config") or {}
    if not isinstance(config, dict):
        raise ConfigError(source, "config", f"must be a mapping of namespace:key to values, got {type(config).__name__}")
    secret_keys: set[str] = set()
    values: dict[str, Any] = {}
    for key, value in config.items():
        replaced, had_secret = _replace_secure(value)
        values[str(key)] = replaced
        if had_secret:
            secret_keys.add(str(key))
    return values, secret_keys


def _replace_secure(value: Any) -> tuple[Any, bool]:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return SecretValue(PLACEHOLDER), True
        found = False
        out = {}
        for k, v in value.items():
            out[k], f = _replace_secure(v)
            found = found or f
        return out, found
    if isinstance(value, list):
        items = [_replace_secure(v) for v in value]
        return [i for i, _ in items], any(f for _, f in items)
    return value, False


def load_stack_file(path: Path) -> StackConfig:
    values, secret_keys = read_stack_file(path)
    return parse(values, secret_keys, path.name)


def load_from_pulumi() -> StackConfig:
    """Read the engine's config (the program's path under ``pulumi up`` and under mocks)."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    raw: dict[str, Any] = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret_keys = set(runtime_config.get_config_secret_keys_env()) | {k for k in raw if runtime_config.is_config_secret(k)}
    values = {key: _decode_engine_value(value) for key, value in raw.items()}
    return parse(values, secret_keys, f"Pulumi.{pulumi.get_stack()}.yaml")


def _decode_engine_value(value: Any) -> Any:
    """The engine passes every value as a string; objects and lists as JSON."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def engine_values(values: Mapping[str, Any]) -> dict[str, str]:
    """Values as the engine hands them to a program (strings; JSON for structures)."""
    return {key: value if isinstance(value, str) else json.dumps(value, default=_json_default) for key, value in values.items()}


def _json_default(value: Any) -> Any:
    if isinstance(value, SecretValue):
        return value.reveal()
    return str(value)


def parse(values: Mapping[str, Any], secret_keys: Iterable[str], source: str) -> StackConfig:
    """Validate raw ``namespace:key`` values into a ``StackConfig`` or raise ``ConfigError``."""
    secret = set(secret_keys)
    root: dict[str, Any] = {}
    for full_key, value in values.items():
        namespace, _, key = full_key.partition(":")
        if not key:
            raise ConfigError(source, full_key, f"must be namespaced like '{PROJECT}:<key>'")
        if namespace == PROJECT:
            root[key] = _mark_secrets(StackConfig, key, value, full_key in secret)
        elif namespace == "aws" and key == "region":
            root["region"] = value
        elif namespace not in _PASSTHROUGH_NAMESPACES:
            hint = _did_you_mean(namespace, [PROJECT, *sorted(_PASSTHROUGH_NAMESPACES)])
            raise ConfigError(source, full_key, f"unknown config namespace {namespace!r}{hint}")
    try:
        return StackConfig.model_validate(apply_presets(root))
    except ValidationError as exc:
        raise _to_config_error(exc, source) from None


def _mark_secrets(model: type[BaseModel], key: str, value: Any, is_secret: bool) -> Any:
    """Wrap the values of secret-typed fields that came from a secret config key."""
    if not is_secret:
        return value
    field = model.model_fields.get(key)
    if field is None:
        return value
    annotation = _unwrap_optional(field.annotation)
    if annotation is SecretValue and isinstance(value, str):
        return SecretValue(value)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel) and isinstance(value, dict):
        return {k: _mark_secrets(annotation, k, v, True) for k, v in value.items()}
    return value


def _unwrap_optional(annotation: Any) -> Any:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        return args[0]
    return annotation


def _field_names(model: type[BaseModel]) -> list[str]:
    names = []
    for name, field in model.model_fields.items():
        names.append(field.alias or name)
    return names


def _model_at(loc: tuple[Any, ...]) -> Optional[type[BaseModel]]:
    """The config model whose keys live at ``loc`` (for did-you-mean suggestions)."""
    model: Any = StackConfig
    for part in loc:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = next((f for n, f in model.model_fields.items() if part in (n, f.alias)), None)
        if field is None:
            return None
        model = _unwrap_optional(field.annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; allowed: {', '.join(choices)}" if len(choices) <= 25 else ""


def _render_key(loc: tuple[Any, ...]) -> str:
    if not loc:
        return f"{PROJECT}"
    head, rest = str(loc[0]), [str(p) for p in loc[1:]]
    prefix = "aws:region" if head == "region" else f"{PROJECT}:{head}"
    return ".".join([prefix, *rest])


_TYPE_WORDS = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "model_type": "a mapping of keys",
    "model_attributes_type": "a mapping of keys",
    "dict_type": "a mapping",
    "list_type": "a list",
    "finite_number": "a finite number",
}
_BOUNDS = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}


def _show(value: Any) -> str:
    if isinstance(value, SecretValue):
        return PLACEHOLDER
    text = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
    return text if len(text) <= 60 else text[:57] + "..."


def _to_config_error(exc: ValidationError, source: str) -> ConfigError:
    err = exc.errors(include_url=False)[0]
    loc: tuple[Any, ...] = tuple(err["loc"])
    kind: str = err["type"]
    ctx: dict[str, Any] = err.get("ctx") or {}
    given = err.get("input")
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        hint = _did_you_mean(str(loc[-1]), _field_names(model)) if model else ""
        return ConfigError(source, _render_key(loc), f"unknown key{hint}")
    if kind == "missing":
        return ConfigError(source, _render_key(loc), "required key is missing")
    if kind == "value_error":
        cause = ctx.get("error")
        if isinstance(cause, KeyedError):
            return ConfigError(source, _render_key(loc + tuple(cause.key.split("."))), cause.problem)
        return ConfigError(source, _render_key(loc), str(cause) if cause else err["msg"])
    if kind == "literal_error":
        return ConfigError(source, _render_key(loc), f"must be one of {ctx.get('expected')}, got {_show(given)}")
    if kind in _BOUNDS:
        bound = next(v for k, v in ctx.items() if k in ("gt", "ge", "lt", "le"))
        return ConfigError(source, _render_key(loc), f"must be {_BOUNDS[kind]} {bound}, got {_show(given)}")
    if kind in _TYPE_WORDS:
        return ConfigError(source, _render_key(loc), f"must be {_TYPE_WORDS[kind]}, got {type(given).__name__} {_show(given)}")
    if kind in ("string_too_short", "string_too_long"):
        return ConfigError(source, _render_key(loc), f"{err['msg'].lower()}, got {_show(given)}")
    return ConfigError(source, _render_key(loc), f"{err['msg']}, got {_show(given)}")
