"""The `narrowtune` command: parse, call the API, render. No logic of its own."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from typer.core import TyperGroup

from narrowtune.backends import Backend
from narrowtune.errors import NarrowtuneError
from narrowtune.index_cli import index_app
from narrowtune.progress import LogProgress, ProgressFn

# Seconds between two progress lines of one stage when output is a log, not a terminal.
LOG_PROGRESS_SECONDS = 10.0


class Commands(TyperGroup):
    """The command group that prints a NarrowtuneError from any command as `error: <message>`
    (no traceback) and exits 2: the one place the CLI handles errors a user can cause."""

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NarrowtuneError as exc:
            fail(str(exc))


app = typer.Typer(
    cls=Commands,
    name="narrowtune",
    help="Fine-tune a small model for one narrow job, and prove it beats the baselines first.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Logs and CI are not terminals; rich would then wrap tables at 80 columns.
console = Console(stderr=True, width=None if sys.stderr.isatty() else 120)
out = Console(width=None if sys.stdout.isatty() else 120)

TaskArg = Annotated[Path, typer.Argument(help="Task file (task.yaml) or its folder.")]
Overrides = Annotated[
    list[str] | None,
    typer.Argument(help="key=value overrides of the task file, e.g. train.epochs=3 seed=7."),
]


def _backend(value: str) -> Backend:
    """typer's parser for --backend: a usage error (exit 2) naming the choices."""
    try:
        return Backend.parse(value)
    except NarrowtuneError as exc:
        raise typer.BadParameter(str(exc)) from None


class OnInvalid(StrEnum):
    """What `serve` does with a chat reply that broke its contract."""

    WITHHOLD = "withhold"
    RETURN = "return"


BackendOption = Annotated[
    Backend,
    typer.Option(
        parser=_backend,
        help="Inference backend: torch; onnx or onnx-int8 (classify); llamacpp (generate, GGUF).",
    ),
]


