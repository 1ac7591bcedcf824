"""The `journeyfolio` command line: validate and optimize portfolio documents.

Exit statuses (shared/run-result.md): 0 optimal, 3 infeasible (the JSON is still printed),
2 invalid document or arguments (messages on standard error, each naming the path),
1 anything else. Heavy imports (PuLP, HiGHS) happen inside the commands that need them,
so `journeyfolio --help` and `validate` start fast.
"""

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from optimizer.document import PortfolioDocument
    from optimizer.problem import PortfolioProblem

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_INVALID = 2
EXIT_INFEASIBLE = 3

app = typer.Typer(
    name="journeyfolio",
    help="Manage customer journeys as a portfolio: validate and optimize portfolio documents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class Mode(StrEnum):
    max_value = "max_value"
    max_net_value = "max_net_value"
    min_spend = "min_spend"


FileArg = Annotated[
    Path,
    typer.Argument(help="Portfolio document (YAML or JSON).", show_default=False),
]


@app.callback()
def root() -> None:
    """Journeyfolio: customer journeys managed as a portfolio of products."""
    quiet_highs()


def quiet_highs() -> None:
    """HiGHS prints a copyright banner on standard output when a process makes its first
    instance, and no option of HiGHS's precedes that. The command line's standard output
    is data (JSON, CSV), so it makes that first instance here, once, at start-up, before
    anything else runs, with standard output pointed at /dev/null."""
    import ctypes
    import os

    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
        highspy.Highs()
        ctypes.CDLL(None).fflush(None)
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def fail(messages: list[str], code: int = EXIT_INVALID) -> typer.Exit:
    for message in messages:
        typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@app.command()
def validate(file: FileArg) -> None:
    """Check a portfolio document; print every problem with its path."""
    from optimizer.document import DocumentError, load_document

    try:
        doc = load_document(file)
    except DocumentError as error:
        raise fail([str(p) for p in error.problems]) from None
    typer.echo(
        f"{file}: valid ({len(doc.touchpoints)} touchpoints, {len(doc.journeys)} journeys, "
        f"{len(doc.scenarios)} scenarios)"
    )


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


ScenarioOpt = Annotated[
    str | None, typer.Option("--scenario", "-s", help="Scenario id from the document.")
]
ModeOpt = Annotated[
    Mode | None, typer.Option(help="Objective: max_value, max_net_value or min_spend.")
]
BudgetOpt = Annotated[
    float | None, typer.Option(min=0, help="Total budget (overrides document and scenario).")
]
PooledOpt = Annotated[
    bool | None,
    typer.Option("--pooled/--departmental", help="Ignore department caps, or apply them."),
]
FormatOpt = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="table for people, json or csv.")
]


def load_problem(
    file: Path, scenario: str | None, mode: Mode | None, budget: float | None, pooled: bool | None
) -> tuple["PortfolioDocument", "PortfolioProblem"]:
    """The document and the resolved scenario, or exit 2 with every problem named."""
    from optimizer.document import DocumentError, load_document
    from optimizer.problem import resolve

    try:
        doc = load_document(file)
        problem = resolve(
            doc, scenario, mode=mode.value if mode else None, budget=budget, pooled=pooled
        )
    except DocumentError as error:
        raise fail([str(p) for p in error.problems]) from None
    return doc, problem


@app.command()
def optimize(
    file: FileArg,
    scenario: ScenarioOpt = None,
    mode: ModeOpt = None,
    budget: BudgetOpt = None,
    pooled: PooledOpt = None,
    output: FormatOpt = OutputFormat.table,
    time_limit: Annotated[
        float | None, typer.Option(min=0.1, help="Seconds the solver may spend.")
    ] = None,
) -> None:
    """Allocate the budget across touchpoints so the portfolio's journey value is maximal."""
    doc, problem = load_problem(file, scenario, mode, budget, pooled)

    from optimizer.result import SolveError
    from optimizer.solve import solve

    try:
        result = solve(problem, time_limit=time_limit)
    except SolveError as error:
        raise fail([str(error)], EXIT_ERROR) from None

    if output is OutputFormat.json:
        typer.echo(result.to_json())
    elif output is OutputFormat.csv:
        from optimizer.sheets import allocation_csv

        typer.echo(allocation_csv(result), nl=False)
    else:
        from optimizer.tables import run_table

        typer.echo(run_table(result, portfolio_name=doc.name))
    raise typer.Exit(EXIT_OK if result.status == "optimal" else EXIT_INFEASIBLE)


