"""The `journeyfolio` command line: validate and optimize portfolio documents.

Exit statuses (shared/run-result.md): 0 optimal, 3 infeasible (the JSON is still printed),
2 invalid document or arguments (messages on standard error, each naming the path),
1 anything else. Heavy imports (PuLP, HiGHS) happen inside the commands that need them,
so `journeyfolio --help` and `validate` start fast.
"""

import sys
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


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