@contextmanager
def progress_bars() -> Iterator[ProgressFn]:
    """A ProgressFn drawing one rich bar per stage, with elapsed time and ETA; when stderr is
    not a terminal (CI, nohup, a log file), a plain line per stage at most every 10 s."""
    if not console.is_terminal:
        yield LogProgress(sys.stderr, interval=LOG_PROGRESS_SECONDS)
        return
    bars = Progress(
        TextColumn("[bold]{task.description:<10}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )
    ids: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in ids or (bars.tasks[ids[stage]].finished and done < total):
            ids[stage] = bars.add_task(stage, total=total)
        bars.update(ids[stage], completed=done, total=total)

    with bars:
        yield update


def fail(message: str, code: int = 2) -> NoReturn:
    # No wrapping (paths stay whole, so they can be copied) and no markup in the user's text.
    console.print("[bold red]error:[/]", end=" ")
    console.print(message, markup=False, soft_wrap=True, highlight=False)
    raise typer.Exit(code)


def _load(path: Path, overrides: list[str] | None) -> Any:
    from narrowtune.task import load_task

    return load_task(path, overrides or [])


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}"


def systems_table(evaluation: Any) -> Table:
    from narrowtune.evaluate.columns import cells, summary_columns

    table = Table(title=f"{evaluation.task}: test split ({evaluation.split.test} examples)")
    columns = summary_columns(evaluation)
    table.add_column("system", justify="left", no_wrap=True)
    for column in columns:
        table.add_column(column.header, justify="right")
    for system in evaluation.systems:
        table.add_row(system.name, *cells(system, columns))
    return table


def margin_line(evaluation: Any) -> str:
    from narrowtune.evaluate.evaluation import margin_sentence

    return margin_sentence(evaluation.margin)


@app.command()
def init(
    name: Annotated[str, typer.Argument(help="Task name; also the folder created.")],
    kind: Annotated[
        str, typer.Option(help="The kind of job: classify, extract, generate, or an installed one.")
    ] = "classify",
    directory: Annotated[Path | None, typer.Option(help="Where to create it.")] = None,
) -> None:
    """Scaffold a task folder: task.yaml and a small example data file to replace."""
    from narrowtune.scaffold import scaffold

    folder = scaffold(name, kind=kind, directory=directory or Path(name))
    files = ", ".join(sorted(p.name for p in folder.iterdir()))
    out.print(f"created {folder}/ ({files}) — edit them, then run `narrowtune train {folder}`")


@app.command()
def train(
    task_file: TaskArg,
    overrides: Overrides = None,
    processes: Annotated[
        int | None, typer.Option(help="Training processes (Accelerate, gloo on CPU).")
    ] = None,
    evaluate: Annotated[bool, typer.Option(help="Run `eval` (with baselines) afterwards.")] = False,
    force: Annotated[
        bool, typer.Option(help="Train even when the data audit finds blocking problems.")
    ] = False,
) -> None:
    """Train a model; writes runs/<task>/<run-id>/ (weights, card, metrics)."""
    from narrowtune import api

    try:
        task = _load(task_file, overrides)
        if processes is not None:
            task.train.processes = processes
        start = time.perf_counter()
        with progress_bars() as progress:
            run_dir = api.train(task, progress=progress, force=force)
        out.print(f"trained in {time.perf_counter() - start:.0f} s → [bold]{run_dir}[/]")
        if evaluate:
            _evaluate(task, str(run_dir), baselines=True, backend=Backend.TORCH)
    except KeyboardInterrupt:
        fail("interrupted: no run directory was written", code=130)


def _evaluate(task: Any, run: str | None, *, baselines: bool, backend: Backend) -> None:
    from narrowtune import api

    with progress_bars() as progress:
        evaluation, run_dir = api.evaluate(
            task, run=run, baselines=baselines, backend=backend.value, progress=progress
        )
    out.print(systems_table(evaluation))
    out.print(margin_line(evaluation))
    from narrowtune.evaluate.costs import cost_lines
    from narrowtune.evaluate.moderation import moderation_lines
    from narrowtune.evaluate.scope import scope_lines

    lines = [*scope_lines(evaluation), *cost_lines(evaluation), *moderation_lines(evaluation)]
    for line in lines:
        out.print(line, markup=False, highlight=False)
    for warning in evaluation.warnings or []:
        console.print(f"[yellow]warning:[/] {warning}")
    for note in evaluation.notes:
        console.print(f"note: {note}")
    out.print(f"report: [bold]{run_dir / 'report.html'}[/]")


@app.command("eval")
def eval_(
    task_file: TaskArg,
    overrides: Overrides = None,
    run: Annotated[str | None, typer.Option(help="Run id or path (default: newest).")] = None,
    baselines: Annotated[bool, typer.Option(help="Also score the baselines.")] = True,
    backend: BackendOption = Backend.TORCH,
) -> None:
    """Score a run and every baseline on the same test split; writes report.html."""
    _evaluate(_load(task_file, overrides), run, baselines=baselines, backend=backend)


@app.command()
def advise(
    task_file: TaskArg,
    overrides: Overrides = None,
    curve_minutes: Annotated[
        float | None,
        typer.Option(
            help="Measure the learning curve with the fast fine-tune itself (one epoch at "
            "10/25/50/100% of the data, at most this many minutes in all) instead of the "
            "frozen-embedding probe (classify)."
        ),
    ] = None,
) -> None:
    """Decide between fine-tuning, prompting, retrieval and a workflow, from measurements on
    the task's data and this machine and the task's `profile:`; writes runs/<task>/advice.json."""
    from narrowtune.advise import advise as run_advise

    task = _load(task_file, overrides)
    with progress_bars() as progress:
        advice = run_advise(task, progress=progress, curve_minutes=curve_minutes)
    out.print(f"[bold]decision: {advice.decision}[/]")
    for reason in advice.reasons:
        out.print(f"  because {reason}", markup=False, highlight=False)
    table = Table(title="criteria (measured unless marked profile)")
    for name in ("criterion", "met", "measurement", "argues for"):
        table.add_column(name, justify="left")
    for c in advice.criteria:
        met = "—" if c.met is None else ("yes" if c.met else "no")
        table.add_row(c.name, met, c.evidence, c.favours)
    out.print(table)
    opts = advice.options
    for name in ("fine-tune", "prompt"):
        o = opts[name]
        out.print(
            f"{name}: {_money(o['cost_per_1k'])} per 1,000 calls, {_money(o['cost_per_month'])} "
            f"per month, {o['latency_ms']:.0f} ms ({o['measured']})",
            markup=False,
            highlight=False,
        )
    out.print(f"break-even volume: {opts['break_even_calls_per_day']:,.0f} calls/day")
    for item in advice.measure_first:
        console.print(f"measure first: {item}", markup=False, highlight=False)
    assumed = [f"{k}={v['value']}" for k, v in advice.assumptions.items() if v["assumed"]]
    if assumed:
        console.print("assumed (set them under `profile:`): " + ", ".join(assumed), markup=False)
    for note in advice.notes:
        console.print(f"note: {note}", markup=False, highlight=False)
    out.print(f"advice: [bold]{task.runs_path / 'advice.json'}[/] ({advice.seconds:.0f} s)")


def _money(value: float | None) -> str:
    return "—" if value is None else f"${value:,.2f}"


@app.command()
def predict(
    task_file: TaskArg,
    input_file: Annotated[Path, typer.Argument(help="CSV, JSONL or Parquet with a text column.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Output .jsonl or .csv (default stdout).")
    ] = None,
    run: Annotated[str | None, typer.Option(help="Run id or path (default: newest).")] = None,
    text_column: Annotated[str | None, typer.Option(help="Default: the task's.")] = None,
    backend: BackendOption = Backend.TORCH,
    fmt: Annotated[str | None, typer.Option("--format", help="jsonl or csv.")] = None,
) -> None:
    """Predict each row of INPUT_FILE: a label (classify), fields (extract) or a checked draft
    (generate), with confidence and abstain. Input columns are kept as they were: a prediction
    column whose name the input already uses is written as predicted_<name>."""
    from narrowtune import api, runs

    if fmt not in (None, "jsonl", "csv"):
        fail(f"unknown format '{fmt}'; use jsonl or csv")
    task = _load(task_file, None)
    model = api.load(runs.find_run(task.runs_path, run), backend=backend.value)
    notes: list[str] = []
    text = api.predict_file(
        model,
        input_file,
        text_column=text_column or task.input_column,
        output=output,
        fmt=fmt,
        notes=notes,
    )
    for note in notes:  # on stderr: stdout carries the predictions
        console.print(f"note: {note}")
    if output is None:
        sys.stdout.write(text)
    else:
        console.print(
            f"wrote {text.count(chr(10)) - (1 if output.suffix == '.csv' else 0)} "
            f"predictions to {output}"
        )


@app.command()
def audit(
    task_file: TaskArg,
    overrides: Overrides = None,
    fast: Annotated[bool, typer.Option(help="Only the cheap, model-free checks.")] = False,
    checks: Annotated[
        str | None, typer.Option(help="Comma-separated check names (default: all).")
    ] = None,
    fix: Annotated[
        Path | None,
        typer.Option(
            help="Write a cleaned copy of the training data here (.jsonl); suspected "
            "label errors go to <name>.review.jsonl. Never overwrites the input."
        ),
    ] = None,
    impact: Annotated[
        bool, typer.Option(help="Train the fast baseline on raw vs cleaned data and compare.")
    ] = False,
    stop_on_error: Annotated[
        bool, typer.Option(help="Stop at the first malformed row instead of reporting it.")
    ] = False,
) -> None:
    """Is this data fit to fine-tune on? Duplicates, conflicts, label errors, leakage, secrets."""
    from narrowtune import api
    from narrowtune.data.audit import audit_table, measure_impact, write_fixed

    task = _load(task_file, overrides)
    names = [c.strip() for c in checks.split(",") if c.strip()] if checks else None
    with progress_bars() as progress:
        report = api.audit(
            task, fast=fast, checks=names, stop_on_error=stop_on_error, progress=progress
        )
    out.print(audit_table(report))
    out.print(f"audit.json: {task.runs_path / 'audit.json'} ({report.seconds:.1f} s)")
    if fix is not None:
        counts = write_fixed(task, report, fix)
        out.print(
            f"cleaned copy: {counts['out']} ({counts['written']} of "
            f"{counts['input_rows']} rows); set aside for review: {counts['review']}"
        )
    if impact:
        result = measure_impact(task, report, seed=task.seed)
        out.print(f"impact: {result}")
    if report.blocking():
        console.print(
            f"[bold red]{len(report.blocking())} blocking finding(s)[/]: `train` "
            "refuses this data until they are fixed (or --force)"
        )
        raise typer.Exit(1)


keys_app = typer.Typer(
    help="API keys for `narrowtune serve` (stored hashed, shown once).", no_args_is_help=True
)
feedback_app = typer.Typer(help="Reviewer decisions, as data for retraining.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(feedback_app, name="feedback")
app.add_typer(index_app, name="index")
DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL or SQLite path (default: $NARROWTUNE_DB, else "
        "narrowtune.db in the task's runs folder).",
    ),
]


def _store(task_file: Path | None, db: str | None) -> Any:
    import os

    from narrowtune.store import Store

    if db is None and not os.environ.get("NARROWTUNE_DB") and task_file is not None:
        task = _load(task_file, None)
        task.runs_path.mkdir(parents=True, exist_ok=True)
        db = str(task.runs_path / "narrowtune.db")
    return Store(db)


OptionalTask = Annotated[
    Path | None, typer.Argument(help="Task file whose runs folder holds the database.")
]


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="A name for the key (who or what uses it).")],
    task_file: OptionalTask = None,
    db: DbOption = None,
    scope: Annotated[
        list[str] | None,
        typer.Option(
            "--scope",
            help="What the key may do, repeatable: predict (predictions, chat, model list), "
            "review (the review queue, API and pages), admin (reloads; /metrics and the docs "
            "under --protect-ops). Default: predict.",
        ),
    ] = None,
) -> None:
    """Create a key; it is printed once and stored only as a hash."""
    with _store(task_file, db) as store:
        key = store.create_key(name, scopes=tuple(scope or ("predict",)))
        out.print(key, markup=False, highlight=False)


