"""A stand-in for the web tier (built by another issue): an ALB DNS name and the
CloudFront origin-verify secret, registered the way the web tier registers them, so the
edge tier can be planned end to end on its own."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_random as random

from infra.config import ConfigError, load_from_pulumi
from infra.platform import Platform
from infra.program import TIERS, build
from scalestack.offline import Capture, run_stack

FAKE_ALB_DNS = "mmp-web-alb-1234567890.us-east-1.elb.amazonaws.com"


@dataclass
class FakeAlb:
    dns_name: pulumi.Output[str]


def fake_web_tier(platform: Platform) -> None:
    platform.components["alb"] = FakeAlb(dns_name=pulumi.Output.from_input(FAKE_ALB_DNS))
    platform.components["cdn_origin_secret"] = random.RandomPassword("cdn-origin-secret", length=48, special=False)


def program_with_fake_web() -> None:
    try:
        config = load_from_pulumi()
    except ConfigError as exc:
        raise pulumi.RunError(str(exc)) from None
    for key, value in build(config, [fake_web_tier, *TIERS]).outputs.items():
        pulumi.export(key, value)


def run_with_web(project_dir: Path, stack: str) -> Capture:
    return run_stack(project_dir, stack, program_with_fake_web)
