"""The rules that need the project's one cost estimator (``scalestack/cost.py``): the
stack's monthly cost against its budget, and prod's steady baseline covered by
commitments (advisory, with the monthly saving).

The pack gets resources over the analyzer protocol, not a ``Capture``: ``estimate_of``
hands the graph (inputs and property dependencies) to ``scalestack.cost.capture_of`` and
prices it with the same estimator, catalogue and load profile as ``scalestack plan``.
Prices and discounts come from ``scalestack.pricing``, baselines from
``scalestack.capacity``; nothing is copied here."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import PolicyResource
from pulumi_policy.proxy import UnknownValueError

from infra.config import StackConfig
from policies._lib import ADVISORY, STACK_PARAMS, Config, Finding, stack_policy
from policies._stack import profile_or_finding
from scalestack import capacity, cost, pricing
from scalestack.offline import Capture

UNKNOWN = "[unknown]"  # what the offline capture shows for values known only after apply


def plain(value: Any) -> Any:
    """Policy props (proxies that raise on unknown values) as plain dicts and lists, with
    unknowns as the capture's placeholder: the estimator prices what is known."""
    if isinstance(value, Mapping):
        out = {}
        for key in value:
            try:
                out[key] = plain(value[key])
            except UnknownValueError:
                out[key] = UNKNOWN
        return out
    if isinstance(value, Sequence) and not isinstance(value, str):
        items = []
        for i in range(len(value)):
            try:
                items.append(plain(value[i]))
            except UnknownValueError:
                items.append(UNKNOWN)
        return items
    return value


@dataclass(frozen=True)
class _Node:
    urn: str
    type: str
    name: str
    inputs: dict[str, Any]
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)


def capture_of(resources: Sequence[PolicyResource], stack: StackConfig) -> Capture:
    nodes = [
        _Node(r.urn, r.resource_type, r.name, plain(r.props), {k: [d.urn for d in v or []] for k, v in (r.property_dependencies or {}).items()})
        for r in resources
    ]
    return cost.capture_of(stack, nodes)


def estimate_of(resources: Sequence[PolicyResource], stack: StackConfig) -> cost.Estimate:
    """The plan's estimate of this graph (same figure as ``scalestack plan``'s ``cost``)."""
    return cost.estimate(capture_of(resources, stack))


def usd(x: float) -> str:
    return f"${x:,.2f}"


# --- stack monthly cost <= budget -------------------------------------------------------


def _budget(resources: list[PolicyResource], config: Config) -> Iterator[Finding]:
    stack, missing = profile_or_finding(config)
    if stack is None:
        yield missing
        return
    estimate = estimate_of(resources, stack)
    for r in estimate.resources.values():
        if r.error:
            yield f"cannot price {r.name}: {r.error}; the monthly total is incomplete", r.urn
    configured = config.get("monthlyBudgetUsd")
    source = "policy config monthlyBudgetUsd" if configured is not None else "the stack's cost.monthly_budget_usd"
    budget = float(configured if configured is not None else stack.cost.monthly_budget_usd)
    total = estimate.monthly_usd
    if total > budget:
        top = ", ".join(f"{r.name} {usd(r.monthly_usd)}" for r in estimate.top(3))
        yield (
            f"over budget: required {usd(total)}/month (cost estimate, prices as of {pricing.as_of()}), configured budget {usd(budget)} ({source}); "
            f"overrun {usd(total - budget)} ({(total - budget) / budget:.0%}); largest: {top}"
        )


# --- prod's steady baseline covered by commitments ----------------------------------------


@dataclass(frozen=True)
class Uncovered:
    """Steady on-demand spend of one service that a commitment would discount."""

    service: str
    what: list[str]
    on_demand_usd: float
    discount: float
    how: str

    @property
    def saving_usd(self) -> float:
        return self.on_demand_usd * self.discount


def _on_demand(estimate: cost.Estimate, type_: str) -> tuple[float, list[str]]:
    spend, names = 0.0, []
    for r in estimate.resources.values():
        if r.type == type_:
            usd_ = sum(c.monthly_usd for c in r.components if c.purchase_option == cost.ON_DEMAND)
            if usd_ > 0:
                spend += usd_
                names.append(r.name)
    return spend, names