@keys_app.command("list")
def keys_list(task_file: OptionalTask = None, db: DbOption = None) -> None:
    """List key names, scopes and dates (never the keys)."""
    with _store(task_file, db) as store:
        table = Table("name", "scopes", "created", "revoked")
        for key in store.list_keys():
            table.add_row(
                key["name"],
                " ".join(key.get("scopes") or ()),
                str(key["created"]),
                str(key.get("revoked") or ""),
            )
        out.print(table)


@keys_app.command("revoke")
def keys_revoke(
    name: Annotated[str, typer.Argument(help="The key's name.")],
    task_file: OptionalTask = None,
    db: DbOption = None,
) -> None:
    """Revoke a key: requests with it get 401 from then on."""
    with _store(task_file, db) as store:
        store.revoke_key(name)
    out.print(f"revoked {name}")


@feedback_app.command("export")
def feedback_export(
    task_file: OptionalTask = None,
    db: DbOption = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="JSONL file.")] = None,
) -> None:
    """Write reviewed items (text + final label) as JSONL, ready to train on."""
    import json

    from narrowtune import runs

    with _store(task_file, db) as store:
        rows = store.export_feedback()
    text = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows)
    if output is None:
        sys.stdout.write(text)
    else:
        runs.write_text(output, text)
        console.print(f"wrote {len(rows)} reviewed item(s) to {output}")


