"""The instance and region catalogue: one data file, read once, shared by config
validation, the components that pick instance types, the capacity model, the cost
estimator and the policy pack."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

Arch = Literal["x86_64", "arm64"]


@dataclass(frozen=True)
class InstanceType:
    """An EC2 instance type as the scaling decisions need it."""

    name: str
    vcpu: int
    memory_gib: float
    arch: Arch
    family: str
    category: str
    generation: int
    burstable: bool
    network: str

    @property
    def size(self) -> str:
        return self.name.split(".", 1)[1]


@dataclass(frozen=True)
class NodeClass:
    """An RDS DB instance class or an ElastiCache node type."""

    name: str
    vcpu: int
    memory_gib: float
    family: str
    burstable: bool


@cache
def _data() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("instances.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def ec2_types() -> dict[str, InstanceType]:
    return {name: InstanceType(name=name, **spec) for name, spec in _data()["ec2"].items()}


@cache
def rds_classes() -> dict[str, NodeClass]:
    return {
        name: NodeClass(name=name, vcpu=s["vcpu"], memory_gib=s["memory_gib"], family=s["family"], burstable=s["burstable"])
        for name, s in _data()["rds"].items()
    }


@cache
def cache_node_types() -> dict[str, NodeClass]:
    return {
        name: NodeClass(name=name, vcpu=s["vcpu"], memory_gib=s["memory_gib"], family=s["family"], burstable=s["burstable"])
        for name, s in _data()["elasticache"].items()
    }


def regions() -> dict[str, list[str]]:
    """Region name -> its availability zone names."""
    return {name: list(r["azs"]) for name, r in _data()["regions"].items()}


def ec2_type(name: str) -> InstanceType:
    try:
        return ec2_types()[name]
    except KeyError:
        raise KeyError(f"unknown EC2 instance type {name!r}") from None


def same_size_alternatives(primary: str, minimum: int = 3, widen_burstable: bool = False) -> list[str]:
    """Same-size types across families and generations with the primary's architecture,
    vCPU count and memory, preferring the same category and newer generations.
    ``widen_burstable`` lets a burstable primary (few same-size burstable siblings) fall
    back on fixed-performance types of the same size, listed after the burstable ones.

    Spot pools are per type and AZ: the more equivalent types an ASG may use, the less
    likely an interruption wave takes all of its capacity at once."""
    p = ec2_type(primary)
    candidates = [
        t
        for t in ec2_types().values()
        if t.name != p.name
        and t.arch == p.arch
        and t.vcpu == p.vcpu
        and (t.burstable == p.burstable or (widen_burstable and p.burstable))
        and t.memory_gib >= p.memory_gib
        and t.memory_gib <= 2 * p.memory_gib
    ]
    candidates.sort(key=lambda t: (t.burstable != p.burstable, t.category != p.category, t.memory_gib != p.memory_gib, -t.generation, t.name))
    names = [t.name for t in candidates]
    if len(names) < minimum:
        raise ValueError(f"{primary}: only {len(names)} same-size alternatives with arch {p.arch}; list them explicitly")
    return names


_POSTGRES_BYTES_PER_CONNECTION = 9531392


def postgres_max_connections(db_class: str) -> int:
    """PostgreSQL's default max_connections: LEAST(DBInstanceClassMemory/9531392, 5000).
    DBInstanceClassMemory is somewhat below the class's nominal memory; we use nominal."""
    mem = rds_classes()[db_class].memory_gib * 1024**3
    return int(min(mem // _POSTGRES_BYTES_PER_CONNECTION, 5000))


_CLASS_RE = re.compile(r"^(db|cache)\.([a-z0-9]+)\.([a-z0-9]+)$")


def family_of(type_name: str) -> str:
    """'m7g.large' -> 'm7g'; 'db.r7g.large' -> 'r7g'; 'cache.t4g.small' -> 't4g'."""
    m = _CLASS_RE.match(type_name)
    if m:
        return m.group(2)
    return type_name.split(".", 1)[0]
