"""Property tests: every invalid config raises the project's ConfigError with one line,
and nothing else ever escapes the loader."""

from __future__ import annotations

import contextlib
import copy
import types
import typing
from dataclasses import dataclass
from typing import Any

import annotated_types
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from infra.config import ConfigError, StackConfig, parse
from infra.config.secrets import SecretValue
from tests.conftest import shipped_config

NS = "mortgagematch-scaling"
BASE = shipped_config("dev")


@dataclass(frozen=True)
class Leaf:
    path: tuple[str, ...]
    annotation: Any
    metadata: tuple[Any, ...]


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        return args[0], True
    return annotation, False


def leaves(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> list[Leaf]:
    out = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        annotation, _ = _unwrap(field.annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            out.append(Leaf((*prefix, key), annotation, ()))
            out.extend(leaves(annotation, (*prefix, key)))
        else:
            out.append(Leaf((*prefix, key), annotation, tuple(field.metadata)))
    return out


LEAVES = [leaf for leaf in leaves(StackConfig) if leaf.path[0] != "region"]
BOUNDED = [
    leaf for leaf in LEAVES if any(isinstance(m, (annotated_types.Ge, annotated_types.Gt, annotated_types.Le, annotated_types.Lt)) for m in leaf.metadata)
]


def wrong_type_values(annotation: Any) -> st.SearchStrategy[Any]:
    junk_collections = st.sampled_from([[], [1, 2], {"a": 1}])
    if annotation is bool:
        return st.one_of(st.sampled_from(["yes", "true", "on"]), st.integers(), junk_collections)
    if annotation in (int, float):
        return st.one_of(st.text(min_size=1, max_size=8), st.booleans(), junk_collections)
    if annotation is str:
        return st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans(), junk_collections)
    if annotation is SecretValue:
        return st.one_of(st.text(min_size=1, max_size=8), st.integers())
    if typing.get_origin(annotation) is typing.Literal:
        allowed = typing.get_args(annotation)
        return st.one_of(st.text(max_size=10).filter(lambda s: s not in allowed), st.integers().filter(lambda i: i not in allowed), junk_collections)
    if typing.get_origin(annotation) is list:
        return st.one_of(st.text(max_size=5), st.integers(), st.just({"a": 1}))
    if typing.get_origin(annotation) is dict:
        return st.one_of(st.text(max_size=5), st.integers(), st.just([1]))
    if typing.get_origin(annotation) is list:
        return st.one_of(st.text(max_size=5), st.integers(), st.just({"a": 1}))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return st.one_of(st.integers(), st.text(max_size=5), st.just([1, 2]))
    raise AssertionError(f"no wrong-type strategy for {annotation!r}")


def out_of_range(leaf: Leaf) -> Any:
    for m in leaf.metadata:
        if isinstance(m, annotated_types.Ge):
            return m.ge - 1
        if isinstance(m, annotated_types.Gt):
            return m.gt - (1 if leaf.annotation is int else 0.5)
        if isinstance(m, annotated_types.Le):
            return m.le + 1
        if isinstance(m, annotated_types.Lt):
            return m.lt + 1
    raise AssertionError(leaf)


def set_path(config: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(config)
    top = f"{NS}:{path[0]}"
    if len(path) == 1:
        out[top] = value
        return out
    node = out.setdefault(top, {})
    if not isinstance(node, dict):
        node = out[top] = {}
    for part in path[1:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[path[-1]] = value
    return out


@st.composite
def invalid_configs(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["unknown_key", "wrong_type", "out_of_range", "bad_namespace", "min_gt_max"]))
    if kind == "unknown_key":
        parent = draw(st.sampled_from([leaf for leaf in LEAVES if isinstance(leaf.annotation, type) and issubclass(leaf.annotation, BaseModel)] + [None]))
        known = {f.alias or n for n, f in (parent.annotation if parent else StackConfig).model_fields.items()}
        key = draw(st.from_regex(r"[a-z][a-z_]{0,12}", fullmatch=True).filter(lambda k: k not in known and k != "region"))
        return set_path(BASE, (*(parent.path if parent else ()), key), draw(st.integers()))
    if kind == "wrong_type":
        leaf = draw(st.sampled_from(LEAVES))
        return set_path(BASE, leaf.path, draw(wrong_type_values(leaf.annotation)))
    if kind == "out_of_range":
        leaf = draw(st.sampled_from(BOUNDED))
        return set_path(BASE, leaf.path, out_of_range(leaf))
    if kind == "bad_namespace":
        ns = draw(st.from_regex(r"[a-z][a-z-]{1,20}", fullmatch=True).filter(lambda n: n not in (NS, "aws", "pulumi", "kubernetes")))
        return {**BASE, f"{ns}:web": {}}
    group = draw(st.sampled_from(["web", "workers"]))
    low = draw(st.integers(min_value=1, max_value=50))
    return set_path(set_path(BASE, (group, "min_size"), low + draw(st.integers(1, 20))), (group, "max_size"), low)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(invalid_configs())
def test_invalid_configs_raise_one_line_config_error(values: dict[str, Any]) -> None:
    try:
        parse(values, [], "Pulumi.fuzz.yaml")
    except ConfigError as exc:
        text = str(exc)
        assert text.startswith("Pulumi.fuzz.yaml: ") and "\n" not in text
    else:
        raise AssertionError(f"accepted invalid config {values!r}")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=6),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from([f"{NS}:{leaf.path[0]}" for leaf in LEAVES] + ["aws:region", "x", "a:b"]), json_values, max_size=4))
def test_arbitrary_values_never_escape_as_other_errors(junk: dict[str, Any]) -> None:
    with contextlib.suppress(ConfigError):
        parse({**BASE, **junk}, [], "Pulumi.fuzz.yaml")
