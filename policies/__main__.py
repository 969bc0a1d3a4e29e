"""Entry point the engine runs: ``python -m pulumi.policy <engine-address> <pack-dir>``.

``runpy`` puts the pack directory first on ``sys.path``; the rules import the project
(catalogue, capacity model, config loader) as the ``policies`` package, so the project
root goes on the path too. Nothing from the project is copied into the pack."""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from policies import registry  # noqa: E402
from policies._secrets import keep_secret_marks  # noqa: E402

PACK_NAME = "mortgagematch-guardrails"

keep_secret_marks()
PolicyPack(name=PACK_NAME, policies=registry.all_policies(), enforcement_level=EnforcementLevel.MANDATORY)
