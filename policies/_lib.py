"""What every rule module shares: building policies from small check functions (config
defaults taken from the config schema, failures reported rather than raised), reading
pulumi-aws inputs as the engine sends them, and the stack graph."""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Optional, Union

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.policy import _NotApplicableError
from pulumi_policy.proxy import UnknownValueError

MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY

Config = Mapping[str, Any]
Finding = Union[str, tuple[str, Optional[str]]]  # message, or (message, urn) from stack rules
ResourceCheck = Callable[[ResourceValidationArgs, Config], Iterable[str]]
StackCheck = Callable[[list[PolicyResource], Config], Iterable[Finding]]

# Shared config properties: the stack whose Pulumi.<stack>.yaml holds the load profile.
STACK_PARAMS: dict[str, dict[str, Any]] = {
    "stack": {"type": "string", "description": "Stack whose Pulumi.<stack>.yaml holds the load profile (default: $PULUMI_STACK)."},
    "projectDir": {"type": "string", "description": "Directory holding Pulumi.<stack>.yaml (default: the pack's parent directory)."},
}


def _schema(params: Mapping[str, dict[str, Any]]) -> Optional[PolicyConfigSchema]:
    return PolicyConfigSchema(properties={k: dict(v) for k, v in params.items()}) if params else None


def effective_config(params: Mapping[str, dict[str, Any]], given: Optional[Mapping[str, Any]]) -> dict[str, Any]:
    """Schema defaults under the given values: with no config at all a rule runs with its
    production-strength defaults (the CLI fills the same defaults from the schema)."""
    config = {k: v["default"] for k, v in params.items() if "default" in v}
    config.update(given or {})
    return config


def _crash(exc: BaseException) -> str:
    where = traceback.extract_tb(exc.__traceback__)[-1]
    origin = f"{where.filename.rsplit('/', 1)[-1]}:{where.lineno}"
    return f"policy error (the rule itself failed, so the resource is unchecked): {type(exc).__name__}: {exc} at {origin}"


def resource_policy(
    name: str,
    description: str,
    types: Sequence[str],
    check: ResourceCheck,
    params: Optional[Mapping[str, dict[str, Any]]] = None,
    enforcement: EnforcementLevel = MANDATORY,
) -> ResourceValidationPolicy:
    """A resource policy for ``types`` whose ``check`` yields violation messages."""
    params = dict(params or {})
    wanted = frozenset(types)

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if wanted and args.resource_type not in wanted:
            return
        config = effective_config(params, args.get_config())
        try:
            for message in check(args, config):
                report(message, None)
        except (UnknownValueError, _NotApplicableError):
            raise
        except Exception as exc:
            report(_crash(exc), None)

    return ResourceValidationPolicy(name=name, description=description, validate=validate, config_schema=_schema(params), enforcement_level=enforcement)


def stack_policy(
    name: str,
    description: str,
    check: StackCheck,
    params: Optional[Mapping[str, dict[str, Any]]] = None,
    enforcement: EnforcementLevel = MANDATORY,
) -> StackValidationPolicy:
    """A stack policy whose ``check`` yields messages or (message, urn) pairs."""
    params = dict(params or {})

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        config = effective_config(params, args.get_config())
        try:
            for finding in check(list(args.resources), config):
                message, urn = (finding, None) if isinstance(finding, str) else finding
                report(message, urn)
        except (UnknownValueError, _NotApplicableError):
            raise
        except Exception as exc:
            report(_crash(exc), None)

    return StackValidationPolicy(name=name, description=description, validate=validate, config_schema=_schema(params), enforcement_level=enforcement)


# --- reading pulumi-aws inputs --------------------------------------------------------