@app.command()
def ask(
    file: FileArg,
    journey: Annotated[str, typer.Option(help="The journey whose quality is asked for.")],
    quality: Annotated[
        float, typer.Option(help="Target experience quality, 0..1.", show_default=False)
    ],
    scenario: ScenarioOpt = None,
    pooled: PooledOpt = None,
    output: FormatOpt = OutputFormat.table,
) -> None:
    """What one journey at a target quality costs the portfolio: at the same budget, and in
    extra money that keeps the portfolio's current optimal value."""
    doc, problem = load_problem(file, scenario, None, None, pooled)
    if journey not in {j.id for j in problem.journeys}:
        known = ", ".join(j.id for j in problem.journeys)
        raise fail([f"--journey: unknown journey '{journey}' (known: {known})"])
    if not 0.0 <= quality <= 1.0:
        raise fail([f"--quality: {quality:g} is outside 0..1"])

    from optimizer.ask import ask as price
    from optimizer.result import SolveError

    try:
        result = price(problem, journey, quality)
    except (SolveError, ValueError) as error:
        raise fail([str(error)], EXIT_ERROR) from None
    if output is OutputFormat.json:
        typer.echo(result.model_dump_json(indent=2))
    else:
        from optimizer.tables import ask_table

        typer.echo(ask_table(result))
    raise typer.Exit(EXIT_OK if result.reason is None else EXIT_INFEASIBLE)


@app.command()
def frontier(
    file: FileArg,
    scenario: ScenarioOpt = None,
    mode: ModeOpt = None,
    pooled: PooledOpt = None,
    points: Annotated[int, typer.Option(min=1, max=1000, help="Budget levels.")] = 25,
    low: Annotated[
        float | None,
        typer.Option("--from", min=0, help="Lowest budget (default: half the budget)."),
    ] = None,
    high: Annotated[
        float | None,
        typer.Option("--to", min=0, help="Highest budget (default: twice the budget)."),
    ] = None,
    output: FormatOpt = OutputFormat.table,
) -> None:
    """How value grows with budget: the optimum at each level, and where money stops paying."""
    doc, problem = load_problem(file, scenario, mode, None, pooled)
    from optimizer.objective import objective_for

    if not objective_for(problem.mode).budget_binds:
        raise fail(["mode: a frontier needs max_value or max_net_value, not min_spend"])
    if low is not None and high is not None and high < low:
        raise fail([f"--to: {high:g} is below --from {low:g}"])
    from optimizer.frontier import frontier as compute
    from optimizer.frontier import s_shaped_touchpoints

    if shaped := s_shaped_touchpoints(problem):
        raise fail(
            [
                "touchpoints: a frontier of a portfolio with S-shaped curves is not computed "
                f"yet (S-shaped: {', '.join(shaped)}); run the budgets as scenarios instead"
            ]
        )
    result = compute(problem, points=points, low=low, high=high)
    if output is OutputFormat.json:
        typer.echo(result.model_dump_json(indent=2))
    elif output is OutputFormat.csv:
        from optimizer.tables import frontier_csv

        typer.echo(frontier_csv(result), nl=False)
    else:
        from optimizer.tables import frontier_table

        typer.echo(frontier_table(result, portfolio_name=doc.name))


