"""``scalestack``: plan, price and check the stack offline.

Exit codes: 0 ok, 1 blocking findings, 2 invalid config or usage."""

from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any, Optional

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
    markdown = "markdown"
    stack_export = "stack-export"


class DiffFormat(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"


pricing_app = typer.Typer(add_completion=False, no_args_is_help=True, help="The price catalogue (scalestack/catalog/prices.json).")
app.add_typer(pricing_app, name="pricing")


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
    from scalestack.export import stack_export
    from scalestack.markdown import plan_markdown
    from scalestack.offline import run_stack
    from scalestack.plan import ENRICHERS, plan_document
    from scalestack.policy_runner import PolicyPackError, add_policy, boot_in_background

    # The SDK and pulumi_aws leave ~160k long-lived objects after import; freezing them
    # keeps the garbage collector from rescanning them during the run (~3x faster plan).
    gc.freeze()
    root = project_dir or find_project_dir()
    booting = None if no_policy or format is PlanFormat.stack_export else boot_in_background()
    try:
        capture = run_stack(root, stack)
        if format is PlanFormat.stack_export:
            emit(json.dumps(stack_export(capture), indent=2) + "\n", out)
            return
        doc = plan_document(capture, ENRICHERS if booting is None else (*ENRICHERS, add_policy(root, booting)))
    except (ConfigError, PolicyPackError) as exc:
        fail(str(exc))
        return
    finally:
        if booting is not None:
            _close_pack(booting)
    if format is PlanFormat.json:
        emit(json.dumps(doc, indent=2, sort_keys=False) + "\n", out)
    elif format is PlanFormat.markdown:
        emit(plan_markdown(doc), out)
    else:
        render_rich(lambda console: render_plan(capture, console, doc), out)
    if doc["blocking"]:
        raise typer.Exit(EXIT_BLOCKING)


def _close_pack(booting: Any) -> None:
    """Stop the pack process, whether or not it was used (bad config stops a plan early)."""
    with contextlib.suppress(Exception):  # a pack that failed to boot has nothing to close
        booting.result().close()


def render_plan(capture: Any, console: Console, doc: dict[str, Any]) -> None:
    from scalestack.plan import render_table
    from scalestack.policy_runner import render_policy

    render_table(capture, console, doc)
    if "policy" in doc:
        render_policy(doc["policy"], console)


def render_rich(draw: Callable[[Console], None], out: Optional[Path]) -> None:
    buffer = io.StringIO() if out else None
    console = Console(file=buffer, width=140) if buffer else Console()
    draw(console)
    if buffer is not None:
        emit(buffer.getvalue(), out)


def read_plan(path: Path) -> dict[str, Any]:
    try:
        doc: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        fail(f"{path}: not a readable plan document ({exc})")
        raise
    if doc.get("format") != "scalestack-plan/1":
        fail(f"{path}: not a scalestack-plan/1 document (write one with `scalestack plan STACK --format json`)")
    return doc


@app.command()
def diff(
    base: Path = typer.Argument(..., help="Plan JSON of the base (scalestack plan STACK -f json)."),
    head: Path = typer.Argument(..., help="Plan JSON of the head."),
    format: DiffFormat = typer.Option(DiffFormat.table, "--format", "-f", help="Output format."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the output to this file."),
) -> None:
    """Compare two plans: changes, cost delta, capacity verdicts. Exit 1 when a stateful
    resource would be replaced or deleted."""
    from scalestack.diff import diff_documents, diff_markdown, render_diff

    d = diff_documents(read_plan(base), read_plan(head))
    if format is DiffFormat.json:
        emit(json.dumps(d, indent=2) + "\n", out)
    elif format is DiffFormat.markdown:
        emit(diff_markdown(d), out)
    else:
        render_rich(lambda console: render_diff(d, console), out)
    if d["blocking"]:
        raise typer.Exit(EXIT_BLOCKING)


class ReplayFormat(str, Enum):
    table = "table"
    json = "json"


@app.command()
def replay(
    stack: str = typer.Argument(..., help="Stack name: reads Pulumi.<STACK>.yaml from the project root."),
    trace: Optional[Path] = typer.Option(None, "--trace", help="timestamp,value CSV at 5-minute steps (default: the shipped ELB trace)."),
    format: ReplayFormat = typer.Option(ReplayFormat.table, "--format", "-f", help="Output format."),
    project_dir: Optional[Path] = typer.Option(None, "--project-dir", help="Directory holding Pulumi.yaml."),
) -> None:
    """Replay a real load trace, scaled to the stack's grown peak, against the web group's
    target tracking. Exit 1 when demand exceeds serving capacity in more than 1 % of minutes."""
    from scalestack import replay as rp
    from scalestack.offline import run_stack

    try:
        loaded = rp.load_trace(trace or rp.SHIPPED_TRACE)
        capture = run_stack(project_dir or find_project_dir(), stack)
        group = capture.one("aws:autoscaling/group:Group", "web-asg")
        result = rp.replay(loaded, capture.config, int(group.inputs["minSize"]), int(group.inputs["maxSize"]))
    except (ConfigError, rp.TraceError) as exc:
        fail(str(exc))
        return
    except (LookupError, ValueError) as exc:
        fail(f"stack {stack}: no web Auto Scaling group to replay against ({exc})")
        return
    if format is ReplayFormat.json:
        emit(json.dumps(result.as_dict(), indent=2) + "\n", None)
    else:
        emit(rp.render(result), None)
    if not result.fits:
        raise typer.Exit(EXIT_BLOCKING)


@pricing_app.command("refresh")
def pricing_refresh(
    region: list[str] = typer.Option(["us-east-1", "eu-west-1"], "--region", help="Regions to refresh (repeat)."),
    path: Optional[Path] = typer.Option(None, "--file", help="Catalogue file to update (default: the packaged prices.json)."),
) -> None:
    """Update EC2, RDS and ElastiCache on-demand prices from the AWS Price List Query API
    (needs AWS credentials with pricing:GetProducts); writes the file atomically."""
    from scalestack import pricing

    counts = pricing.refresh(path or pricing.PRICES_FILE, pricing.pricing_client(), region)
    for key, n in counts.items():
        typer.echo(f"{key}: {n} prices")


def main() -> None:
    """Console entry point. After the output is flushed the process ends without the
    interpreter's teardown, which would spend ~1 s freeing the captured object graph."""
    try:
        app()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if isinstance(exc.code, str):
            sys.stderr.write(exc.code + "\n")
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BrokenPipeError):  # `scalestack plan dev | head` closed the pipe early
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
