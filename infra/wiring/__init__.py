"""One module per tier: a function ``wire(platform)`` that creates the tier's components
from the config and records what later tiers and the stack outputs need on ``platform``."""