@app.command()
def robustness(
    file: FileArg,
    scenario: ScenarioOpt = None,
    mode: ModeOpt = None,
    budget: BudgetOpt = None,
    pooled: PooledOpt = None,
    samples: Annotated[int, typer.Option(min=1, max=1_000_000, help="Perturbed samples.")] = 500,
    spread: Annotated[
        float,
        typer.Option(
            min=0, max=0.95, help="Gains of curves without evidence off by up to this fraction."
        ),
    ] = 0.2,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same numbers).")] = 0,
    output: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table for people, or json.")
    ] = OutputFormat.table,
) -> None:
    """How sure are we? Value spread of the optimal, silo and current allocations when the
    response curves are off: drawn from their evidence (a curve's source.uncertainty) where
    they have it, off by up to --spread elsewhere."""
    doc, problem = load_problem(file, scenario, mode, budget, pooled)
    from optimizer.result import SolveError
    from optimizer.robustness import evidence_of
    from optimizer.robustness import robustness as compute
    from optimizer.solve import solve

    try:
        run = solve(problem)
    except SolveError as error:
        raise fail([str(error)], EXIT_ERROR) from None
    if run.status != "optimal":
        raise fail(
            ["the scenario is infeasible: " + "; ".join(c.message for c in run.conflicts)],
            EXIT_INFEASIBLE,
        )
    show = output is OutputFormat.table and samples >= 2000 and sys.stderr.isatty()
    with typer.progressbar(
        length=samples, label="sampling", file=sys.stderr, hidden=not show
    ) as bar:
        try:
            result = compute(
                problem,
                run,
                samples=samples,
                spread=spread,
                seed=seed,
                progress=bar.update,
                evidence=evidence_of(doc),
            )
        except ValueError as error:
            raise fail([str(error)]) from None
    if output is OutputFormat.json:
        typer.echo(result.model_dump_json(indent=2))
    else:
        from optimizer.tables import robustness_table

        typer.echo(robustness_table(result, portfolio_name=doc.name))


class BridgeFormat(StrEnum):
    text = "text"
    json = "json"


@app.command()
def bridge(
    file: FileArg,
    start: Annotated[
        str, typer.Option("--from", help="Scenario id to start from (`base`: no scenario).")
    ],
    finish: Annotated[
        str, typer.Option("--to", help="Scenario id to end at (`base`: no scenario).")
    ],
    output: Annotated[
        BridgeFormat, typer.Option("--format", "-f", help="text for people, or json.")
    ] = BridgeFormat.text,
) -> None:
    """Why two scenarios differ in value: change one group of settings at a time (budget;
    pooling and caps; launched ideas; priorities; floors; locks and excludes; mode),
    re-solving each time."""
    from optimizer.bridge import End
    from optimizer.bridge import bridge as compute
    from optimizer.document import DocumentError, load_document
    from optimizer.problem import resolve
    from optimizer.result import SolveError
    from optimizer.solve import solve

    try:
        doc = load_document(file)
    except DocumentError as error:
        raise fail([str(p) for p in error.problems]) from None
    ends = []
    for option, scenario in (("--from", start), ("--to", finish)):
        scenario_id = None if scenario == "base" else scenario
        try:
            problem = resolve(doc, scenario_id)
        except DocumentError:
            known = ", ".join(["base", *(s.id for s in doc.scenarios)])
            raise fail([f"{option}: unknown scenario '{scenario}' (known: {known})"]) from None
        ends.append(End(doc, problem, scenario))
    try:
        result = compute(ends[0], ends[1], solve=solve)
    except SolveError as error:
        raise fail([str(error)], EXIT_ERROR) from None
    if output is BridgeFormat.json:
        typer.echo(result.to_json())
    else:
        from optimizer.bridge import bridge_text

        typer.echo(bridge_text(result, portfolio_name=doc.name))
    raise typer.Exit(EXIT_OK if result.status == "optimal" else EXIT_INFEASIBLE)


