"""ONE CloudWatch dashboard per stack, rendered from the metric definitions for exactly the
resources the tiers registered: a tier that is off registers nothing, so it has no panels."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.monitoring import metrics as m

Row = list[Any]
WIDTH, HEIGHT, COLUMNS = 12, 6, 2
DASHBOARD_PERIOD = 300


@dataclass(frozen=True)
class Watched:
    """One watched resource: its tier kind, a display name, its dimension values and
    kind-specific facts (e.g. the on-demand split of a group)."""

    kind: str
    name: str
    dims: dict[str, pulumi.Input[str]]
    region: str
    members: Sequence[dict[str, pulumi.Input[str]]] = ()
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Panel:
    title: str
    rows: list[Row]
    region: str


def _alb(w: Watched) -> list[Panel]:
    r, d = w.region, w.dims
    return [
        Panel(f"Request rate: {w.name}", [m.ALB_REQUESTS.widget_row(d, r)], r),
        Panel(f"Latency p50/p90/p99: {w.name}", [m.ALB_LATENCY.with_stat(p).widget_row(d, r) for p in ("p50", "p90", "p99")], r),
        Panel(
            f"Error rates: {w.name}",
            m.ALB_5XX_RATE.widget_rows(d, r)[:1] + m.ALB_4XX_RATE.widget_rows(d, r)[:1] + _inputs(m.ALB_5XX_RATE, m.ALB_4XX_RATE, d, r),
            r,
        ),
        Panel(f"Targets: {w.name}", [m.ALB_HEALTHY.widget_row(d, r), m.ALB_UNHEALTHY.widget_row(d, r)], r),
    ]


def _inputs(a: m.Expression, b: m.Expression, dims: m.Dims, region: str) -> list[Row]:
    """Hidden input rows of two expressions, each metric once."""
    seen: dict[str, m.Metric] = {x.id: x for x in (*a.inputs, *b.inputs)}
    return [x.widget_row(dims, region, hidden=True) for x in seen.values()]


def _asg(w: Watched) -> list[Panel]:
    r, d = w.region, w.dims
    rows = [m.ASG_IN_SERVICE.widget_row(d, r), m.ASG_DESIRED.widget_row(d, r), m.ASG_MAX.widget_row(d, r)]
    if "on_demand_base" in w.facts:
        rows += m.spot_share(w.facts["on_demand_base"], w.facts["on_demand_pct"]).widget_rows(d, r)
    return [Panel(f"Capacity and spot share: {w.name}", rows, r), Panel(f"CPU: {w.name}", [m.ASG_CPU.widget_row(d, r)], r)]


def _workers(w: Watched) -> list[Panel]:
    r, d = w.region, w.dims
    return [
        Panel(
            f"Worker backlog: {w.name}",
            [
                *(m.BACKLOG_PER_INSTANCE.widget_rows(d, r) if "AutoScalingGroupName" in d else []),
                m.QUEUE_VISIBLE.widget_row({"QueueName": d["QueueName"]}, r, label="jobs visible"),
            ],
            r,
        ),
        Panel(
            f"Job age and dead letters: {w.name}",
            [m.QUEUE_OLDEST.widget_row({"QueueName": d["QueueName"]}, r), m.DLQ_VISIBLE.widget_row({"QueueName": w.facts["dlq_name"]}, r)],
            r,
        ),
    ]


def _per_member(metric: m.Metric, members: Sequence[dict[str, pulumi.Input[str]]], region: str) -> list[Row]:
    return [metric.widget_row(dims, region, label=f"{metric.label} #{i + 1}") for i, dims in enumerate(members)]


def _database(w: Watched) -> list[Panel]:
    r, members = w.region, [w.dims, *w.members]
    panels = [
        Panel(f"DB CPU: {w.name}", _per_member(m.DB_CPU, members, r), r),
        Panel(f"DB connections: {w.name}", _per_member(m.DB_CONNECTIONS, members, r), r),
    ]
    if w.members:
        panels.append(Panel(f"Replica lag: {w.name}", _per_member(m.DB_REPLICA_LAG, w.members, r), r))
    return panels


def _proxy(w: Watched) -> list[Panel]:
    r, d = w.region, w.dims
    return [Panel(f"RDS Proxy: {w.name}", [m.PROXY_CLIENT_CONNECTIONS.widget_row(d, r), m.PROXY_BORROW_LATENCY.widget_row(d, r)], r)]


def _cache(w: Watched) -> list[Panel]:
    r = w.region
    return [
        Panel(f"Cache hit rate: {w.name}", _per_member(m.CACHE_HIT_RATE, w.members, r), r),
        Panel(f"Cache memory and evictions: {w.name}", _per_member(m.CACHE_MEMORY, w.members, r) + _per_member(m.CACHE_EVICTIONS, w.members, r), r),
    ]


def _cdn(w: Watched) -> list[Panel]:
    r, d = m.CDN_REGION, w.dims
    return [
        Panel(
            f"CloudFront requests and cache hit rate: {w.name}",
            [m.CDN_REQUESTS.widget_row(d, r)] + ([m.CDN_HIT_RATE.widget_row(d, r)] if w.facts.get("additional_metrics") else []),
            r,
        ),
        Panel(f"CloudFront error rate: {w.name}", [m.CDN_5XX_RATE.widget_row(d, r)], r),
    ]


def _nat(w: Watched) -> list[Panel]:
    r = w.region
    return [Panel("NAT gateways", _per_member(m.NAT_PORT_ERRORS, w.members, r) + _per_member(m.NAT_DROPS, w.members, r), r)]


PANELS: dict[str, Callable[[Watched], list[Panel]]] = {
    "alb": _alb,
    "asg": _asg,
    "workers": _workers,
    "database": _database,
    "proxy": _proxy,
    "cache": _cache,
    "cdn": _cdn,
    "nat": _nat,
}
# Dashboard order: traffic first, then compute, queues, data, edge, network.
ORDER = ("alb", "cdn", "asg", "workers", "database", "proxy", "cache", "nat")


def panels(watched: Sequence[Watched]) -> list[Panel]:
    out: list[Panel] = []
    for kind in ORDER:
        for w in watched:
            if w.kind == kind:
                out += PANELS[kind](w)
    return out


def dashboard_body(watched: Sequence[Watched]) -> dict[str, Any]:
    """The dashboard document (values may still be Outputs; ``pulumi.Output.json_dumps`` it)."""
    widgets = []
    for i, panel in enumerate(panels(watched)):
        widgets.append(
            {
                "type": "metric",
                "x": (i % COLUMNS) * WIDTH,
                "y": (i // COLUMNS) * HEIGHT,
                "width": WIDTH,
                "height": HEIGHT,
                "properties": {
                    "title": panel.title,
                    "region": panel.region,
                    "view": "timeSeries",
                    "stacked": False,
                    "period": DASHBOARD_PERIOD,
                    "metrics": panel.rows,
                },
            }
        )
    return {"widgets": widgets}
