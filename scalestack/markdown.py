"""Markdown for pull-request comments: headline first, then tables, details folded,
hard-capped at GitHub's 65,536 characters with a visible truncation note."""

from __future__ import annotations

from typing import Any

COMMENT_LIMIT = 65_536
TRUNCATED_NOTE = "\n\n> :warning: **truncated**: this report hit GitHub's 65,536-character comment limit; the full report is in the workflow artifacts.\n"


def marker(project: str, stack: str) -> str:
    """The hidden marker the workflow finds to edit one comment per stack in place."""
    return f"<!-- scalestack:{project}/{stack} -->"


def usd(x: float) -> str:
    return f"${x:,.2f}"


def cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def folded(summary: str, body: str) -> str:
    return f"<details><summary>{summary}</summary>\n\n{body}\n\n</details>"


def cap(text: str, limit: int = COMMENT_LIMIT) -> str:
    """Cut at a line boundary, close a folded block left open, and say so visibly."""
    if len(text) <= limit:
        return text
    closing = "\n\n</details>"
    budget = limit - len(TRUNCATED_NOTE) - len(closing)
    cut = text.rfind("\n", 0, budget)
    body = text[: cut if cut > 0 else budget]
    if body.count("<details>") > body.count("</details>"):
        body += closing
    return body + TRUNCATED_NOTE


def verdict_rows(verdicts: list[dict[str, Any]]) -> list[list[Any]]:
    return [[v["tier"], v["measure"], f"{v['required']:g}", f"{v['configured']:g}", f"**{v['verdict']}**", v["note"]] for v in verdicts]


VERDICT_HEADERS = ["tier", "measure", "required", "configured", "verdict", "note"]


def plan_markdown(doc: dict[str, Any]) -> str:
    cost = doc.get("cost", {})
    blocking = doc.get("blocking", [])
    custom = [r for r in doc["resources"] if r["custom"]]
    verdicts = doc.get("capacity", {}).get("verdicts", [])
    under = [v for v in verdicts if v["verdict"] == "under-provisioned"]
    parts = [
        marker(doc["project"], doc["stack"]),
        f"## `{doc['stack']}`: {usd(cost.get('monthly_usd', 0.0))}/month, {len(custom)} resources, "
        f"{len(blocking)} blocking finding{'s' if len(blocking) != 1 else ''}, {len(under)} under-provisioned tier{'s' if len(under) != 1 else ''}",
        f"Environment `{doc['environment']}`, phase `{doc['phase']}`, region `{doc['region']}`; prices as of {cost.get('prices_as_of', '?')}, month = 730 h.",
    ]
    if blocking:
        parts.append("### Blocking\n\n" + "\n".join(f"- :no_entry: {cell(b)}" for b in blocking))
    if cost:
        parts.append("### Cost by tier\n\n" + table(["tier", "monthly"], [[t, usd(v)] for t, v in cost["by_tier"].items() if v]))
        parts.append(table(["purchase option", "monthly"], [[k, usd(v)] for k, v in cost["by_purchase_option"].items() if v]))
    if verdicts:
        parts.append("### Capacity\n\n" + table(VERDICT_HEADERS, verdict_rows(verdicts)))
    rows = [
        [
            f"`{r['name']}`",
            r["type"],
            usd(r.get("monthly_usd", 0.0)),
            "; ".join(f"{c['name']}: {c['quantity']:g} {c['unit']} x {c['unit_price_usd']:g}" for c in r.get("cost_components", [])),
        ]
        for r in sorted(custom, key=lambda r: -r.get("monthly_usd", 0.0))
    ]
    parts.append(folded(f"Cost per resource ({len(rows)})", table(["resource", "type", "monthly", "components"], rows)))
    return cap("\n\n".join(parts) + "\n")