@app.command()
def generate(
    out: Annotated[Path, typer.Argument(help="File to write (.yaml, .yml or .json).")],
    touchpoints: Annotated[int, typer.Option(min=1, help="Number of touchpoints.")] = 500,
    journeys: Annotated[int, typer.Option(min=1, help="Number of journeys.")] = 200,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same file).")] = 1,
) -> None:
    """Write a synthetic portfolio of any size (valid, realistic shapes)."""
    from optimizer.generate import generate_document, write_document

    try:
        data = generate_document(touchpoints, journeys, seed)
        write_document(data, out)
    except (ValueError, OSError) as error:
        raise fail([str(error)]) from None
    typer.echo(f"{out}: {touchpoints} touchpoints, {journeys} journeys (seed {seed})")


class FitFormOpt(StrEnum):
    auto = "auto"
    saturating = "saturating"
    hill = "hill"
    exponential = "exponential"
    logistic = "logistic"


class FitFormat(StrEnum):
    text = "text"
    json = "json"


@app.command()
def fit(
    observations: Annotated[
        Path,
        typer.Argument(help="CSV with the columns period,spend,outcome.", show_default=False),
    ],
    form: Annotated[
        FitFormOpt,
        typer.Option(help="Curve form, or auto: every concave form, the smallest AICc wins."),
    ] = FitFormOpt.auto,
    outcome_at_0: Annotated[
        float | None, typer.Option(help="Outcome value that means quality 0.")
    ] = None,
    outcome_at_1: Annotated[
        float | None, typer.Option(help="Outcome value that means quality 1.")
    ] = None,
    s_shaped: Annotated[
        bool,
        typer.Option(help="Let a hill curve's shape exceed 1 (an S-shaped curve: a MIP)."),
    ] = False,
    output: Annotated[
        FitFormat, typer.Option("--format", "-f", help="text for people, or json.")
    ] = FitFormat.text,
) -> None:
    """Fit a response curve to observed spend and outcomes (least squares, AICc)."""
    import json

    from optimizer.fit import FitError, read_csv
    from optimizer.fit import fit as fit_curve

    try:
        data = read_csv(observations, outcome_at_0=outcome_at_0, outcome_at_1=outcome_at_1)
        result = fit_curve(data, form.value, s_shaped=s_shaped)
    except FitError as error:
        raise fail(str(error).splitlines()) from None
    if output is FitFormat.json:
        typer.echo(json.dumps(result.to_data(), indent=2))
    else:
        from optimizer.fit import fit_text

        typer.echo(fit_text(result))


class ModelSource(StrEnum):
    robyn = "robyn"
    meridian = "meridian"
    pymc_marketing = "pymc-marketing"


@app.command("import-curves")
def import_curves(
    file: Annotated[
        Path,
        typer.Argument(
            help="Robyn pareto_hyperparameters.csv, Meridian response curves (CSV) or a "
            "PyMC-Marketing az.summary (CSV).",
            show_default=False,
        ),
    ],
    source: Annotated[
        ModelSource, typer.Option("--from", help="The marketing-mix model the file comes from.")
    ],
    portfolio: Annotated[
        Path, typer.Option(help="Portfolio document whose touchpoints get the curves.")
    ],
    mapping: Annotated[
        Path | None,
        typer.Option(
            help="CSV channel,touchpoint[,spend_min,spend_max,spend_scale,channel_scale] "
            "(default: a channel's name is its touchpoint's id)."
        ),
    ] = None,
    robyn_version: Annotated[
        str,
        typer.Option(help="Robyn version that made the file (the inflexion changed in 3.12)."),
    ] = "3.12",
    solution: Annotated[
        str | None, typer.Option(help="Robyn: the solID of the model to import.")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write here instead of over the portfolio document."),
    ] = None,
) -> None:
    """Import response curves from a marketing-mix model into a portfolio document (every
    channel must map to a touchpoint; nothing is written otherwise)."""
    from optimizer.document import DocumentError
    from optimizer.mmm import ImportProblems, write_document
    from optimizer.mmm import import_curves as compute

    try:
        result = compute(
            source.value,
            file,
            portfolio,
            mapping=mapping,
            robyn_version=robyn_version,
            solution=solution,
        )
    except DocumentError as error:
        raise fail([str(p) for p in error.problems]) from None
    except ImportProblems as error:
        raise fail(error.problems) from None
    target = out or portfolio
    try:
        write_document(result.data, target)
    except OSError as error:
        raise fail([f"cannot write {target}: {error}"], EXIT_ERROR) from None
    for item in result.imported:
        form = next(k for k in item.curve if k != "source")
        typer.echo(f"{item.channel} -> {item.touchpoint}: {form} ({item.note})")
    typer.echo(f"{target}: {len(result.imported)} curves from {source.value}")


