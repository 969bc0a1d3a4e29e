"""The one error type bad configuration raises, rendered as one line:
``<file>: <namespace>:<key>: <what is allowed>, got <value>``."""

from __future__ import annotations


class ConfigError(Exception):
    """Invalid stack configuration. ``str()`` is the whole one-line message."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source = source
        self.key = key
        self.problem = problem
        super().__init__(f"{source}: {key}: {problem}" if key else f"{source}: {problem}")


class KeyedError(ValueError):
    """Raised inside validators to blame a specific key (dotted, relative to the model
    that raises it) instead of the model as a whole."""

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        self.problem = problem
        super().__init__(problem)
