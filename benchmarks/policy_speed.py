"""Pack start plus analysis of the prod plan, through the real analyzer protocol.

Target: <= 1 s. The plan itself (the offline program run) is captured first and not
timed; what is timed is what `scalestack plan` adds: start the pack process, read its
port, GetAnalyzerInfo, Configure, Analyze every resource, AnalyzeStack, stop.

    PYTHONPATH=. python benchmarks/policy_speed.py [--runs 5] [--stack prod]"""

from __future__ import annotations

import argparse
import statistics
import time

from scalestack import REPO_ROOT
from scalestack.offline import run_stack
from scalestack.policy_runner import analyze_capture

TARGET_S = 1.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--stack", default="prod")
    args = parser.parse_args()
    capture = run_stack(REPO_ROOT, args.stack)
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        verdicts = analyze_capture(capture)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(
        f"policy pack on {args.stack}: {len(capture.resources)} resources, {len(verdicts.findings)} findings; "
        f"pack start + analysis median {median:.3f} s, best {min(times):.3f} s over {args.runs} runs (target <= {TARGET_S:g} s)"
    )
    raise SystemExit(0 if median <= TARGET_S else 1)


if __name__ == "__main__":
    main()
