"""The `journeyfolio` command line: the optimizer's commands (validate, optimize...) plus the
backend's: `serve`, `seed`, `keys`, and `up` (the API and the Streamlit app together).

Heavy imports (FastAPI, SQLAlchemy, the app) happen inside the commands, so `journeyfolio
optimize` starts as fast as before.
"""

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from optimizer.cli import EXIT_ERROR, EXIT_INVALID, app, fail

if TYPE_CHECKING:  # SQLAlchemy is imported inside the commands (see above)
    from sqlalchemy import Engine

keys_app = typer.Typer(help="API keys: create (shown once), list, revoke.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

ROLES = ("admin", "planner", "owner", "viewer")


def _engine() -> "Engine":
    """The configured database, migrated to the newest schema."""
    from backend.config import get_settings
    from backend.db import make_engine
    from backend.migrate import upgrade

    settings = get_settings()
    engine = make_engine(settings.database_url, busy_timeout=settings.sqlite_busy_timeout)
    upgrade(engine)
    return engine


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
) -> None:
    """Run the HTTP API (applies the database migrations first)."""
    import uvicorn

    from backend.config import get_settings
    from backend.main import create_app

    _engine().dispose()
    typer.echo(f"journeyfolio API on http://{host}:{port}/api/v1 (docs: /api/v1/docs)", err=True)
    uvicorn.run(create_app(get_settings()), host=host, port=port, log_level="info")


@app.command()
def worker(
    threads: Annotated[
        int | None,
        typer.Option(min=1, max=64, help="Jobs at once (default JOURNEYFOLIO_WORKER_THREADS, 1)."),
    ] = None,
) -> None:
    """Do the jobs of the task queue (JOURNEYFOLIO_QUEUE_URL) until Ctrl-C (waits for the
    running jobs) or SIGTERM (queues them again)."""
    from backend.config import get_settings
    from backend.queue import QueueConfigError
    from backend.worker import run_worker

    settings = get_settings()
    if threads is not None:
        settings = settings.model_copy(update={"worker_threads": threads})
    try:
        run_worker(settings, echo=lambda line: typer.echo(line, err=True))
    except QueueConfigError as error:
        raise fail([str(error)], EXIT_INVALID) from None


@app.command()
def up(
    api_port: Annotated[int, typer.Option(min=1, max=65535, help="Port of the API.")] = 8000,
    ui_port: Annotated[int, typer.Option(min=1, max=65535, help="Port of the app.")] = 8501,
    host: Annotated[str, typer.Option(help="Interface both listen on.")] = "127.0.0.1",
) -> None:
    """Start the API, a job worker and the Streamlit app (an empty database gets the demo
    portfolios); Ctrl-C stops them."""
    from backend import up as launcher
    from backend.config import get_settings

    settings = get_settings()
    try:
        status = launcher.up(
            host=host,
            api_port=api_port,
            ui_port=ui_port,
            database_url=settings.database_url,
            busy_timeout=settings.sqlite_busy_timeout,
            echo=typer.echo,
        )
    except launcher.UpError as error:
        raise fail([str(error)], EXIT_ERROR) from None
    raise typer.Exit(status)


@app.command()
def seed(
    files: Annotated[
        list[Path], typer.Argument(help="Portfolio documents (YAML or JSON).", show_default=False)
    ],
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace a portfolio with the same id.")
    ] = False,
) -> None:
    """Import portfolio documents into the database (an existing id is skipped)."""
    from sqlmodel import Session

    from backend import crud
    from backend.config import get_settings
    from backend.errors import DomainError
    from backend.security import Caller, Role
    from optimizer.document import DocumentError, load_document

    limits = get_settings().limits()
    caller = Caller(key_pk=0, name="journeyfolio seed", role=Role.admin)
    engine = _engine()
    failed = False
    try:
        for file in files:
            try:
                document = load_document(file, limits=limits)
            except DocumentError as error:
                for problem in error.problems:
                    typer.echo(f"error: {file}: {problem}", err=True)
                failed = True
                continue
            with Session(engine, expire_on_commit=False) as session:
                try:
                    existing = crud.get_portfolio(
                        session=session, portfolio_id=document.id, lock=True
                    )
                except DomainError:
                    existing = None
                if existing is not None and not replace:
                    typer.echo(f"{file}: portfolio '{document.id}' exists, skipped (--replace)")
                    continue
                try:
                    if existing is not None:
                        crud.delete_portfolio(session=session, portfolio=existing, caller=caller)
                    crud.import_portfolio(session=session, document=document, caller=caller)
                    session.commit()
                except DomainError as error:
                    session.rollback()
                    typer.echo(f"error: {file}: {error.detail}", err=True)
                    failed = True
                    continue
            verb = "replaced" if existing is not None else "imported"
            typer.echo(
                f"{file}: {verb} portfolio '{document.id}' ({len(document.touchpoints)} "
                f"touchpoints, {len(document.journeys)} journeys, "
                f"{len(document.scenarios)} scenarios)"
            )
    finally:
        engine.dispose()
    if failed:
        raise typer.Exit(EXIT_INVALID)


@keys_app.command("create")
def create_key(
    role: Annotated[str, typer.Option(help="admin, planner, owner or viewer.")],
    name: Annotated[str, typer.Option(help="Who or what uses the key (shown in the audit).")],
    owner: Annotated[
        str | None, typer.Option(help="E-mail of the journey owner (role owner).")
    ] = None,
) -> None:
    """Create an API key and print it once (only its hash is stored)."""
    from sqlmodel import Session

    from backend import security

    if role not in ROLES:
        raise fail([f"--role must be one of {', '.join(ROLES)}, not '{role}'"])
    if role == "owner" and not owner:
        raise fail(["a key with the role 'owner' needs --owner EMAIL (the journeys it may change)"])
    if not name.strip():
        raise fail(["--name must not be empty"])
    engine = _engine()
    try:
        with Session(engine) as session:
            row, key = security.create_key(
                session=session, role=security.Role(role), name=name.strip(), owner=owner
            )
    finally:
        engine.dispose()
    typer.echo(f"created key {row.pk} ({row.role}, {row.name}); it is shown only now:", err=True)
    typer.echo(key)


@keys_app.command("list")
def list_keys() -> None:
    """List the keys (never the keys themselves)."""
    from sqlmodel import Session, col, select

    from backend.models import ApiKey

    engine = _engine()
    try:
        with Session(engine) as session:
            rows = session.exec(select(ApiKey).order_by(col(ApiKey.pk))).all()
            for row in rows:
                state = "revoked" if row.revoked_at else "active"
                owner = f" <{row.owner}>" if row.owner else ""
                typer.echo(f"{row.pk}\t{row.prefix}...\t{row.role}\t{state}\t{row.name}{owner}")
    finally:
        engine.dispose()


@keys_app.command("revoke")
def revoke_key(
    key_id: Annotated[int, typer.Argument(help="The key's number (keys list).")],
) -> None:
    """Revoke a key: requests with it get 401 from now on."""
    from sqlmodel import Session

    from backend.models import ApiKey, utcnow

    engine = _engine()
    try:
        with Session(engine) as session:
            row = session.get(ApiKey, key_id)
            if row is None:
                raise fail([f"no key {key_id}"], EXIT_ERROR)
            row.revoked_at = row.revoked_at or utcnow()
            session.add(row)
            session.commit()
    finally:
        engine.dispose()
    typer.echo(f"revoked key {key_id}")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":  # `python -m backend.cli`: how `journeyfolio up` starts its worker
    main()