@app.command()
def serve(
    targets: Annotated[
        list[Path],
        typer.Argument(
            help="Task files (served at their newest run, followed by reloads) or run "
            "directories (pinned); several serve several models, each addressed by its task name.",
            show_default=False,
        ),
    ],
    run: Annotated[
        str | None, typer.Option(help="Run id or path for a single task file (pins it).")
    ] = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    db: DbOption = None,
    max_batch: Annotated[int, typer.Option(help="Most texts in one request (else 413).")] = 256,
    backend: BackendOption = Backend.TORCH,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (each loads every model).")
    ] = 1,
    reload_interval: Annotated[
        float,
        typer.Option(
            min=0,
            help="Check task files' runs folders every this many seconds and swap in a newer "
            "run without dropping requests (0: only on POST /v1/admin/reload).",
        ),
    ] = 0.0,
    batch_wait_ms: Annotated[
        float,
        typer.Option(
            min=0,
            help="How long an idle model waits for company before a call (concurrent "
            "/v1/predict requests always share calls, round-robin across keys; 0: no wait).",
        ),
    ] = 0.0,
    trusted_host: Annotated[
        list[str] | None,
        typer.Option(
            "--trusted-host",
            help="A Host name requests may address (repeatable; others get 400). Default: "
            "the loopback names when --host is a loopback address, else any.",
        ),
    ] = None,
    protect_ops: Annotated[
        bool,
        typer.Option(
            "--protect-ops", help="/metrics and the API docs need a key with the admin scope."
        ),
    ] = False,
    on_invalid: Annotated[
        OnInvalid,
        typer.Option(
            help="A chat reply that breaks its contract after retries: withhold it (content "
            "null, finish_reason content_filter, reasons in narrowtune.problems) or return it "
            "flagged narrowtune.valid false. Requests may choose with 'on_invalid'.",
        ),
    ] = OnInvalid.WITHHOLD,
    max_inflight_per_key: Annotated[
        int,
        typer.Option(
            min=1, help="Requests one key may have in flight at once (more: 429, Retry-After)."
        ),
    ] = 128,
    max_queue: Annotated[
        int,
        typer.Option(min=1, help="Requests in flight in all, per worker (more: 503, Retry-After)."),
    ] = 2048,
    rate_per_key: Annotated[
        float,
        typer.Option(
            min=0,
            help="Requests per second one key may start on average, bursts of twice that "
            "(more: 429, Retry-After); 0: no rate limit.",
        ),
    ] = 0.0,
    access_log: Annotated[
        bool, typer.Option(help="Log every request (credentials in URLs are redacted).")
    ] = True,
    pipeline: Annotated[
        list[Path] | None,
        typer.Option(
            "--pipeline",
            help="A pipeline file to serve at POST /v1/pipelines/<name> (repeatable); its "
            "escalations land in the same review queue.",
        ),
    ] = None,
) -> None:
    """Serve models over HTTP: /v1/predict, /v1/chat/completions (generative models),
    /v1/models, /v1/pipelines/<name> (with --pipeline), /v1/admin/reload, the review queue
    (/review), /metrics and /healthz.

    Every /v1 route needs `Authorization: Bearer <key>` for a key with the route's scope
    (`narrowtune keys create NAME --scope predict|review|admin`); see SECURITY.md.
    """
    from narrowtune import runs
    from narrowtune.serve.config import ServeOptions
    from narrowtune.serve.launch import prepare

    if run is not None and len(targets) != 1:
        raise NarrowtuneError("--run pins one task to a run: give exactly one task file")
    # The database lives in the first task's runs folder unless --db or $NARROWTUNE_DB says.
    first_task = next((t for t in targets if not runs.is_run_dir(t)), None)
    options = ServeOptions(
        run=run,
        backend=backend.value,
        max_batch=max_batch,
        reload_interval=reload_interval,
        batch_wait_ms=batch_wait_ms,
        trusted_hosts=tuple(trusted_host or _default_hosts(host)),
        protect_ops=protect_ops,
        on_invalid=on_invalid.value,
        max_inflight_per_key=max_inflight_per_key,
        max_queue=max_queue,
        rate_per_key=rate_per_key,
        pipelines=tuple(str(p.resolve()) for p in pipeline or []),
    )
    server = prepare(targets, store=_store(first_task, db), workers=workers, options=options)
    console.print(
        f"serving {', '.join(server.names)} on http://{host}:{port} ({workers} worker"
        f"{'s' if workers > 1 else ''}); review queue at http://{host}:{port}/review "
        "(create a key with `narrowtune keys create NAME task.yaml --scope review`)"
    )
    server.run(host=host, port=port, access_log=access_log)


