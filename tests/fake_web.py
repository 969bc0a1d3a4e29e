"""A stand-in for the web tier (built by another issue): an ALB DNS name and the
CloudFront origin-verify secret, registered the way the web tier registers them, so the
edge tier can be planned end to end on its own."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pulumi
import pulumi_random as random

from infra.config import ConfigError, load_from_pulumi
from infra.platform import Platform
from infra.program import TIERS, build
from scalestack import REPO_ROOT
from scalestack.offline import Capture, run_stack

FAKE_ALB_DNS = "mmp-web-alb-1234567890.us-east-1.elb.amazonaws.com"
SECRET_NAME, SECRET_LENGTH = "cdn-origin-secret", 48
# The components each planned stack registered, by the name of its stack.
PLATFORMS: dict[str, Platform] = {}


@dataclass
class FakeAlb:
    dns_name: pulumi.Output[str]


def fake_web_tier(platform: Platform) -> None:
    platform.components["alb"] = FakeAlb(dns_name=pulumi.Output.from_input(FAKE_ALB_DNS))
    platform.components["cdn_origin_secret"] = random.RandomPassword(SECRET_NAME, length=SECRET_LENGTH, special=False)


def program_with_fake_web() -> None:
    try:
        config = load_from_pulumi()
    except ConfigError as exc:
        raise pulumi.RunError(str(exc)) from None
    platform = build(config, [fake_web_tier, *TIERS])
    PLATFORMS[pulumi.get_stack()] = platform
    for key, value in platform.outputs.items():
        pulumi.export(key, value)


def run_with_web(project_dir: Path, stack: str) -> Capture:
    return run_stack(project_dir, stack, program_with_fake_web)


@cache
def with_web(stack: str) -> Capture:
    """A shipped stack planned once with the stand-in web tier (so the edge tier is built)."""
    return run_with_web(REPO_ROOT, stack)