TablesPath = Annotated[
    Path,
    typer.Argument(
        help="Spreadsheet tables: an .xlsx workbook or a .zip of CSV files.", show_default=False
    ),
]


def _tables_kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".zip"):
        raise fail([f"{path}: give a file ending in .xlsx (a workbook) or .zip (CSV files)"])
    return suffix[1:]


@app.command("export-tables")
def export_tables(file: FileArg, out: TablesPath) -> None:
    """Write a portfolio document's tables to an XLSX workbook (one sheet per table) or a ZIP
    of CSV files (one file per table)."""
    from optimizer.document import DocumentError, load_document
    from optimizer.workbook import write_tables

    kind = _tables_kind(out)
    try:
        doc = load_document(file)
    except DocumentError as error:
        raise fail([str(p) for p in error.problems]) from None
    out.write_bytes(write_tables(doc, "xlsx" if kind == "xlsx" else "zip"))
    typer.echo(
        f"{out}: {len(doc.touchpoints)} touchpoints, {len(doc.journeys)} journeys, "
        f"{sum(len(j.touchpoints) for j in doc.journeys)} links"
    )


@app.command("import-tables")
def import_tables(
    source: TablesPath,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the document here (.yaml, .yml or .json)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show what would change against --against.")
    ] = False,
    against: Annotated[
        Path | None,
        typer.Option(help="The portfolio document the tables would replace (for --dry-run)."),
    ] = None,
) -> None:
    """Read spreadsheet tables as a portfolio document: every bad cell is named (sheet, row,
    column) and nothing is written unless the whole workbook is valid."""
    from optimizer.document import DocumentError, document_to_data, dump_yaml, load_document
    from optimizer.workbook import WorkbookError, diff_documents, diff_text, read_document

    _tables_kind(source)
    if dry_run and against is None:
        raise fail(["--dry-run needs --against DOC: the document the tables would replace"])
    try:
        content = source.read_bytes()
    except OSError as error:
        raise fail([f"cannot read {source}: {error}"]) from None
    try:
        doc = read_document(content)
    except WorkbookError as error:
        raise fail([str(p) for p in error.problems]) from None
    if against is not None:
        try:
            stored = load_document(against)
        except DocumentError as error:
            raise fail([str(p) for p in error.problems]) from None
        typer.echo(diff_text(diff_documents(stored, doc)), nl=False)
        if dry_run:
            return
    if output is None:
        if against is None:
            typer.echo(dump_yaml(doc), nl=False)
        return
    import json

    if output.suffix.lower() == ".json":
        output.write_text(json.dumps(document_to_data(doc), ensure_ascii=False), encoding="utf-8")
    else:
        output.write_text(dump_yaml(doc), encoding="utf-8")
    typer.echo(f"{output}: {len(doc.touchpoints)} touchpoints, {len(doc.journeys)} journeys")


@app.command()
def template(out: TablesPath) -> None:
    """Write an empty workbook (or ZIP of CSV files) to fill in: every table with its
    header, a README sheet on the columns, and a portfolio row to change."""
    from optimizer.workbook import template_tables, to_csv_zip, to_xlsx

    tables = template_tables()
    kind = _tables_kind(out)
    out.write_bytes(to_xlsx(tables) if kind == "xlsx" else to_csv_zip(tables))
    typer.echo(f"{out}: template")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as error:  # the last line of defence: a message, not a traceback
        typer.echo(f"error: {type(error).__name__}: {error}", err=True)
        sys.exit(EXIT_ERROR)