pipeline_app = typer.Typer(
    help="Workflows: run a pipeline file on one case, or test it on expected cases "
    "(docs/PIPELINES.md).",
    no_args_is_help=True,
)
app.add_typer(pipeline_app, name="pipeline")
PipelineArg = Annotated[Path, typer.Argument(help="Pipeline file (pipeline.yaml).")]


def _pipeline_store(pipeline_file: Path, db: str | None) -> Any:
    """--db, else $NARROWTUNE_DB, else runs/narrowtune.db beside the pipeline file."""
    import os

    from narrowtune.store import Store

    if db is None and not os.environ.get("NARROWTUNE_DB"):
        folder = pipeline_file.resolve().parent / "runs"
        folder.mkdir(parents=True, exist_ok=True)
        db = str(folder / "narrowtune.db")
    return Store(db)


def _case_inputs(pipeline: Any, given: str) -> dict[str, Any]:
    """INPUT as a JSON object, @file.json, or plain text for a pipeline with one text input."""
    import json

    text = given
    if given.startswith("@"):
        path = Path(given[1:])
        if not path.is_file():
            raise NarrowtuneError(f"input file not found: {path}")
        text = path.read_text(encoding="utf-8")
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            value = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise NarrowtuneError(f"INPUT is not a valid JSON object: {exc.msg}") from None
        return value
    texts = [n for n, t in pipeline.spec.inputs.items() if t == "string"]
    if len(pipeline.spec.inputs) != 1 or len(texts) != 1:
        raise NarrowtuneError(
            f"pipeline '{pipeline.name}' reads {', '.join(pipeline.spec.inputs)}: give INPUT as "
            "a JSON object"
        )
    return {texts[0]: text}


