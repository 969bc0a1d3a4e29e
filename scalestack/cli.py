"""``scalestack``: plan, price and check the stack offline.

Exit codes: 0 ok, 1 blocking findings, 2 invalid config or usage."""

from __future__ import annotations

import io
import json
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from infra.config import ConfigError
from scalestack import REPO_ROOT

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)

EXIT_OK, EXIT_BLOCKING, EXIT_INVALID = 0, 1, 2


@app.callback()
def _root() -> None:
    """Plan, price and check the MortgageMatchPro scaling stack without cloud credentials."""


class PlanFormat(str, Enum):
    table = "table"
    json = "json"


def find_project_dir(start: Optional[Path] = None) -> Path:
    """The nearest directory upwards holding Pulumi.yaml, else the repository root."""
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / "Pulumi.yaml").is_file():
            return d
    return REPO_ROOT


def fail(message: str, code: int = EXIT_INVALID) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def emit(text: str, out: Optional[Path]) -> None:
    if out is None:
        sys.stdout.write(text)
        return
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)


@app.command()
def plan(
    stack: str = typer.Argument(..., help="Stack name: reads Pulumi.<STACK>.yaml from the project root."),
    format: PlanFormat = typer.Option(PlanFormat.table, "--format", "-f", help="Output format."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the output to this file."),
    project_dir: Optional[Path] = typer.Option(None, "--project-dir", help="Directory holding Pulumi.yaml."),
    no_policy: bool = typer.Option(False, "--no-policy", help="Skip the policy pack (no verdicts, exit code ignores them)."),
) -> None:
    """Run the program for STACK offline (no credentials, no CLI) and show what it creates."""
    from scalestack.offline import run_stack
    from scalestack.plan import plan_document, render_table
    from scalestack.policy_runner import PolicyPackError, policy_section, render_policy

    root = project_dir or find_project_dir()
    try:
        capture = run_stack(root, stack)
        policy = None if no_policy else policy_section(capture, root)
    except (ConfigError, PolicyPackError) as exc:
        fail(str(exc))
        return
    if format is PlanFormat.json:
        document = plan_document(capture)
        if policy is not None:
            document["policy"] = policy
        emit(json.dumps(document, indent=2, sort_keys=False) + "\n", out)
    else:
        buffer = io.StringIO() if out else None
        console = Console(file=buffer, width=140) if buffer else Console()
        render_table(capture, console)
        if policy is not None:
            render_policy(policy, console)
        if buffer is not None:
            emit(buffer.getvalue(), out)
    if policy is not None and policy["mandatory"]:
        raise typer.Exit(EXIT_BLOCKING)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
