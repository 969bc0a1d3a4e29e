"""The plan document: the captured graph as a stable, versioned JSON shape, and its
human rendering (resource tree and counts by type)."""

from __future__ import annotations

from collections import Counter
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


def plan_document(capture: Capture) -> dict[str, Any]:
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


def render_table(capture: Capture, console: Console) -> None:
    console.print(resource_tree(capture))
    counts = Table(title="Resources by type")
    counts.add_column("type")
    counts.add_column("count", justify="right")
    for type_, n in sorted(type_counts(capture).items()):
        counts.add_row(type_, str(n))
    counts.add_row("[bold]total[/]", f"[bold]{sum(type_counts(capture).values())}[/]")
    console.print(counts)
    for line in capture.diagnostics:
        console.print(f"[yellow]{line}[/]")
