"""The ``trellis`` command. The only place that prints errors and picks exit codes."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

import click

from trellis.cli._build import build_command
from trellis.cli._output import print_fields, print_table
from trellis.exceptions import StepFailedError, TrellisError

if TYPE_CHECKING:
    from trellis.client import Client, PipelineRunView


def _client() -> Client:
    from trellis.client import Client

    return Client()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="trellis", prog_name="trellis")
def cli() -> None:
    """trellis: machine-learning pipelines as plain Python functions."""


cli.add_command(build_command())


@cli.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path), default=".")
def init(folder: Path) -> None:
    """Create a .trellis/ folder in FOLDER (default: here) for this project's runs."""
    from trellis.config import init_project

    home, created = init_project(folder.absolute())
    verb = "Created" if created else "Already initialized:"
    click.echo(f"{verb} {home}")
    click.echo("Runs started below this folder are recorded in its trellis.db and artifacts/.")
    click.echo(f"Edit {home / 'config.toml'} to use PostgreSQL or object storage.")


@cli.command("run")
@click.argument("target")
@click.option(
    "--param",
    "-p",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="A pipeline parameter (JSON value, or text); repeat for several.",
)
@click.option("--no-cache", is_flag=True, help="Reuse no cached results: every step runs.")
@click.option("--run-name", help="Name of the run (default: <pipeline>-<timestamp>).")
@click.option("--max-parallelism", type=click.IntRange(min=1), help="Steps run at once.")
def run_command(
    target: str,
    params: tuple[str, ...],
    no_cache: bool,
    run_name: str | None,
    max_parallelism: int | None,
) -> None:
    """Run the pipeline TARGET: path/to/file.py[:pipeline] or package.module[:pipeline]."""
    from trellis.cli._targets import load_pipeline, parse_parameters

    pipeline = load_pipeline(target)
    options: dict[str, object] = {}
    if no_cache:
        options["enable_cache"] = False
    if run_name:
        options["run_name"] = run_name
    if max_parallelism:
        options["max_parallelism"] = max_parallelism
    if options:
        pipeline = pipeline.with_options(**options)  # type: ignore[arg-type]
    view = pipeline(**parse_parameters(params))
    click.echo(f"Run {view.name} ({view.id}): {view.status.value}")
    _print_steps(view)


@cli.group()
def runs() -> None:
    """List and inspect pipeline runs."""


@runs.command("list")
@click.option("--pipeline", "-p", "pipeline_name", help="Only runs of this pipeline.")
@click.option("--status", "-s", help="Only runs with this status (completed, failed, ...).")
@click.option("--tag", "-t", help="Only runs with this tag.")
@click.option("--limit", "-n", default=20, show_default=True, help="Number of runs shown.")
@click.option("--offset", default=0, show_default=True, help="Skip this many newest runs.")
def runs_list(
    pipeline_name: str | None, status: str | None, tag: str | None, limit: int, offset: int
) -> None:
    """List runs, newest first."""
    from trellis.metadata import ExecutionStatus

    if status is not None:
        try:
            ExecutionStatus(status)
        except ValueError:
            choices = ", ".join(s.value for s in ExecutionStatus)
            raise click.BadParameter(
                f"{status!r}; choose one of {choices}", param_hint="--status"
            ) from None
    page = _client().list_pipeline_runs(
        pipeline_name=pipeline_name, status=status, tag=tag, limit=limit, offset=offset
    )
    rows = [
        (run.id, run.name, run.pipeline_name, run.status, run.start_time, run.duration)
        for run in page.items
    ]
    title = f"Runs {offset + 1}-{offset + len(rows)} of {page.total}" if rows else "No runs yet"
    print_table(title, ["id", "name", "pipeline", "status", "started", "duration"], rows)


@runs.command("show")
@click.argument("run")
def runs_show(run: str) -> None:
    """Show RUN (a run name or id): its status and steps with their durations."""
    view = _client().get_pipeline_run(run)
    print_fields(
        f"Run {view.name}",
        [
            ("id", view.id),
            ("pipeline", view.pipeline_name),
            ("status", view.status),
            ("started", view.start_time),
            ("duration", view.duration),
            ("parameters", view.parameters or "-"),
            ("tags", ", ".join(view.tags) or "-"),
            ("error", view.error),
        ],
    )
    _print_steps(view)
    for step in view.steps.values():
        if step.traceback:
            click.echo(f"\nTraceback of step `{step.name}` (attempt {step.attempts}):")
            click.echo(step.traceback.rstrip())


def _print_steps(view: PipelineRunView) -> None:
    rows = []
    for step in view.steps.values():
        outputs = ", ".join(f"{a.name}:v{a.version}" for a in step.outputs.values())
        rows.append(
            (step.name, step.status, step.attempts, step.start_time, step.duration, outputs or "-")
        )
    columns = ["step", "status", "attempts", "started", "duration", "outputs"]
    print_table("Steps", columns, rows)


