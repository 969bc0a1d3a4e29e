"""The plan document: the captured graph as a stable, versioned JSON shape, and its
human rendering (resource tree and counts by type, monthly cost, capacity verdicts).

The document is a pure function of the capture. Sections beyond the graph come from
enrichers (``(capture, document) -> None``) so later checks (e.g. policy verdicts) add
a section without touching this module: ``plan_document(capture, [*ENRICHERS, mine])``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from scalestack.offline import STACK_TYPE, Capture, CapturedResource

FORMAT = "scalestack-plan/1"


def resource_entry(r: CapturedResource) -> dict[str, Any]:
    return {
        "urn": r.urn,
        "type": r.type,
        "name": r.name,
        "parent": r.parent,
        "custom": r.custom,
        "protect": r.protect,
        "dependencies": sorted(r.dependencies),
        "inputs": r.inputs,
    }


Enricher = Callable[[Capture, dict[str, Any]], None]


def add_cost(capture: Capture, doc: dict[str, Any]) -> None:
    """``cost`` (totals) and, per resource, ``monthly_usd`` and ``cost_components``."""
    from scalestack.cost import estimate

    est = estimate(capture)
    doc["cost"] = est.summary()
    for entry in doc["resources"]:
        rc = est.resources.get(entry["urn"])
        entry["tier"] = rc.tier if rc else None
        entry["monthly_usd"] = round(rc.monthly_usd, 2) if rc else 0.0
        entry["cost_components"] = [c.as_dict() for c in rc.components] if rc else []


def add_capacity(capture: Capture, doc: dict[str, Any]) -> None:
    from scalestack.capacity_report import capacity_section

    doc["capacity"] = capacity_section(capture)


ENRICHERS: tuple[Enricher, ...] = (add_cost, add_capacity)


def plan_document(capture: Capture, enrichers: Sequence[Enricher] = ENRICHERS) -> dict[str, Any]:
    """The versioned plan; ``blocking`` lists findings that must stop a merge (enrichers add them)."""
    doc = _graph(capture)
    for enrich in enrichers:
        enrich(capture, doc)
    return doc


def _graph(capture: Capture) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "project": capture.project,
        "stack": capture.stack,
        "environment": capture.config.environment,
        "phase": capture.config.phase,
        "region": capture.config.region,
        "resources": [resource_entry(r) for r in capture.resources],
        "outputs": capture.stack_outputs,
        "diagnostics": capture.diagnostics,
        "blocking": [],
    }


def type_counts(capture: Capture) -> Counter[str]:
    return Counter(r.type for r in capture.resources if r.custom)


def resource_tree(capture: Capture) -> Tree:
    """Components with their children, as the engine will create them."""
    children: dict[str, list[CapturedResource]] = {}
    root = None
    for r in capture.resources:
        if r.type == STACK_TYPE:
            root = r
        else:
            children.setdefault(r.parent, []).append(r)
    label = f"[bold]{capture.project}[/] / [bold]{capture.stack}[/] ({capture.config.environment}, phase {capture.config.phase})"
    tree = Tree(label)

    def add(node: Tree, parent_urn: str) -> None:
        for r in sorted(children.get(parent_urn, []), key=lambda c: (c.custom, c.type, c.name)):
            style = "" if r.custom else "bold cyan"
            flags = " [red](protected)[/]" if r.protect else ""
            branch = node.add(f"[{style}]{r.name}[/{style}] [dim]{r.type}[/]{flags}" if style else f"{r.name} [dim]{r.type}[/]{flags}")
            add(branch, r.urn)

    add(tree, root.urn if root else "")
    return tree


def render_table(capture: Capture, console: Console, doc: dict[str, Any] | None = None) -> None:
    doc = doc if doc is not None else plan_document(capture)
    console.print(resource_tree(capture))
    counts = Table(title="Resources by type")
    counts.add_column("type")
    counts.add_column("count", justify="right")
    for type_, n in sorted(type_counts(capture).items()):
        counts.add_row(type_, str(n))
    counts.add_row("[bold]total[/]", f"[bold]{sum(type_counts(capture).values())}[/]")
    console.print(counts)
    if "cost" in doc:
        console.print(cost_table(doc))
    if doc.get("capacity", {}).get("verdicts"):
        console.print(verdict_table(doc["capacity"]["verdicts"]))
    elif "capacity" in doc:
        console.print("[dim]Capacity verdicts: none (no web, worker, database or cache tier in this plan)[/]")
    for line in capture.diagnostics:
        console.print(f"[yellow]{line}[/]")


def usd(x: float) -> str:
    return f"${x:,.2f}"


def cost_table(doc: dict[str, Any]) -> Table:
    cost = doc["cost"]
    table = Table(title=f"Monthly cost {usd(cost['monthly_usd'])} (730 h, prices as of {cost['prices_as_of']}, {cost['priced_as']})")
    table.add_column("by tier / top item")
    table.add_column("monthly", justify="right")
    for tier, value in cost["by_tier"].items():
        if value:
            table.add_row(f"tier {tier}", usd(value))
    for option, value in cost["by_purchase_option"].items():
        if value:
            table.add_row(f"[dim]purchase option {option}[/]", usd(value))
    for item in cost["top_items"]:
        table.add_row(f"[cyan]{item['name']}[/] [dim]{item['type']}[/]", usd(item["monthly_usd"]))
    table.add_row("[bold]total[/]", f"[bold]{usd(cost['monthly_usd'])}[/]")
    return table


VERDICT_STYLE = {"under-provisioned": "red", "right-sized": "green", "over-provisioned": "yellow"}


def verdict_table(verdicts: list[dict[str, Any]]) -> Table:
    table = Table(title="Capacity verdicts")
    for col in ("tier", "measure", "required", "configured", "verdict", "note"):
        table.add_column(col, justify="right" if col in ("required", "configured") else "left")
    for v in verdicts:
        style = VERDICT_STYLE.get(v["verdict"], "")
        table.add_row(v["tier"], v["measure"], f"{v['required']:g}", f"{v['configured']:g}", f"[{style}]{v['verdict']}[/{style}]", v["note"])
    return table