@pipeline_app.command("run")
def pipeline_run(
    pipeline_file: PipelineArg,
    given: Annotated[
        str,
        typer.Argument(
            metavar="INPUT",
            help="The case: a JSON object of the pipeline's inputs, @file.json, or plain text "
            "when the pipeline has one text input.",
        ),
    ],
    db: DbOption = None,
    record: Annotated[
        bool, typer.Option(help="Store the trace (and the review item of an escalation).")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole trace as JSON.")] = False,
) -> None:
    """Run one case through a pipeline and print its route, outputs and trace."""
    import json

    from narrowtune.pipeline import load_pipeline, run_case

    pipeline = load_pipeline(pipeline_file)
    inputs = _case_inputs(pipeline, given)
    pipeline.prepare()
    result = run_case(pipeline, inputs)
    stored = None
    if record:
        with _pipeline_store(pipeline_file, db) as store:
            stored = store.record_trace(result.to_dict(), review_text=result.review_text)
    if as_json:
        out.print_json(json.dumps({**result.to_dict(), "stored": stored}, ensure_ascii=False))
        return
    table = Table(title=f"{pipeline.name}: trace {result.trace_id}")
    for column in ("step", "type", "status", "ms", "confidence", "output / error"):
        table.add_column(column, overflow="fold")
    for step in result.steps:
        shown = step.error or json.dumps(step.output, ensure_ascii=False)
        table.add_row(
            step.step,
            step.type,
            step.status,
            f"{step.latency_ms:.0f}",
            "" if step.confidence is None else f"{step.confidence:.3f}",
            shown[:300] + ("…" if len(shown) > 300 else ""),
        )
    out.print(table)
    verdict = "[bold yellow]escalated[/]" if result.escalated else "[bold green]answered[/]"
    out.print(f"{verdict} route={result.route} ({result.latency_ms:.0f} ms): ", end="")
    out.print(result.reason, markup=False)
    if result.outputs:
        out.print_json(json.dumps(result.outputs, ensure_ascii=False))
    if stored and stored["review_item_id"] is not None:
        out.print(f"review item {stored['review_item_id']} opened in the review queue")


@pipeline_app.command("test")
def pipeline_test(
    pipeline_file: PipelineArg,
    cases_file: Annotated[
        Path, typer.Argument(help="Cases (JSONL): inputs and the expected route and fields.")
    ],
    db: Annotated[
        str | None,
        typer.Option(
            "--db", help="Store every case's trace in this database (default: not stored)."
        ),
    ] = None,
    min_pass_rate: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="Fail (exit 1) below this share of cases passing."),
    ] = 1.0,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the summary and failures as JSON.")
    ] = None,
) -> None:
    """Run expected cases: pass rate per step and end to end, escalation precision and recall.

    Exits 1 when the pass rate is below --min-pass-rate or a case that must reach a human
    (`"escalated": true`) was answered.
    """
    import json

    from narrowtune import atomic
    from narrowtune.pipeline import load_pipeline, read_cases, run_cases
    from narrowtune.pipeline.cases import failed_lines

    pipeline = load_pipeline(pipeline_file)
    cases = read_cases(cases_file, pipeline)
    with progress_bars() as progress:
        progress("loading", 0, 1)
        pipeline.prepare()
        progress("loading", 1, 1)
        done = [0]

        def on_case(_outcome: Any) -> None:
            done[0] += 1
            progress("cases", done[0], len(cases))

        store = None
        if db is not None:
            from narrowtune.store import Store

            store = Store(db)
        try:
            record = (
                (lambda r: store.record_trace(r.to_dict(), review_text=r.review_text))
                if store is not None
                else None
            )
            report = run_cases(pipeline, cases, on_case=on_case, record=record)
        finally:
            if store is not None:
                store.close()
    summary = report.summary()
    table = Table(title=f"{pipeline.name}: {summary['cases']} cases")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("passed end to end", f"{summary['passed']} ({_pct(summary['pass_rate'])}%)")
    table.add_row("route accuracy", _pct(summary["route_accuracy"]))
    table.add_row("escalation recall", _pct(summary["escalation_recall"]))
    table.add_row("escalation precision", _pct(summary["escalation_precision"]))
    table.add_row("escalated", str(summary["escalated"]))
    for name, entry in summary["steps"].items():
        table.add_row(f"step {name}", f"{entry['passed']}/{entry['checked']}")
    table.add_row(
        "latency p50 / p95 ms", f"{summary['latency_p50_ms']} / {summary['latency_p95_ms']}"
    )
    out.print(table)
    failures = failed_lines(report)
    for line in failures:
        out.print(f"  FAIL {line}", markup=False, soft_wrap=True)
    if output is not None:
        atomic.write_text(
            output,
            json.dumps({**summary, "failures": failed_lines(report, limit=10_000)}, indent=2),
        )
    missed = summary["escalation_recall"] is not None and summary["escalation_recall"] < 1.0
    if summary["pass_rate"] < min_pass_rate or missed:
        why = (
            "a case that must reach a human was answered"
            if missed
            else (f"pass rate {_pct(summary['pass_rate'])}% < {_pct(min_pass_rate)}%")
        )
        console.print(f"[bold red]failed:[/] {why}")
        raise typer.Exit(1)


