"""Edge tier wiring: CloudFront in front of the load balancer, and reserved capacity."""

from __future__ import annotations

from infra.platform import Platform


def wire(platform: Platform) -> None:
    pass