@runs.command("logs")
@click.argument("run")
@click.argument("step", required=False)
def runs_logs(run: str, step: str | None) -> None:
    """Print what the steps of RUN printed and logged (only STEP when given)."""
    view = _client().get_pipeline_run(run)
    if step is not None and step not in view.steps:
        from trellis.exceptions import NotFoundError

        raise NotFoundError(
            f"Run `{view.name}` has no step `{step}`; its steps are: {', '.join(view.steps)}."
        )
    chosen = [view.steps[step]] if step is not None else list(view.steps.values())
    for step_run in chosen:
        text = step_run.logs
        if step is None:
            click.echo(f"== {step_run.name} ({step_run.status.value}) ==")
        if text is None:
            click.echo("(no logs: the step did not run, or enable_step_logs=False)")
        else:
            click.echo(text, nl=not text.endswith("\n"))


@cli.group()
def artifacts() -> None:
    """List artifacts and their versions."""


@artifacts.command("list")
@click.option("--name", "name_contains", help="Only artifacts whose name contains this text.")
@click.option("--tag", "-t", help="Only artifacts with a version that has this tag.")
@click.option("--limit", "-n", default=50, show_default=True)
@click.option("--offset", default=0, show_default=True)
def artifacts_list(name_contains: str | None, tag: str | None, limit: int, offset: int) -> None:
    """List artifact names with their latest version."""
    page = _client().list_artifacts(
        name_contains=name_contains, tag=tag, limit=limit, offset=offset
    )
    rows = [(a.name, a.latest_version, a.created_at) for a in page.items]
    title = f"Artifacts ({page.total})" if rows else "No artifacts yet"
    print_table(title, ["name", "latest version", "created"], rows)


@artifacts.command("versions")
@click.argument("name")
@click.option("--limit", "-n", default=50, show_default=True)
@click.option("--offset", default=0, show_default=True)
def artifacts_versions(name: str, limit: int, offset: int) -> None:
    """List the versions of artifact NAME, newest first."""
    page = _client().list_artifact_versions(name, limit=limit, offset=offset)
    if not page.items:
        from trellis.exceptions import NotFoundError

        raise NotFoundError(
            f"No artifact named {name!r}. List artifacts with `trellis artifacts list`."
        )
    rows = [
        (v.version, v.id, v.data_type.rsplit(":", 1)[-1], v.size, v.content_hash[:12], v.created)
        for v in page.items
    ]
    print_table(
        f"Versions of {name} ({page.total})",
        ["version", "id", "type", "bytes", "content hash", "created"],
        rows,
    )


@cli.group()
def cache() -> None:
    """Explain and clear cached step results."""


@cache.command("explain")
@click.argument("run")
@click.argument("step")
def cache_explain(run: str, step: str) -> None:
    """Say why STEP of RUN (a run name or id) did or did not reuse a cached result."""
    view = _client().get_pipeline_run(run)
    if step not in view.steps:
        from trellis.exceptions import NotFoundError

        raise NotFoundError(
            f"Run `{view.name}` has no step `{step}`; its steps are: {', '.join(view.steps)}."
        )
    click.echo(str(view.steps[step].cache_explanation()))


@cache.command("clear")
@click.option("--pipeline", "-p", "pipeline_name", help="Only results of this pipeline.")
@click.option("--step", "-s", "step_name", help="Only results of this step (id or name).")
@click.option(
    "--older-than",
    type=click.FloatRange(min=0),
    metavar="DAYS",
    help="Only results that finished more than DAYS days ago.",
)
def cache_clear(pipeline_name: str | None, step_name: str | None, older_than: float | None) -> None:
    """Stop reusing cached results; their artifacts are kept."""
    from datetime import timedelta

    cleared = _client().clear_cache(
        pipeline_name=pipeline_name,
        step_name=step_name,
        older_than=timedelta(days=older_than) if older_than is not None else None,
    )
    noun = "result" if cleared == 1 else "results"
    click.echo(f"Cleared {cleared} cached step {noun}; their artifacts are kept.")


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI, render trellis errors in one place, return the exit code."""
    try:
        cli.main(args=argv, prog_name="trellis", standalone_mode=False)
    except TrellisError as exc:
        cause = exc.__cause__
        if isinstance(exc, StepFailedError) and cause is not None:
            # the step's own traceback is what the user needs to fix it
            click.echo("".join(traceback.format_exception(cause)).rstrip(), err=True)
        click.echo(f"Error: {exc}", err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    return 0


def run() -> None:
    sys.exit(main())
