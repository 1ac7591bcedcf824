"""`journeyfolio up`: the API, a job worker and the Streamlit app as real processes on one
machine.

1. The database (JOURNEYFOLIO_DATABASE_URL, by default var/journeyfolio.db) is migrated; when
   it holds no portfolio yet, the demo portfolios of seeds/ are imported.
2. A planner key is created for the app. It lives only in the app's environment (never on
   disk, never printed) and is revoked when `up` stops.
3. uvicorn serves the API, `journeyfolio worker` does the jobs of the embedded queue (a
   SQLite file next to the database, backend/queue.py) and `streamlit run
   frontend/streamlit_app.py` serves the app (headless, no usage statistics); the app finds
   the API through JOURNEYFOLIO_API_URL and JOURNEYFOLIO_API_KEY, and talks to it over HTTP
   only.
4. Ctrl-C (SIGINT) or SIGTERM stops all three (a job the worker was doing is queued
   again). Each runs in its own process group, which is terminated (then killed, if it
   lingers) as a whole; on Linux they also get SIGTERM if `up` itself dies without a chance
   to clean up.

The backend does not import the frontend: the app is started by its path.
"""

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from sqlmodel import Session, func, select
from tenacity import RetryError, Retrying, retry_if_result, stop_after_delay, wait_fixed

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
APP = ROOT / "frontend" / "streamlit_app.py"
KEY_NAME = "journeyfolio up (the Streamlit app)"
API_PREFIX = "/api/v1"
STOP_GRACE_SECONDS = 10.0


class UpError(Exception):
    """`up` cannot start: the message says why and what to do."""


@dataclass(frozen=True)
class Prepared:
    key: str
    key_pk: int
    imported: list[str]
    """Ids of the demo portfolios imported now (empty when the database had portfolios)."""
    portfolios: int


def prepare_database(database_url: str, *, busy_timeout: float = 30.0) -> Prepared:
    """Migrate; import the demo portfolios into an empty database; create the app's key."""
    from backend import crud, security
    from backend.config import get_settings
    from backend.db import make_engine
    from backend.migrate import upgrade
    from backend.models import Portfolio
    from backend.security import Caller, Role
    from optimizer.document import load_document

    engine = make_engine(database_url, busy_timeout=busy_timeout)
    try:
        upgrade(engine)
        imported: list[str] = []
        with Session(engine, expire_on_commit=False) as session:
            count = session.exec(select(func.count()).select_from(Portfolio)).one()
            if count == 0:
                caller = Caller(key_pk=0, name="journeyfolio up", role=Role.admin)
                limits = get_settings().limits()
                for file in sorted(SEEDS.glob("*.yaml")):
                    document = load_document(file, limits=limits)
                    crud.import_portfolio(session=session, document=document, caller=caller)
                    imported.append(document.id)
                session.commit()
                count = len(imported)
            row, key = security.create_key(session=session, role=Role.planner, name=KEY_NAME)
            assert row.pk is not None
            return Prepared(key=key, key_pk=row.pk, imported=imported, portfolios=count)
    finally:
        engine.dispose()


def revoke_key(database_url: str, key_pk: int) -> None:
    from backend.db import make_engine
    from backend.models import ApiKey, utcnow

    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            row = session.get(ApiKey, key_pk)
            if row is not None and row.revoked_at is None:
                row.revoked_at = utcnow()
                session.add(row)
                session.commit()
    finally:
        engine.dispose()


def check_port_free(host: str, port: int, option: str) -> None:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            raise UpError(
                f"port {port} on {host} is in use (another journeyfolio up?); "
                f"choose another one with {option}"
            ) from None


def api_command(host: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "backend.main:app",
        "--host",
        host,
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]


def worker_command() -> list[str]:
    return [sys.executable, "-m", "backend.cli", "worker"]


def app_command(host: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.headless=true",
        f"--server.address={host}",
        f"--server.port={port}",
        "--browser.gatherUsageStats=false",
        "--server.fileWatcherType=none",
        "--server.runOnSave=false",
        "--client.toolbarMode=minimal",
        "--logger.level=warning",
    ]


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the parent dies (Linux)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


