"""Small shared helpers for components: type tokens and child options."""

from __future__ import annotations

from typing import Optional

import pulumi

TOKEN_PREFIX = "mortgagematch"


def token(module: str, kind: str) -> str:
    """Component type token, e.g. ``mortgagematch:network:Network``."""
    return f"{TOKEN_PREFIX}:{module}:{kind}"


def child(parent: pulumi.Resource, *, depends_on: Optional[list[pulumi.Resource]] = None, **kwargs: object) -> pulumi.ResourceOptions:
    """Options for a child resource: parented (so it inherits providers) and ordered."""
    return pulumi.ResourceOptions(parent=parent, depends_on=depends_on, **kwargs)  # type: ignore[arg-type]
