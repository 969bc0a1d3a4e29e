"""Capacity model: hand-computed cases and properties."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from infra.config.sections.load import LoadProfile
from scalestack import capacity


def test_web_capacity_hand_computed() -> None:
    load = LoadProfile(baseline_rps=100, peak_rps=1000, monthly_growth_pct=0, horizon_months=0, headroom_pct=20, rps_per_vcpu=50)
    # m7g.large: 2 vCPU x 50 = 100 rps; peak 1000 x 1.2 = 1200 -> 12; 3 AZs -> 12 x 3/2 = 18
    cap = capacity.web_capacity(load, "m7g.large", az_count=3, survive_az_loss=True)
    assert (cap.at_peak, cap.with_az_loss, cap.at_baseline) == (12, 18, 3)
    assert (cap.min_size, cap.max_size) == (3, 18)
    dev = capacity.web_capacity(load, "m7g.large", az_count=2, survive_az_loss=False)
    assert (dev.at_peak, dev.with_az_loss, dev.at_baseline) == (12, 12, 2)


def test_measured_rps_per_type_overrides_per_vcpu() -> None:
    load = LoadProfile(rps_per_instance={"m7g.large": 400.0})
    assert capacity.per_instance_rps(load, "m7g.large") == 400.0
    assert capacity.per_instance_rps(load, "m7g.xlarge") == 4 * load.rps_per_vcpu


def test_backlog_target_is_latency_over_processing_time() -> None:
    assert capacity.backlog_target(10, 0.1) == 100


def test_replicas_and_pooling() -> None:
    load = LoadProfile(
        peak_rps=1000,
        baseline_rps=100,
        monthly_growth_pct=0,
        horizon_months=0,
        headroom_pct=0,
        db_queries_per_request=2,
        db_read_share=0.75,
        db_qps_per_vcpu=300,
    )
    # reads = 0.75 x 2000 = 1500 q/s; db.r7g.large 2 vCPU x 300 = 600 -> 3 replicas
    assert capacity.read_replicas(load, "db.r7g.large") == 3
    need = capacity.pooling(instances=100, pool_size=20, db_class="db.t4g.medium")
    assert need.max_connections == 450 and need.proxy_needed


def test_cache_sizing_picks_smallest_node_that_fits() -> None:
    sizing = capacity.cache_sizing(10, headroom_pct=0)
    assert sizing.node_type == "cache.r7g.xlarge" and sizing.shards == 1
    big = capacity.cache_sizing(500, headroom_pct=0)
    assert big.node_type == "cache.r7g.4xlarge" and big.shards == 7


loads = st.builds(
    LoadProfile,
    baseline_rps=st.floats(1, 1000),
    peak_rps=st.floats(1000, 100000),
    monthly_growth_pct=st.floats(0, 20),
    horizon_months=st.integers(0, 24),
    headroom_pct=st.floats(0, 100),
)


@settings(max_examples=200, deadline=None)
@given(loads, st.floats(1.0, 3.0), st.integers(1, 6))
def test_web_capacity_monotonic_in_peak_and_never_below_one_per_az(load: LoadProfile, factor: float, azs: int) -> None:
    base = capacity.web_capacity(load, "m7g.large", azs, survive_az_loss=True)
    more_peak = load.model_copy(update={"peak_rps": load.peak_rps * factor})
    grown = load.model_copy(update={"monthly_growth_pct": load.monthly_growth_pct + factor})
    assert capacity.web_capacity(more_peak, "m7g.large", azs, True).at_peak >= base.at_peak
    assert capacity.web_capacity(grown, "m7g.large", azs, True).at_peak >= base.at_peak
    assert base.min_size >= azs and base.max_size >= base.min_size
    assert base.with_az_loss * (azs - 1) >= base.at_peak * (azs - 1)