def _ec2_baseline(capture: Capture, stack: StackConfig) -> tuple[float, list[str]]:
    """On-demand $/month of the web and worker groups' steady baseline (the capacity
    model's baseline, capped at the group's expected on-demand count) and of on-demand
    EKS node groups (desired size)."""
    ctx = cost.context_for(capture)
    spend, what = 0.0, []
    for asg in capture.by_type(cost.ASG_TYPE):
        tier = cost.tag_value(asg, "tier")
        itype = cost.asg_instance_type(asg, ctx)
        if tier not in ("web", "workers") or itype is None:
            continue
        baseline = capacity.tier_capacity(tier, stack.load, itype, stack.network.az_count, stack.is_prod).at_baseline
        on_demand, _ = cost.on_demand_split(cost.expected_group_size(asg, ctx, itype), asg.inputs.get("mixedInstancesPolicy") or {})
        steady = min(baseline, on_demand)
        if steady > 0:
            spend += steady * pricing.HOURS_PER_MONTH * ctx.prices.ec2_hour(itype)
            what.append(f"{asg.name} {steady:g} x {itype}")
    for group in capture.by_type("aws:eks/nodeGroup:NodeGroup"):
        for c in cost.PRICERS[group.type](group, ctx):
            if c.purchase_option == cost.ON_DEMAND and c.monthly_usd > 0:
                spend += c.monthly_usd
                what.append(f"{group.name} {c.quantity / pricing.HOURS_PER_MONTH:g} nodes")
    return spend, what


def uncovered(resources: Sequence[PolicyResource], stack: StackConfig, config: Config) -> list[Uncovered]:
    capture = capture_of(resources, stack)
    estimate = cost.estimate(capture)
    ec2_discount = pricing.reserved_discount("ec2", config["ec2Term"])
    ec2_spend, ec2_what = _ec2_baseline(capture, stack)
    # A Compute Savings Plan bought outside the stack covers its commitment / (1 - discount) of on-demand spend.
    covered = float(config["savingsPlanHourlyUsd"]) / (1 - ec2_discount) * pricing.HOURS_PER_MONTH
    rds_spend, rds_what = _on_demand(estimate, cost.RDS_TYPE)
    cache_spend, cache_what = _on_demand(estimate, "aws:elasticache/replicationGroup:ReplicationGroup")
    return [
        Uncovered(
            "RDS",
            rds_what,
            rds_spend,
            pricing.reserved_discount("rds", config["rdsTerm"]),
            f"{config['rdsTerm']} reserved instances (reserved.database.purchase)",
        ),
        Uncovered(
            "ElastiCache",
            cache_what,
            cache_spend,
            pricing.reserved_discount("elasticache", config["cacheTerm"]),
            f"{config['cacheTerm']} reserved nodes (reserved.cache.purchase)",
        ),
        Uncovered(
            "EC2",
            ec2_what,
            max(ec2_spend - covered, 0.0),
            ec2_discount,
            f"a Compute Savings Plan ({config['ec2Term']} rate) of {usd(max(ec2_spend - covered, 0.0) * (1 - ec2_discount) / pricing.HOURS_PER_MONTH)}/h",
        ),
    ]


def _commitments(resources: list[PolicyResource], config: Config) -> Iterator[Finding]:
    stack, missing = profile_or_finding(config)
    if stack is None:
        yield missing
        return
    if stack.environment not in config["environments"]:
        return
    for u in uncovered(resources, stack, config):
        if u.saving_usd >= config["minMonthlySavingUsd"]:
            yield (
                f"{u.service}: the steady baseline runs on-demand ({', '.join(u.what)}): {usd(u.on_demand_usd)}/month; "
                f"{u.how} saves {usd(u.saving_usd)}/month ({u.discount:.0%})"
            )


def _terms(service: str, default: str) -> dict[str, Any]:
    return {"type": "string", "enum": sorted(pricing.data()["reserved"][service]), "default": default}


POLICIES = [
    stack_policy(
        "stack-monthly-budget",
        "The stack's estimated monthly cost (the project's cost estimator) stays within its budget.",
        _budget,
        {
            **STACK_PARAMS,
            "monthlyBudgetUsd": {"type": "number", "exclusiveMinimum": 0, "description": "Unset: the stack config's cost.monthly_budget_usd."},
        },
    ),
    stack_policy(
        "baseline-commitments",
        "Prod's steady baseline (capacity model) is covered by commitments; states the monthly saving.",
        _commitments,
        {
            **STACK_PARAMS,
            "environments": {"type": "array", "items": {"type": "string"}, "default": ["prod"], "description": "Environments whose baseline is steady."},
            "rdsTerm": _terms("rds", "1yr_no_upfront"),
            "cacheTerm": _terms("elasticache", "1yr_no_upfront"),
            "ec2Term": _terms("ec2", "convertible_1yr_no_upfront"),
            "savingsPlanHourlyUsd": {"type": "number", "minimum": 0, "default": 0, "description": "Compute Savings Plan already bought ($/h commitment)."},
            "minMonthlySavingUsd": {"type": "number", "minimum": 0, "default": 50, "description": "Report a service only above this saving."},
        },
        enforcement=ADVISORY,
    ),
]
