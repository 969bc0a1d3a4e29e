"""Trace replay: parsing, scaling to the grown peak, the target-tracking simulation, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scalestack import capacity, replay
from scalestack.cli import app
from scalestack.offline import Capture
from tests.conftest import plan_variant

runner = CliRunner()
HEADER = "timestamp,value"
# per instance 100 rps, target 70 rps, warmup 3 min, group 1..10
SETTINGS = replay.Settings(per_instance_rps=100.0, target_rps=70.0, warmup_minutes=3, min_size=1, max_size=10)


def csv(*rows: str) -> list[str]:
    return [HEADER, *rows]


def test_gap_carries_the_previous_value() -> None:
    t = replay.parse_trace(csv("2014-04-10 00:04:00,1", "2014-04-10 00:09:00,2", "2014-04-10 00:19:00,5"), "t.csv")
    assert (t.values, t.gaps) == ((1.0, 2.0, 2.0, 5.0), 1)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (["time,count"], "t.csv:1: expected the header"),
        (csv("2014-04-10 00:04:00,1", "2014-04-10 00:09:00"), "t.csv:3: expected 'timestamp,value'"),
        (csv("2014-04-10 00:04:00,1", "yesterday,2"), "t.csv:3:"),
        (csv("2014-04-10 00:04:00,1", "2014-04-10 00:09:00,-3"), "t.csv:3: value must be a finite number >= 0"),
        (csv("2014-04-10 00:04:00,1", "2014-04-10 00:07:00,2"), "t.csv:3: timestamps must rise in 5-minute steps"),
        (csv("2014-04-10 00:04:00,0"), "t.csv: no positive values"),
    ],
)
def test_malformed_trace_names_file_and_line(rows: list[str], expected: str) -> None:
    with pytest.raises(replay.TraceError, match="^" + expected.replace("(", r"\(")):
        replay.parse_trace(rows, "t.csv")


def test_demand_is_the_shape_scaled_to_the_peak_per_minute() -> None:
    t = replay.Trace("t", (10.0, 40.0), 0)
    assert replay.demand_per_minute(t, 200.0) == [50.0] * 5 + [200.0] * 5


def test_a_step_up_scales_out_after_three_minutes_and_serves_after_warmup() -> None:
    # 60 rps needs 1 instance; 250 rps needs ceil(250/70) = 4. Alarm fires on the 3rd
    # minute above target (minute 12), the 3 new instances serve from minute 15.
    demand = [60.0] * 10 + [250.0] * 20
    minutes = replay.simulate(demand, SETTINGS)
    assert [m.in_service for m in minutes[:15]] == [1] * 15
    assert [m.launched for m in minutes[10:15]] == [1, 1, 4, 4, 4]
    assert all(m.in_service == 4 for m in minutes[15:])
    r = replay.summarise("t", minutes, SETTINGS, "m7g.large", 1.0)
    assert r.short_minutes == 5  # minutes 10..14: 2 before the alarm, 3 of warmup
    assert r.worst_short_pct == pytest.approx(60.0)  # 150 of 250 rps unserved
    assert r.peak_instances == 4


def test_scale_in_waits_fifteen_minutes_below_ninety_percent_of_target() -> None:
    # 4 in service; 100 rps is 25 rps per instance, far below 0.9 x 70.
    demand = [280.0] * 5 + [100.0] * 30  # 70 rps per instance: at target, not below
    minutes = replay.simulate(demand, SETTINGS)
    assert [m.in_service for m in minutes[:19]] == [4] * 19
    assert all(m.in_service == 2 for m in minutes[19:])  # ceil(100/70): only the amount needed


def test_group_bounds_clamp_scaling() -> None:
    s = replay.Settings(per_instance_rps=100.0, target_rps=70.0, warmup_minutes=0, min_size=2, max_size=3)
    minutes = replay.simulate([10.0] * 20 + [1000.0] * 10, s)
    assert minutes[0].in_service == 2 and max(m.launched for m in minutes) == 3


def test_replay_scales_to_the_grown_peak_and_prices_instance_hours(prod: Capture) -> None:
    cfg = prod.config
    r = replay.replay(replay.Trace("t", (1.0, 2.0, 4.0), 0), cfg, 5, 80)
    assert r.peak_demand_rps == pytest.approx(cfg.load.peak_rps * capacity.growth_factor(cfg.load))
    assert r.settings.per_instance_rps == capacity.per_instance_rps(cfg.load, cfg.web.instance_type)
    assert r.minutes == 15
    assert r.cost_usd == pytest.approx(r.instance_hours * r.usd_per_hour) and r.usd_per_hour > 0


def test_shipped_trace_has_its_documented_gaps() -> None:
    t = replay.load_trace(replay.SHIPPED_TRACE)
    assert (len(t.values), t.gaps) == (4032 + 8, 8)


def _write(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "t.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_cli_max_too_low_exits_1(tmp_path: Path) -> None:
    plan_variant(tmp_path, "dev", {"web": {"max_size": 1}})
    trace = _write(tmp_path, csv(*(f"2014-04-10 {h:02d}:{m:02d}:00,{100 if h >= 1 else 10}" for h in range(2) for m in range(0, 60, 5))))
    result = runner.invoke(app, ["replay", "variant", "--trace", str(trace), "--project-dir", str(tmp_path)])
    assert result.exit_code == 1, result.output
    assert "under-provisioned for 60 minutes" in result.output


def test_cli_bad_trace_exits_2_with_one_line(tmp_path: Path) -> None:
    trace = _write(tmp_path, csv("2014-04-10 00:04:00,x"))
    result = runner.invoke(app, ["replay", "dev", "--trace", str(trace)])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and f"{trace}:2:" in result.output


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_shipped_stacks_against_the_shipped_trace(stack: str) -> None:
    result = runner.invoke(app, ["replay", stack, "--format", "json"])
    doc = json.loads(result.output)
    print(stack, doc["verdict"], doc["utilisation_pct"], doc["instance_hours"], doc["on_demand_usd"])
    assert result.exit_code == (0 if doc["fits"] else 1)
    assert doc["peak_instances"] <= doc["max_size"] and doc["minutes"] == (4032 + 8) * 5
    if stack == "dev":  # prod's floor is too low for the trace's bursts (README: "Replay a real load trace")
        assert doc["fits"] and doc["verdict"].startswith("fits the trace")


def test_cli_table_names_the_verdict() -> None:
    result = runner.invoke(app, ["replay", "dev"])
    assert result.exit_code == 0
    assert "instance-hours" in result.output and result.output.splitlines()[-1].startswith("fits the trace")


def test_an_empty_group_scales_out_from_zero() -> None:
    s = replay.Settings(per_instance_rps=100.0, target_rps=70.0, warmup_minutes=1, min_size=0, max_size=5)
    minutes = replay.simulate([0.0] * 3 + [140.0] * 5, s)
    assert [m.in_service for m in minutes] == [0, 0, 0, 0, 0, 0, 2, 2]
    r = replay.summarise("t", minutes, s, "m7g.large", 1.0)
    assert r.short_minutes == 3 and r.utilisation["p50"] == pytest.approx(0.7)
    assert r.as_dict()["utilisation_pct"]["max"] is None  # demand on no instances: unbounded, not JSON's Infinity