def flag(value: Any) -> Optional[bool]:
    """A boolean input: pulumi-aws sends some as the strings "true"/"false" (launch
    template EBS ``encrypted``, ``associatePublicIpAddress``). None when unset."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def get(props: Any, path: str, default: Any = None) -> Any:
    """``props['a']['b'][0]`` as ``get(props, 'a.b.0')``; default when any link is missing."""
    node = props
    for part in path.split("."):
        if isinstance(node, Mapping):
            if part not in node:
                return default
            node = node[part]
        elif isinstance(node, Sequence) and not isinstance(node, str) and part.isdigit():
            index = int(part)
            if index >= len(node):
                return default
            node = node[index]
        else:
            return default
    return default if node is None else node


def items(props: Any, path: str) -> list[Any]:
    value = get(props, path, [])
    return list(value) if isinstance(value, Sequence) and not isinstance(value, str) else []


def tags_of(props: Mapping[str, Any]) -> dict[str, str]:
    """Tags as a dict: a ``tags`` map, or an ASG's list of ``{key, value}``."""
    tags = props.get("tags")
    if isinstance(tags, Mapping):
        return {str(k): str(v) for k, v in tags.items()}
    if isinstance(tags, Sequence) and not isinstance(tags, str):
        return {str(t.get("key")): str(t.get("value")) for t in tags if isinstance(t, Mapping)}
    return {}


TIERS = ("web", "workers", "alb", "database", "cache", "proxy", "cdn", "eks-nodes")


def tier_of(name: str, props: Mapping[str, Any]) -> Optional[str]:
    """The tier a resource belongs to: its ``tier`` tag, else its name's role segment
    (children are named ``<component>-<role>``)."""
    tag = tags_of(props).get("tier")
    if tag:
        return "workers" if tag == "worker" else tag
    parts = set(name.lower().replace("_", "-").split("-"))
    if parts & {"worker", "workers", "jobs"}:
        return "workers"
    if "web" in parts or "app" in parts:
        return "web"
    return None


def is_replica(props: Mapping[str, Any]) -> bool:
    return bool(props.get("replicateSourceDb"))


# --- the stack graph ------------------------------------------------------------------


@dataclass
class Graph:
    """The resources of one AnalyzeStack call, indexed for the stack rules."""

    resources: list[PolicyResource]

    def __post_init__(self) -> None:
        self.by_urn = {r.urn: r for r in self.resources}

    def of_type(self, *types: str) -> list[PolicyResource]:
        return [r for r in self.resources if r.resource_type in types]

    def referenced(self, r: PolicyResource, prop: Optional[str] = None) -> list[PolicyResource]:
        """Resources that ``r``'s inputs (one property, or all) were computed from."""
        deps = r.property_dependencies or {}
        keys = [prop] if prop else list(deps)
        out: list[PolicyResource] = []
        for key in keys:
            for d in deps.get(key, []) or []:
                if d not in out:
                    out.append(d)
        if prop is None:
            out.extend(d for d in r.dependencies if d not in out)
        return out

    def referrers(self, target: PolicyResource, types: Sequence[str] = (), prop: Optional[str] = None) -> Iterator[PolicyResource]:
        """Resources whose inputs were computed from ``target``."""
        for r in self.resources:
            if types and r.resource_type not in types:
                continue
            if any(d.urn == target.urn for d in self.referenced(r, prop)):
                yield r


def family_and_size(type_name: str) -> tuple[str, str]:
    """'m7g.large' / 'db.r7g.large' / 'cache.t4g.small' -> (family, size)."""
    parts = type_name.split(".")
    if len(parts) == 3:
        return parts[1], parts[2]
    if len(parts) == 2:
        return parts[0], parts[1]
    return type_name, ""


# --- Auto Scaling groups in the graph -------------------------------------------------

ASG = "aws:autoscaling/group:Group"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
SUBNET = "aws:ec2/subnet:Subnet"


def asg_instance_type(g: Graph, asg: PolicyResource) -> Optional[str]:
    """The primary instance type: the mixed-instances override list's first entry, else
    the launch template's ``instanceType`` (found through the graph)."""
    first = get(asg.props, "mixedInstancesPolicy.launchTemplate.overrides.0.instanceType")
    if first:
        return str(first)
    for prop in ("launchTemplate", "mixedInstancesPolicy"):
        for dep in g.referenced(asg, prop):
            if dep.resource_type == LAUNCH_TEMPLATE and dep.props.get("instanceType"):
                return str(dep.props["instanceType"])
    return None


def spread(g: Graph, r: PolicyResource, prop: str) -> int:
    """How many AZs the subnets in ``prop`` span (distinct subnet ids when the subnets
    are not in the graph)."""
    azs = {d.props.get("availabilityZone") for d in g.referenced(r, prop) if d.resource_type == SUBNET}
    azs.discard(None)
    if azs:
        return len(azs)
    return len(set(items(r.props, prop)))