@dataclass
class Server:
    name: str
    command: list[str]
    health_url: str | None
    """None: the process has no HTTP; it is healthy while it runs."""
    env: dict[str, str]
    quiet: bool = False
    """Drop what the server prints on standard output (its errors still show)."""
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.command,
            env=self.env,
            stdout=subprocess.DEVNULL if self.quiet else None,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def healthy(self) -> bool:
        if self.health_url is None:
            return self.alive()
        try:
            with urllib.request.urlopen(self.health_url, timeout=2) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def signal_group(self, signum: int) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signum)
        except ProcessLookupError:
            pass

    def stop(self, deadline: float) -> None:
        """SIGTERM the server's process group; SIGKILL it at the deadline."""
        if self.process is None:
            return
        self.signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            self.signal_group(signal.SIGKILL)
            self.process.wait(timeout=5)
        else:
            # The leader is gone; take anything it left in its group with it.
            self.signal_group(signal.SIGKILL)


def wait_ready(servers: list[Server], timeout: float, stopping: Callable[[], bool]) -> None:
    """Poll every 0.2 s until each server answers its health check (or a stop is asked for);
    UpError when one dies or `timeout` seconds pass."""
    waiting = list(servers)

    def poll() -> bool:
        if stopping():
            return True
        for server in list(waiting):
            if not server.alive():
                raise UpError(f"the {server.name} stopped while starting (see its output above)")
            if server.healthy():
                waiting.remove(server)
        return not waiting

    try:
        # only a False result is retried: UpError ends the wait at once
        Retrying(
            retry=retry_if_result(lambda done: not done),
            stop=stop_after_delay(timeout),
            wait=wait_fixed(0.2),
        )(poll)
    except RetryError:
        names = " and ".join(s.name for s in waiting)
        raise UpError(f"the {names} did not answer within {timeout:g} seconds") from None


def up(
    *,
    host: str,
    api_port: int,
    ui_port: int,
    database_url: str,
    busy_timeout: float = 30.0,
    ready_timeout: float = 90.0,
    echo: Callable[[str], None] = print,
) -> int:
    """Run the servers and the worker until Ctrl-C or SIGTERM; the exit status."""
    if api_port == ui_port:
        raise UpError("--api-port and --ui-port must differ")
    check_port_free(host, api_port, "--api-port")
    check_port_free(host, ui_port, "--ui-port")

    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from optimizer.document import DocumentError

    try:
        prepared = prepare_database(database_url, busy_timeout=busy_timeout)
    except SQLAlchemyError as error:
        shown = make_url(database_url).render_as_string(hide_password=True)
        reason = str(error).splitlines()[0]
        raise UpError(f"the database {shown} is not usable: {reason}") from None
    except DocumentError as error:
        problems = "; ".join(str(p) for p in error.problems)
        raise UpError(f"a demo portfolio in {SEEDS} is not valid: {problems}") from None
    if prepared.imported:
        echo(f"empty database: imported the demo portfolios {', '.join(prepared.imported)}")
    else:
        echo(f"database has {prepared.portfolios} portfolio(s); nothing imported")

    base_env = {k: v for k, v in os.environ.items() if not k.startswith("JOURNEYFOLIO_API_")}
    base_env["JOURNEYFOLIO_DATABASE_URL"] = database_url
    api_url = f"http://{host}:{api_port}{API_PREFIX}"
    app_url = f"http://{host}:{ui_port}"
    servers = [
        Server("API server", api_command(host, api_port), f"{api_url}/health", base_env),
        Server("worker", worker_command(), None, base_env),
        Server(
            "Streamlit app",
            app_command(host, ui_port),
            f"{app_url}/_stcore/health",
            {
                **base_env,
                "JOURNEYFOLIO_API_URL": api_url,
                "JOURNEYFOLIO_API_KEY": prepared.key,
                "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
            },
            # Its banner names its own address; the one to open is printed below.
            quiet=True,
        ),
    ]

    stop_requested = False

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stop_requested
        stop_requested = True

    previous = {
        signum: signal.signal(signum, request_stop) for signum in (signal.SIGINT, signal.SIGTERM)
    }
    status = 0
    try:
        for server in servers:
            server.start()
        wait_ready(servers, ready_timeout, lambda: stop_requested)
        if not stop_requested:
            echo(f"API: {api_url} (docs: {api_url}/docs)")
            echo(f"Journeyfolio is ready: open {app_url} in your browser (Ctrl-C stops it)")
        while not stop_requested:
            dead = [s for s in servers if not s.alive()]
            if dead:
                echo(f"error: the {dead[0].name} stopped unexpectedly; stopping the others")
                status = 1
                break
            time.sleep(0.2)
    except UpError as error:
        echo(f"error: {error}")
        status = 1
    finally:
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for server in servers:
            server.stop(deadline)
        try:
            revoke_key(database_url, prepared.key_pk)
        except SQLAlchemyError as error:
            echo(f"warning: could not revoke the app's key {prepared.key_pk}: {error}")
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    echo("stopped the API server, the worker and the Streamlit app")
    return status
