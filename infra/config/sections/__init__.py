"""One module per config section. Each module owns its model and its presets:
``ENV_DEFAULTS`` (per environment) and ``PHASE_DEFAULTS`` (per phase), partial dicts of
the section's own keys that the loader merges under the stack file's values."""
