"""Secret config values: they travel as ``SecretValue`` and reach resources only as
Pulumi secret outputs, so they never show in plans, logs or state in clear."""

from __future__ import annotations

from typing import Any

import pulumi
from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

PLACEHOLDER = "[secret]"


class SecretValue:
    """A config value that came from a ``secure:`` entry. ``repr``/``str`` never reveal it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def as_output(self) -> pulumi.Output[str]:
        return pulumi.Output.secret(self._value)

    def __repr__(self) -> str:
        return PLACEHOLDER

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretValue) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            _require_secret,
            serialization=core_schema.plain_serializer_function_ser_schema(lambda v: PLACEHOLDER),
        )


def _require_secret(value: Any) -> SecretValue:
    if isinstance(value, SecretValue):
        return value
    if isinstance(value, str):
        raise ValueError("must be a secret: set it with `pulumi config set --secret --path <key> <value>`, not as plain text")
    raise ValueError(f"must be a secret string, got {type(value).__name__}")


Secret = SecretValue
"""Field type for secret config values: plain text is rejected."""
