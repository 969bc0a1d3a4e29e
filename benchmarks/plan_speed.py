"""Plan speed benchmark (a script, not a test): ``python benchmarks/plan_speed.py``.

1. prod plan = the real program under the capturing mock runtime + cost + capacity
   (the whole `scalestack plan prod --format json` work, minus printing);
2. floor = registering the same captured resource list under the SDK's bare mock
   runtime (generic resources, plain MockMonitor): what any offline run must pay;
3. scale: a synthetic stack 10x larger (the program run as 10 cells in one process,
   and the estimator on one 10x capture) against the 1x stack;
4. the policy pack: the prod plan with its verdicts in one process
   (program + cost + capacity + policies), and the pack's share alone: start the pack
   process and analyze the prod plan over the analyzer protocol (target <= 1 s).

Repeats each measure, prints medians; the last line is ``plan/floor ratio: X.XX``."""

from __future__ import annotations

import argparse
import contextvars
import dataclasses
import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pulumi
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from infra.config import PROJECT
from scalestack import REPO_ROOT
from scalestack.offline import STACK_TYPE, Capture, CapturedResource, no_gc_pauses, run_stack
from scalestack.plan import ENRICHERS, plan_document
from scalestack.policy_runner import add_policy, analyze_capture, boot_in_background

POLICY_TARGET_S = 1.0


class BareMocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[Optional[str], dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], Optional[list[tuple[str, str]]]]:
        return {}, None


def floor_program(resources: list[CapturedResource]) -> Callable[[], None]:
    """Register every captured resource again (same types, names, parents, inputs)."""
    by_urn = {r.urn: r for r in resources}

    def depth(r: CapturedResource) -> int:
        d = 0
        while r.parent in by_urn:
            r, d = by_urn[r.parent], d + 1
        return d

    ordered = sorted((r for r in resources if r.type != STACK_TYPE), key=depth)

    def program() -> None:
        made: dict[str, pulumi.Resource] = {}
        for r in ordered:
            opts = pulumi.ResourceOptions(parent=made.get(r.parent))
            if r.type.startswith("pulumi:providers:"):
                made[r.urn] = pulumi.ProviderResource(r.type.split(":")[-1], r.name, dict(r.inputs), opts)
            elif r.custom:
                made[r.urn] = pulumi.CustomResource(r.type, r.name, dict(r.inputs), opts)
            else:
                made[r.urn] = pulumi.ComponentResource(r.type, r.name, None, opts)

    return program


def run_floor(resources: list[CapturedResource]) -> None:
    def isolated() -> None:
        mocks = BareMocks()
        pulumi.runtime.set_mocks(mocks, project=PROJECT, stack="floor", preview=False, monitor=MockMonitor(mocks))
        with no_gc_pauses():  # the same collector policy as the plan: compare the work, not GC luck
            _sync_await(run_pulumi_func(floor_program(resources)))

    contextvars.Context().run(isolated)


def plan_once(stack: str = "prod") -> Capture:
    capture = run_stack(REPO_ROOT, stack)
    plan_document(capture)
    return capture


def scaled(capture: Capture, cells: int) -> Capture:
    """One capture holding ``cells`` copies of the stack (URNs and names per cell)."""
    out: list[CapturedResource] = []
    for i in range(cells):
        for r in capture.resources:
            if r.type == STACK_TYPE and i:
                continue
            name = r.name if r.type == STACK_TYPE else f"{r.name}-c{i}"
            out.append(dataclasses.replace(r, urn=r.urn.rsplit("::", 1)[0] + "::" + name, name=name))
    return dataclasses.replace(capture, resources=out)


def timed(fn: Callable[[], object]) -> float:
    """Wall time of ``fn`` including the collection of the garbage it leaves (runs defer
    the cyclic collector; each side pays for its own collection)."""
    gc.collect()  # the previous repeat's garbage is not this repeat's cost
    start = time.perf_counter()
    fn()
    gc.collect()
    return time.perf_counter() - start


def paired(a: Callable[[], object], b: Callable[[], object], repeats: int) -> tuple[float, float, float]:
    """Median of a, median of b, and median of the per-repeat b/a ratios. The two run
    back to back in each repeat, so load from other processes on a shared machine hits
    both sides of a ratio alike."""
    ta, tb = [], []
    for _ in range(repeats):
        ta.append(timed(a))
        tb.append(timed(b))
    return statistics.median(ta), statistics.median(tb), statistics.median(y / x for x, y in zip(ta, tb))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--cells", type=int, default=10)
    args = parser.parse_args()

    capture = plan_once()  # warm-up: imports, catalogue and price caches
    run_floor(capture.resources)
    gc.collect()
    gc.freeze()  # as the CLI does after its imports: full collections skip the ~160k import-time objects
    n = len([r for r in capture.resources if r.custom])
    print(f"prod stack: {len(capture.resources)} registrations ({n} custom); {args.repeats} repeats, medians")

    big = scaled(capture, args.cells)
    one_x, ten_x, scale = paired(
        lambda: plan_document(run_stack(REPO_ROOT, "prod")),
        lambda: ([run_stack(REPO_ROOT, "prod") for _ in range(args.cells)], plan_document(big)),
        args.repeats,
    )
    print(f"1x stack: {one_x:.3f} s; {args.cells}x stack ({args.cells} cells, {len(big.resources)} registrations): {ten_x:.3f} s")
    print(f"{args.cells}x/1x ratio: {scale:.2f} (target <= {args.cells + 1})")

    def plan_with_policies() -> None:
        """As `scalestack plan` does it: the pack boots on another core while the program runs."""
        booting = boot_in_background()
        try:
            plan_document(run_stack(REPO_ROOT, "prod"), (*ENRICHERS, add_policy(REPO_ROOT, booting)))
        finally:
            booting.result().close()

    pack_s, full_s, _ = paired(lambda: analyze_capture(capture), plan_with_policies, args.repeats)
    print(f"prod plan with policies (program + cost + capacity + policies): {full_s:.3f} s")
    print(f"policy pack start + analysis of the prod plan: {pack_s:.3f} s (target <= {POLICY_TARGET_S:g} s)")

    floor_s, plan_s, ratio = paired(lambda: run_floor(capture.resources), plan_once, args.repeats)
    print(f"floor (same resources, bare mock runtime): {floor_s:.3f} s")
    print(f"prod plan (program + cost + capacity): {plan_s:.3f} s")
    print(f"plan/floor ratio: {ratio:.2f}")


if __name__ == "__main__":
    main()
