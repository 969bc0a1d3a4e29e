"""Hook for the rules that need the project's cost estimator (``scalestack/cost.py``),
which lands on another branch: the stack's monthly cost against its budget, and prod's
steady baseline covered by commitments (advisory, with the monthly saving).

The lead adds those two ``stack_policy(...)`` rules to ``POLICIES`` when merging the
estimator; the registry already loads this module, and the per-stack config files get
their entries then."""

from __future__ import annotations

from pulumi_policy import Policy

POLICIES: list[Policy] = []
