"""Keep "this value was a secret" visible to the rules.

pulumi-policy unwraps secrets before a policy sees the properties, so a rule could not
tell a Pulumi secret from a plaintext password. We mark string secrets with ``SecretStr``
(a ``str``, so every other rule reads it as before) before the SDK deserializes them.
This is the pack's only touch of SDK internals; pulumi-policy's version is pinned."""

from __future__ import annotations

from typing import Any

import pulumi_policy.policy as _policy_module
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY


class SecretStr(str):
    """A string that arrived as a Pulumi secret."""


def mark_secrets(value: Any, inside_secret: bool = False) -> Any:
    """Every string inside a secret becomes a ``SecretStr``; a secret map or list (e.g. a
    Kubernetes Secret's ``stringData``) marks all of its strings, not just a bare string."""
    if isinstance(value, dict):
        if value.get(SPECIAL_SIG_KEY) == SPECIAL_SECRET_SIG and "value" in value:
            return mark_secrets(value["value"], True)
        return {k: mark_secrets(v, inside_secret) for k, v in value.items()}
    if isinstance(value, list):
        return [mark_secrets(v, inside_secret) for v in value]
    if inside_secret and isinstance(value, str):
        return SecretStr(value)
    return value


def keep_secret_marks() -> None:
    original = _policy_module.deserialize_properties
    if getattr(original, "_keeps_secret_marks", False):
        return

    def deserialize(props: dict[str, Any], proxy_secrets: bool = False) -> Any:
        return original(mark_secrets(props), proxy_secrets)

    deserialize._keeps_secret_marks = True  # type: ignore[attr-defined]
    _policy_module.deserialize_properties = deserialize  # type: ignore[assignment]
