"""scalestack: the offline planner and tools for the MortgageMatchPro scaling stack.
Plans, prices and checks the real Pulumi program without cloud credentials."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