@pipeline_app.command("trace")
def pipeline_trace(
    trace_id: Annotated[str, typer.Argument(help="The trace id a run or the server printed.")],
    pipeline_file: Annotated[
        Path | None, typer.Option("--pipeline", help="Its pipeline file (to find the database).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Print a stored trace: every step, the route, and the reviewer's decisions on it."""
    import json

    from narrowtune.store import Store

    store = _pipeline_store(pipeline_file, db) if pipeline_file is not None else Store(db)
    with store:
        found = store.trace(trace_id)
    if found is None:
        raise NarrowtuneError(f"no trace '{trace_id}' in {store.url}")
    out.print_json(json.dumps(found, ensure_ascii=False))


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def _default_hosts(host: str) -> list[str]:
    """A server on a loopback address answers only for loopback names (no DNS rebinding)."""
    return list(LOOPBACK_HOSTS) if host in LOOPBACK_HOSTS else []


@app.command()
def demo(
    directory: Annotated[Path, typer.Option(help="Working folder for the demo.")] = Path(
        "narrowtune-demo"
    ),
) -> None:
    """Train and evaluate the bundled Web3 wallet-support router end to end (≈ 3 min on 2 cores)."""
    from narrowtune.scaffold import demo_folder

    start = time.perf_counter()
    task_path = demo_folder(directory)
    out.print(f"demo task: {task_path}")
    task = _load(task_path, None)
    from narrowtune import api
    from narrowtune.data.audit import audit_table, write_fixed

    out.rule("1. audit the data")
    with progress_bars() as progress:
        report = api.audit(task, progress=progress)
    out.print(audit_table(report))
    cleaned = task_path.parent / "tickets.clean.jsonl"
    counts = write_fixed(task, report, cleaned)
    out.print(
        f"cleaned copy: {cleaned} ({counts['written']} of {counts['input_rows']} rows "
        f"kept; secrets masked; suspects set aside in {counts['review']})"
    )
    out.rule("2. train on the cleaned data")
    task = _load(task_path, [f"data.train={cleaned.name}"])
    with progress_bars() as progress:
        run_dir = api.train(task, progress=progress)
    out.print(f"trained → {run_dir}")
    _evaluate(task, str(run_dir), baselines=True, backend=Backend.TORCH)
    out.print(
        f"demo finished in {time.perf_counter() - start:.0f} s; open the report above in a "
        "browser (it works offline)"
    )


@app.command()
def export(
    task_file: TaskArg,
    out_dir: Annotated[Path, typer.Option("--output", "-o", help="Folder to write into.")],
    run: Annotated[str | None, typer.Option(help="Run id or path (default: newest).")] = None,
    gguf: Annotated[bool, typer.Option(help="Also write model.gguf + an Ollama Modelfile.")] = True,
) -> None:
    """Export a run for other runtimes (generate: merged safetensors, a GGUF for llama.cpp and an
    Ollama Modelfile)."""
    from narrowtune import api, runs
    from narrowtune.kinds import all_kinds

    task = _load(task_file, None)
    if task.plugin.exporter is None:
        able = [k.name for k in all_kinds() if k.exporter is not None]
        fail(
            f"export is for kind {' or '.join(map(repr, able))} runs; '{task.name}' is kind "
            f"'{task.kind}'"
        )
    from narrowtune.kinds.base import resolve

    exporter = resolve(task.plugin.exporter)
    written = exporter(api.load(runs.find_run(task.runs_path, run)), out_dir, gguf=gguf)
    for what, where in written.items():
        out.print(f"{what}: {where}")


@app.command("runs")
def list_runs(task_file: TaskArg) -> None:
    """List the finished runs of a task, newest last."""
    from narrowtune import runs

    task = _load(task_file, None)
    table = Table("run", "trained", "train s", f"test {task.metric}")
    for path in runs.list_runs(task.runs_path):
        info = runs.read_json(path / runs.RUN_FILE)
        metrics = path / runs.METRICS_FILE
        value = (
            runs.read_json(metrics)["systems"][0]["metrics"].get(task.metric)
            if metrics.is_file()
            else None
        )
        table.add_row(path.name, info["created"], f"{info['train_seconds']:.0f}", _pct(value))
    out.print(table)


# -- maintenance: monitor, retrain, promote, rollback --------------------------------------------


def _monitor_table(report: dict[str, Any]) -> Table:
    from narrowtune.monitor.dashboard import TITLES

    window = report["window"]
    table = Table("test", "p", "drift", "note", title=f"{window['n']} predictions")
    for name, test in window["tests"].items():
        p = test["p_value"]
        table.add_row(
            TITLES[name],
            "—" if p is None else f"{p:.3g}",
            "[bold red]yes[/]" if test["significant"] else "no",
            test.get("skipped") or test.get("note") or "",
        )
    return table


@app.command()
def monitor(
    task_file: TaskArg,
    since: Annotated[
        str, typer.Option(help="How far back to look: e.g. 7d, 24h, 2w (m, h, d, w).")
    ] = "7d",
    html: Annotated[
        Path | None, typer.Option("--html", help="Write the offline HTML dashboard here.")
    ] = None,
    db: DbOption = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the whole report as JSON here.")
    ] = None,
) -> None:
    """Check the served traffic in the store against the training data: input drift (MMD on
    embeddings, permutation p-value), predicted-label drift (chi-square), falling confidence,
    rising abstentions, new clusters of texts far from every training text, and accuracy per
    label from reviewer decisions. Test levels come from the task's `monitor:` section.

    Exit codes: 0 no drift found; 1 retrain recommended (some test significant); 2 error (empty
    store, another task's store, no run, bad input). Cron, CI or Airflow can act on 1.
    """
    from narrowtune import runs
    from narrowtune.monitor.check import RETRAIN_RECOMMENDED, parse_since
    from narrowtune.monitor.check import monitor as run_monitor
    from narrowtune.monitor.dashboard import dashboard_html

    task = _load(task_file, None)
    window = parse_since(since)
    with _store(task_file, db) as store:
        report = run_monitor(task, store, since=window)
    result = report["window"]
    out.print(
        f"[bold]{task.name}[/] run {report['run_id']}: {result['n']} predictions since "
        f"{report['since'][:16]} UTC; abstention {_pct(result['abstention_rate'])}% "
        f"(validation {_pct(report['reference']['validation_abstention_rate'])}%), "
        f"far from training {_pct(result['far_rate'])}%"
    )
    out.print(_monitor_table(report))
    for cluster in result["clusters"]:
        out.print(
            f"new cluster: {cluster['size']} texts, predicted as {cluster['predicted_as']}, "
            f"e.g. {cluster['examples'][0]!r}",
            markup=False,
        )
    for label, counts in report["reviews"]["per_label"].items():
        out.print(
            f"reviewed {label}: {counts['right']}/{counts['reviewed']} confirmed", markup=False
        )
    if json_out is not None:
        runs.write_json(json_out, report)
    if html is not None:
        runs.write_text(html, dashboard_html(report))
        out.print(f"dashboard: {html}")
    if report["retrain_recommended"]:
        out.print("[bold red]retrain recommended:[/] " + "; ".join(result["reasons"]))
        raise typer.Exit(RETRAIN_RECOMMENDED)
    out.print(f"[green]no drift found[/] at alpha = {report['alpha']}")


@app.command()
def retrain(
    task_file: TaskArg,
    data: Annotated[
        list[Path] | None,
        typer.Option("--data", help="A new labelled file to merge too (repeatable)."),
    ] = None,
    allow_label: Annotated[
        list[str] | None,
        typer.Option("--allow-label", help="Admit feedback with this new label (repeatable)."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Merge reviewer feedback from the store (and --data files) into the training set,
    deduplicated and audited, train a challenger, and promote it only if it beats the serving
    run on the test split plus held-out recent feedback by `monitor.margin` (lower end of the
    95% paired-bootstrap interval) without lowering a `monitor.protected_labels` label's
    recall. The decision is recorded in the model registry.

    Exit codes: 0 challenger promoted; 1 challenger refused (the champion keeps serving);
    2 error (nothing changed).
    """
    from narrowtune.monitor.retrain import retrain as run_retrain

    task = _load(task_file, None)
    with _store(task_file, db) as store, progress_bars() as progress:
        result = run_retrain(
            task, store, data=data or [], allow_labels=allow_label or [], progress=progress
        )
    stats = result["data"]
    out.print(
        f"training set {stats['train_before']} -> {stats['train_after']} rows "
        f"({stats['added']} added, {stats['relabelled']} relabelled from "
        f"{stats['feedback_rows']} decisions; {stats['feedback_holdout']} held out as recent "
        f"feedback; {stats['dropped_in_fixed_splits']} dropped as texts of validation/test)",
        markup=False,
    )
    table = Table("set", "items", "champion", "challenger", "margin (95% interval)")
    comparison = result["comparison"]
    for part in ("test", "feedback", "combined"):
        row = comparison[part]
        if not row["items"]:
            continue
        low, high = row["interval"]
        table.add_row(
            part,
            str(row["items"]),
            _pct(row["champion"]),
            _pct(row["challenger"]),
            f"{100 * row['margin']:+.1f} [{100 * low:+.1f}, {100 * high:+.1f}]",
        )
    out.print(table)
    out.print(result["reason"], markup=False)
    if result["new_labels"]:
        out.print(
            f"new label(s) {', '.join(result['new_labels'])}: add them to `labels:` in "
            f"{task_file} so that eval and the review pages know them",
            markup=False,
        )
    if not result["promoted"]:
        raise typer.Exit(1)


@app.command()
def promote(
    run: Annotated[str, typer.Argument(help="Run directory, or a run id with --task.")],
    task_file: Annotated[
        Path | None, typer.Option("--task", help="Task file (needed for a run id).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Make RUN the run that `serve` (after POST /v1/admin/reload or its polling), `eval` and
    `predict` use for its task, and record it in the model registry."""
    from narrowtune.monitor import registry

    runs_path = _load(task_file, None).runs_path if task_file is not None else None
    run_dir, task_name = registry.resolve_run(run, runs_path)
    store_file = task_file if task_file is not None else None
    if store_file is None and db is None:
        db = _default_db(run_dir.parent)
    with _store(store_file, db) as store:
        event = registry.promote(store, run_dir.parent, task_name, run_dir.name)
    out.print(f"{task_name}: {event['previous_run_id']} -> {event['run_id']} (promoted)")


@app.command()
def rollback(task_file: TaskArg, db: DbOption = None) -> None:
    """Serve the run that served before the last promotion again (recorded in the registry)."""
    from narrowtune.monitor import registry

    task = _load(task_file, None)
    with _store(task_file, db) as store:
        event = registry.rollback(store, task.runs_path, task.name)
    out.print(f"{task.name}: {event['previous_run_id']} -> {event['run_id']} (rolled back)")


def _default_db(runs_path: Path) -> str | None:
    """The store a task's commands use by default: $NARROWTUNE_DB, else its runs folder's."""
    import os

    return None if os.environ.get("NARROWTUNE_DB") else str(runs_path / "narrowtune.db")


def main() -> None:  # pragma: no cover - console entry point
    if shutil.get_terminal_size().columns < 60:
        console.width = 100
    app()
