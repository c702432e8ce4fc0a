"""`newsfm`: the command line over the flows."""

from __future__ import annotations

import sys
import time
from dataclasses import asdict, fields
from pathlib import Path

import click

from newsfm import __version__
from newsfm.pipelines import kept_api
from newsfm.pipelines.docs import render_pages
from newsfm.pipelines.prefect_api import TemporaryApi
from newsfm.pipelines.runner import InputError, quiet_prefect, run_build
from newsfm.pipelines.runner import check_folders as check_input_and_output
from newsfm.pipelines.store import OutputError, current_snapshot
from newsfm.transforms.settings import DEFAULTS, Settings
from newsfm.transforms.summary import summary_lines

EXIT_REJECTS, EXIT_USAGE = 1, 2

def setting_options(command: str):
    """Options for the settings that name `command` (`transforms.settings`): their defaults,
    bounds and help come from there, so a new setting is an option of its commands at once."""
    specs = [spec for spec in fields(Settings) if command in spec.metadata["commands"]]

    def decorate(function):
        for spec in reversed(specs):
            meta = spec.metadata
            number = click.FloatRange(meta["minimum"]) if isinstance(spec.default, float) else click.IntRange(meta["minimum"])
            function = click.option(f"--{spec.name.replace('_', '-')}", spec.name, default=spec.default, type=number,
                                    show_default=meta["shown_default"] or True, help=meta["help"])(function)
        return function

    return decorate


keep_api_option = click.option(
    "--keep-api", "keep_api", default=0.0, type=click.FloatRange(0), metavar="SECONDS", envvar="NEWSFM_KEEP_API",
    help="Without a Prefect server: keep the temporary Prefect API running for later commands, until it has "
         "been unused this many seconds (also NEWSFM_KEEP_API). Later commands use it whether or not they "
         "pass this option. `newsfm stop-api` stops it.")


def settings_of(options: dict) -> Settings:
    """The settings among a command's options (taken out of `options`)."""
    return Settings(**{spec.name: options.pop(spec.name) for spec in fields(Settings) if spec.name in options})


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="newsfm")
def main() -> None:
    """Turn a folder of news items (Markdown with YAML front matter) into Parquet tables."""


@main.command()
@click.argument("raw_dir", default="data/raw", type=click.Path(path_type=Path))
@click.argument("out_dir", default="data/out", type=click.Path(path_type=Path))
@setting_options("build")
@click.option("--dask-address", envvar="DASK_SCHEDULER_ADDRESS", metavar="tcp://HOST:PORT",
              help="Run the batch tasks on this Dask cluster (also DASK_SCHEDULER_ADDRESS); needs newsfm[dask].")
@click.option("--fail-on-reject", is_flag=True, help="Exit with status 1 when any file was rejected (the output is still published).")
@click.option("--full-refresh", is_flag=True, help="Parse every file again, ignoring the state record of the last build.")
@click.option("--progress/--no-progress", default=None, help="Show a progress bar (default: only on a terminal).")
@click.option("-v", "--verbose", is_flag=True, help="Show Prefect's own log lines.")
@keep_api_option
def build(raw_dir: Path, out_dir: Path, dask_address: str | None, fail_on_reject: bool, full_refresh: bool,
          progress: bool | None, verbose: bool, keep_api: float, **options) -> None:
    """Build the warehouse and analytics tables from RAW_DIR (default data/raw) into OUT_DIR (default data/out).

    Exit status: 0 when the run completed (even with rejected files), 1 with --fail-on-reject
    and rejects, 2 when the input or output folder cannot be used.
    """
    started = time.perf_counter()
    check_folders(raw_dir, out_dir)
    quiet_prefect(verbose)
    api = TemporaryApi(keep_s=keep_api)  # comes up on the other core while Prefect and the flows are imported
    settings = settings_of(options)
    show_progress = sys.stderr.isatty() if progress is None else progress
    try:
        with ProgressBar(show_progress) as update:
            summary = run_build(raw_dir, out_dir, settings, api, full_refresh, dask_address, update)
    except (InputError, OutputError) as error:  # another run holds the folder, or it became unwritable
        fail(str(error))
    except OSError as error:  # a full disk, an input folder that cannot be listed: readers are safe
        where = f" ({error.filename})" if error.filename else ""
        fail(f"the build stopped: {error.strerror or error}{where}. The published snapshot is complete; "
             "the next run cleans up what this one left.")
    print_summary(summary, time.perf_counter() - started)
    if fail_on_reject and summary["rejected"]:
        raise SystemExit(EXIT_REJECTS)


NO_SERVER = (
    "Prefect cannot schedule runs on its temporary API. Start a server (`prefect server start`, "
    "in another terminal or as a service), point newsfm at it with "
    "`export PREFECT_API_URL=http://127.0.0.1:4200/api`, and run `newsfm serve` again."
)


