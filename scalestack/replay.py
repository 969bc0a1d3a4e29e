"""Replay a real load trace against the web group's scaling settings: evidence that the
capacity model, the group's min/max and the target-tracking settings fit a real shape of
load, not only its peak.

The trace's shape is scaled so its maximum equals the stack's grown peak (the capacity
model), then the group is simulated minute by minute with AWS's observed target-tracking
behaviour (docs: shared reference "Scaling behaviour"): scale out after 3 minutes above
target, scale in after 15 minutes below 0.9 x target, new instances serve after warmup."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from infra.config import StackConfig
from scalestack import capacity, pricing

SHIPPED_TRACE = Path(__file__).resolve().parent / "traces" / "elb_request_count_8c0756.csv"
STEP_MINUTES = 5  # CloudWatch period of the traces
SCALE_OUT_MINUTES = 3  # datapoints above target before the alarm scales out
SCALE_IN_MINUTES = 15  # datapoints below SCALE_IN_SHARE x target before it scales in
SCALE_IN_SHARE = 0.9
SHORT_TOLERANCE = 0.01  # share of minutes demand may exceed capacity before replay blocks


class TraceError(ValueError):
    """A trace file that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class Trace:
    name: str
    values: tuple[float, ...]  # one per STEP_MINUTES, gaps filled with the previous value
    gaps: int  # missing steps that were filled


def parse_trace(lines: Iterable[str], name: str) -> Trace:
    """``timestamp,value`` rows at 5-minute steps; a missing step carries the previous value."""
    values: list[float] = []
    gaps = 0
    last: datetime | None = None
    rows = iter(enumerate(lines, start=1))
    if next(rows, (0, ""))[1].strip().lower() != "timestamp,value":
        raise TraceError(f"{name}:1: expected the header 'timestamp,value'")
    for n, line in rows:
        if not line.strip():
            continue
        when, value = _row(line, f"{name}:{n}")
        if last is not None:
            steps = _steps(when - last, f"{name}:{n}")
            gaps += steps - 1
            values.extend([values[-1]] * (steps - 1))
        values.append(value)
        last = when
    if not values or max(values) <= 0:
        raise TraceError(f"{name}: no positive values")
    return Trace(name=name, values=tuple(values), gaps=gaps)


def _row(line: str, where: str) -> tuple[datetime, float]:
    parts = line.strip().split(",")
    if len(parts) != 2:
        raise TraceError(f"{where}: expected 'timestamp,value', got {line.strip()!r}")
    try:
        when, value = datetime.fromisoformat(parts[0].strip()), float(parts[1])
    except ValueError as exc:
        raise TraceError(f"{where}: {exc}") from None
    if not math.isfinite(value) or value < 0:
        raise TraceError(f"{where}: value must be a finite number >= 0, got {parts[1].strip()}")
    return when, value


def _steps(delta: timedelta, where: str) -> int:
    steps, rest = divmod(delta, timedelta(minutes=STEP_MINUTES))
    if steps < 1 or rest:
        raise TraceError(f"{where}: timestamps must rise in {STEP_MINUTES}-minute steps, got a step of {delta}")
    return int(steps)


