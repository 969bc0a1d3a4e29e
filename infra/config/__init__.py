"""Typed stack configuration: schema, phase presets and the one loader."""

from infra.config.errors import ConfigError
from infra.config.loader import PROJECT, load_from_pulumi, load_stack_file, parse, read_stack_file
from infra.config.model import ENVIRONMENTS, PHASES, StackConfig
from infra.config.secrets import SecretValue

__all__ = [
    "ENVIRONMENTS",
    "PHASES",
    "PROJECT",
    "ConfigError",
    "SecretValue",
    "StackConfig",
    "load_from_pulumi",
    "load_stack_file",
    "parse",
    "read_stack_file",
]