@main.command()
@click.argument("raw_dir", default="data/raw", type=click.Path(path_type=Path))
@click.argument("out_dir", default="data/out", type=click.Path(path_type=Path))
@click.option("--cron", required=True, metavar='"*/15 * * * *"', help="When to build, as a cron expression (UTC).")
@click.option("--name", default="newsfm", show_default=True, help="Name of the deployment (build-warehouse/NAME).")
@setting_options("serve")
def serve(raw_dir: Path, out_dir: Path, cron: str, name: str, **options) -> None:
    """Build RAW_DIR into OUT_DIR on a schedule: serve the build flow as a Prefect deployment.

    Needs a Prefect server (PREFECT_API_URL). Runs until stopped; one run at a time, each
    incremental. Trigger one now with `prefect deployment run build-warehouse/NAME`.
    """
    from prefect.client.schemas.schedules import CronSchedule
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        fail(NO_SERVER)
    try:
        CronSchedule(cron=cron)
    except ValueError:
        fail(f"--cron {cron!r} is not a cron expression (five fields: minute hour day month weekday)")
    check_folders(raw_dir, out_dir)
    from newsfm.pipelines.flows import build_warehouse

    parameters = {"raw_dir": str(raw_dir.resolve()), "out_dir": str(out_dir.resolve())}
    given = {key: value for key, value in asdict(settings_of(options)).items() if value != getattr(DEFAULTS, key)}
    if given:  # the rest: the flow's defaults, as a deployment of prefect.yaml takes them
        parameters["settings"] = given
    build_warehouse.serve(name=name, cron=cron, parameters=parameters, limit=1)


@main.command()
@click.argument("out_dir", default="data/out", type=click.Path(path_type=Path))
@setting_options("analytics")
@click.option("-v", "--verbose", is_flag=True, help="Show Prefect's own log lines.")
@keep_api_option
def analytics(out_dir: Path, verbose: bool, keep_api: float, **options) -> None:
    """Recompute the analytics tables of OUT_DIR (default data/out) from its published warehouse."""
    if current_snapshot(out_dir) is None:
        fail(f"{out_dir} has no published warehouse: run `newsfm build` first")
    quiet_prefect(verbose)
    api = TemporaryApi(keep_s=keep_api)
    from newsfm.pipelines.flows import build_analytics

    with api.settings():
        result = build_analytics(str(out_dir), settings_of(options))
    click.echo("rows: " + ", ".join(f"{name} {rows}" for name, rows in result["rows"].items()))
    click.echo(f"output: {out_dir}/analytics (snapshot {result['snapshot']})")


@main.command("stop-api")
def stop_api() -> None:
    """Stop the temporary Prefect API kept by `--keep-api` (of this PREFECT_HOME), if one is running."""
    url = kept_api.stop()
    click.echo(f"stopped the kept Prefect API at {url}" if url else "no kept Prefect API is running")


@main.command()
@click.argument("out_dir", default="data/out", type=click.Path(path_type=Path))
def report(out_dir: Path) -> None:
    """Write OUT_DIR/report/index.html (default data/out): charts of the published tables, self-contained."""
    if current_snapshot(out_dir) is None:
        fail(f"{out_dir} has no published tables: run `newsfm build` first")
    from newsfm.pipelines.report import write_report  # matplotlib: only for this command

    click.echo(f"wrote {write_report(out_dir)}")


@main.command()
@click.argument("count", type=click.IntRange(0))
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option("--seed", default=0, show_default=True, type=int, help="Same seed, same corpus, byte for byte.")
@click.option("--style", default="smartable", show_default=True,
              type=click.Choice(["smartable", "pydump", "hand", "mix"]),
              help="How the front matter is written: as the real files (smartable), as yaml.safe_dump writes it "
                   "(pydump), as kept by hand (comments, block scalars, flow lists), or a mix, drawn per file.")
def generate(count: int, out_dir: Path, seed: int, style: str) -> None:
    """Write a synthetic corpus of COUNT news files (and a topic taxonomy) into OUT_DIR."""
    from newsfm.synthetic.write import write_corpus

    written = write_corpus(count, out_dir, seed=seed, style=style)
    click.echo(f"wrote {written} files to {out_dir}")


@main.command()
@click.option("--check", is_flag=True, help="Exit 1 if a page is not what the code gives (and write nothing).")
@click.argument("docs_dir", default="docs", type=click.Path(file_okay=False, path_type=Path))
def docs(check: bool, docs_dir: Path) -> None:
    """Write the data dictionary and the other generated pages into DOCS_DIR (default docs).

    tables.md comes from the table schemas, cli.md from these commands, reasons.md from the
    reason codes of rejected and skipped files, fields.md from the fields the converters read.
    """
    pages = {docs_dir / name: text for name, text in render_pages(main).items()}
    if check:
        stale = [str(path) for path, text in pages.items() if not path.is_file() or path.read_text(encoding="utf-8") != text]
        if stale:
            fail(f"{', '.join(stale)} {'is' if len(stale) == 1 else 'are'} stale: run `newsfm docs`", status=1)
        return
    docs_dir.mkdir(parents=True, exist_ok=True)
    for path, text in pages.items():
        path.write_text(text, encoding="utf-8")
        click.echo(f"wrote {path}")


def check_folders(raw_dir: Path, out_dir: Path) -> None:
    """Exit 2 unless the input folder exists and the output folder can be written: before Prefect starts."""
    try:
        check_input_and_output(raw_dir, out_dir)
    except (InputError, OutputError) as error:
        fail(str(error))


def fail(message: str, status: int = EXIT_USAGE) -> None:
    click.echo(f"newsfm: {message}", err=True)
    raise SystemExit(status)


class ProgressBar:
    """A rich progress bar on stderr, or nothing; yields the `update(done, total)` callback."""

    def __init__(self, enabled: bool):
        self.bar = None
        if enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                TextColumn("parsing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=Console(stderr=True), transient=True,
            )

    def __enter__(self):
        if self.bar is None:
            return lambda done, total: None
        self.bar.start()
        task = self.bar.add_task("parse", total=None)
        return lambda done, total: self.bar.update(task, completed=done, total=total)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()


def print_summary(summary: dict, seconds: float) -> None:
    for line in summary_lines(summary, seconds):
        click.echo(line)