def load_trace(path: Path) -> Trace:
    try:
        with path.open(encoding="utf-8") as f:
            return parse_trace(f, str(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise TraceError(f"{path}: cannot read ({exc})") from None


def demand_per_minute(trace: Trace, peak_rps: float) -> list[float]:
    """The trace's shape in requests/s, its maximum at ``peak_rps``, one value per minute."""
    scale = peak_rps / max(trace.values)
    return [v * scale for v in trace.values for _ in range(STEP_MINUTES)]


@dataclass(frozen=True)
class Settings:
    """What the simulation needs of the group: per-instance capacity, target, warmup and bounds."""

    per_instance_rps: float
    target_rps: float  # requests per target the tracking policy holds
    warmup_minutes: int
    min_size: int
    max_size: int

    def clamp(self, n: int) -> int:
        return min(max(n, self.min_size), self.max_size)

    def needed(self, demand: float) -> int:
        return self.clamp(math.ceil(demand / self.target_rps - 1e-9))


def settings_for(config: StackConfig, min_size: int, max_size: int) -> Settings:
    per = capacity.per_instance_rps(config.load, config.web.instance_type)
    return Settings(
        per_instance_rps=per,
        target_rps=per * config.web.scaling.request_target_utilization_pct / 100,
        warmup_minutes=math.ceil(config.web.default_instance_warmup_s / 60),
        min_size=min_size,
        max_size=max(max_size, min_size),
    )


@dataclass(frozen=True)
class Minute:
    demand: float
    in_service: int
    launched: int  # in service plus warming up: what is billed

    def capacity(self, per_instance: float) -> float:
        return self.in_service * per_instance


def simulate(demand: Sequence[float], s: Settings) -> list[Minute]:
    """Target tracking minute by minute. The group starts at what the first minute needs,
    all in service; warming instances neither serve nor count, and scale-in waits for them."""
    in_service = s.needed(demand[0]) if demand else s.min_size
    warming: list[int] = []  # minute each launched instance starts serving
    above = below = 0
    out: list[Minute] = []
    for t, d in enumerate(demand):
        in_service += sum(1 for ready in warming if ready <= t)
        warming = [ready for ready in warming if ready > t]
        per_target = d / in_service if in_service else (math.inf if d else 0.0)
        above = above + 1 if per_target > s.target_rps else 0
        below = below + 1 if per_target < SCALE_IN_SHARE * s.target_rps else 0
        if above >= SCALE_OUT_MINUTES:
            extra = s.needed(d) - in_service - len(warming)
            warming += [t + s.warmup_minutes] * max(extra, 0)
        elif below >= SCALE_IN_MINUTES and not warming:
            in_service = min(in_service, s.needed(d))
            below = 0
        out.append(Minute(demand=d, in_service=in_service, launched=in_service + len(warming)))
    return out


@dataclass(frozen=True)
class Replay:
    trace: str
    minutes: int
    peak_demand_rps: float
    settings: Settings
    short_minutes: int
    worst_short_pct: float  # largest share of demand not served in one minute
    peak_instances: int
    instance_hours: float
    instance_type: str
    usd_per_hour: float
    utilisation: dict[str, float]  # p50 / p95 / max of demand / serving capacity

    @property
    def short_share(self) -> float:
        return self.short_minutes / self.minutes if self.minutes else 0.0

    @property
    def fits(self) -> bool:
        return self.short_share <= SHORT_TOLERANCE

    @property
    def cost_usd(self) -> float:
        return self.instance_hours * self.usd_per_hour

    @property
    def monthly_usd(self) -> float:
        """The replay's cost stretched to a 730-hour month."""
        return self.cost_usd * pricing.HOURS_PER_MONTH * 60 / self.minutes if self.minutes else 0.0

    def verdict(self) -> str:
        if self.short_minutes == 0:
            return "fits the trace"
        short = f"{self.short_minutes} minutes (worst {self.worst_short_pct:.1f}% short)"
        return f"fits the trace within the {SHORT_TOLERANCE:.0%} tolerance: short for {short}" if self.fits else f"under-provisioned for {short}"

    def as_dict(self) -> dict[str, Any]:
        s = self.settings
        return {
            "trace": self.trace,
            "minutes": self.minutes,
            "peak_demand_rps": round(self.peak_demand_rps, 1),
            "per_instance_rps": s.per_instance_rps,
            "target_rps_per_instance": round(s.target_rps, 2),
            "warmup_minutes": s.warmup_minutes,
            "min_size": s.min_size,
            "max_size": s.max_size,
            "short_minutes": self.short_minutes,
            "short_share_pct": round(100 * self.short_share, 3),
            "worst_short_pct": round(self.worst_short_pct, 1),
            "peak_instances": self.peak_instances,
            "instance_type": self.instance_type,
            "instance_hours": round(self.instance_hours, 1),
            "on_demand_usd": round(self.cost_usd, 2),
            "on_demand_usd_per_month": round(self.monthly_usd, 2),
            "utilisation_pct": {k: round(100 * v, 1) if math.isfinite(v) else None for k, v in self.utilisation.items()},
            "fits": self.fits,
            "verdict": self.verdict(),
        }


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def summarise(trace: str, minutes: Sequence[Minute], s: Settings, instance_type: str, usd_per_hour: float) -> Replay:
    served = [m.capacity(s.per_instance_rps) for m in minutes]
    shortfalls = [(m.demand - cap) / m.demand for m, cap in zip(minutes, served) if m.demand > cap + 1e-9]
    utilisation = [m.demand / cap if cap else (math.inf if m.demand else 0.0) for m, cap in zip(minutes, served)]
    return Replay(
        trace=trace,
        minutes=len(minutes),
        peak_demand_rps=max((m.demand for m in minutes), default=0.0),
        settings=s,
        short_minutes=len(shortfalls),
        worst_short_pct=100 * max(shortfalls, default=0.0),
        peak_instances=max((m.launched for m in minutes), default=0),
        instance_hours=sum(m.launched for m in minutes) / 60,
        instance_type=instance_type,
        usd_per_hour=usd_per_hour,
        utilisation={q: percentile(utilisation, p) for q, p in (("p50", 50), ("p95", 95), ("max", 100))} if utilisation else {},
    )


def replay(trace: Trace, config: StackConfig, min_size: int, max_size: int) -> Replay:
    """The trace scaled to the stack's grown peak, replayed against the web group."""
    s = settings_for(config, min_size, max_size)
    demand = demand_per_minute(trace, capacity.grown_peak_rps(config.load))
    itype = config.web.instance_type
    return summarise(trace.name, simulate(demand, s), s, itype, pricing.for_region(config.region).ec2_hour(itype))


def render(r: Replay) -> str:
    """Plain text: the numbers a reviewer checks, then the verdict line."""
    s, u = r.settings, r.utilisation
    lines = [
        f"trace        {Path(r.trace).name}: {r.minutes} minutes, scaled to a peak of {r.peak_demand_rps:.1f} requests/s",
        f"group        {r.instance_type} x {s.min_size}..{s.max_size}, {s.per_instance_rps:g} rps each, "
        f"target {s.target_rps:g} rps, warmup {s.warmup_minutes} min",
        f"short        {r.short_minutes} minutes ({100 * r.short_share:.2f} %), worst {r.worst_short_pct:.1f} % of demand unserved",
        f"instances    peak {r.peak_instances} of max {s.max_size}; {r.instance_hours:.1f} instance-hours",
        f"on-demand    ${r.cost_usd:,.2f} for the trace (${r.monthly_usd:,.2f} per 730-hour month)",
        f"utilisation  p50 {100 * u['p50']:.1f} %, p95 {100 * u['p95']:.1f} %, max {100 * u['max']:.1f} %",
        r.verdict(),
    ]
    return "\n".join(lines) + "\n"
