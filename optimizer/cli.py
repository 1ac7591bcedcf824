"""The `journeyfolio` command line: validate and optimize portfolio documents.

Exit statuses (shared/run-result.md): 0 optimal, 3 infeasible (the JSON is still printed),
2 invalid document or arguments (messages on standard error, each naming the path),
1 anything else. Heavy imports (PuLP, HiGHS) happen inside the commands that need them,
so `journeyfolio --help` and `validate` start fast.
"""

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

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


@app.command()
def optimize(
    file: FileArg,
    scenario: Annotated[
        str | None, typer.Option("--scenario", "-s", help="Scenario id from the document.")
    ] = None,
    mode: Annotated[
        Mode | None, typer.Option(help="Objective: max_value, max_net_value or min_spend.")
    ] = None,
    budget: Annotated[
        float | None, typer.Option(min=0, help="Total budget (overrides document and scenario).")
    ] = None,
    pooled: Annotated[
        bool | None,
        typer.Option("--pooled/--departmental", help="Ignore department caps, or apply them."),
    ] = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table for people, json or csv.")
    ] = OutputFormat.table,
    time_limit: Annotated[
        float | None, typer.Option(min=0.1, help="Seconds the solver may spend.")
    ] = None,
) -> None:
    """Allocate the budget across touchpoints so the portfolio's journey value is maximal."""
    from optimizer.document import DocumentError, load_document
    from optimizer.problem import resolve

    try:
        doc = load_document(file)
        problem = resolve(
            doc,
            scenario,
            mode=mode.value if mode else None,
            budget=budget,
            pooled=pooled,
        )
    except DocumentError as error:
        raise fail([str(p) for p in error.problems]) from None

    from optimizer.solve import SolveError, solve

    try:
        result = solve(problem, time_limit=time_limit)
    except SolveError as error:
        raise fail([str(error)], EXIT_ERROR) from None

    if output is OutputFormat.json:
        typer.echo(result.to_json())
    elif output is OutputFormat.csv:
        from optimizer.tables import allocation_csv

        typer.echo(allocation_csv(result), nl=False)
    else:
        from optimizer.tables import run_table

        typer.echo(run_table(result, portfolio_name=doc.name))
    raise typer.Exit(EXIT_OK if result.status == "optimal" else EXIT_INFEASIBLE)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as error:  # the last line of defence: a message, not a traceback
        typer.echo(f"error: {type(error).__name__}: {error}", err=True)
        sys.exit(EXIT_ERROR)
