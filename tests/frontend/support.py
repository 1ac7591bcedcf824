"""Helpers of the frontend tests: a live API, `journeyfolio up` in a subprocess."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import uvicorn
from sqlmodel import Session
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from backend import crud
from backend.config import Settings
from backend.db import make_engine
from backend.main import create_app
from backend.migrate import upgrade
from backend.security import Caller, Role, create_key
from optimizer.document import load_document

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
APP = ROOT / "frontend" / "streamlit_app.py"
SONNENREISEN = "sonnenreisen-2027"
PAGE_TIMEOUT = 60
"""Seconds one AppTest run may take (the first one imports pandas, Altair and the app)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seeded_database(path: Path) -> tuple[str, str]:
    """A migrated SQLite database with the demo portfolios; its URL and a planner key."""
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    caller = Caller(key_pk=0, name="tests", role=Role.admin)
    with Session(engine, expire_on_commit=False) as session:
        for file in sorted(SEEDS.glob("*.yaml")):
            crud.import_portfolio(session=session, document=load_document(file), caller=caller)
        session.commit()
        _, key = create_key(session=session, role=Role.planner, name="frontend tests")
    engine.dispose()
    return url, key


@dataclass(frozen=True)
class LiveApi:
    url: str
    """Base URL of /api/v1."""
    key: str
    database_url: str


@contextmanager
def live_api(database_url: str, key: str) -> Iterator[LiveApi]:
    """The API served by uvicorn in a thread of this process, on a free port."""
    port = free_port()
    config = uvicorn.Config(
        create_app(Settings(database_url=database_url)),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        ws="none",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the API did not start")
        time.sleep(0.02)
    try:
        yield LiveApi(f"http://127.0.0.1:{port}/api/v1", key, database_url)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class Up:
    """A running `journeyfolio up`; `lines` collects what it prints."""

    process: subprocess.Popen[str]
    api_url: str
    app_url: str
    lines: list[str]
    reader: threading.Thread

    def children(self) -> list[int]:
        """Pids of the processes `up` started (from /proc)."""
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                pids.append(int(stat.parent.name))
        return pids

    def stop(self, signum: int = signal.SIGINT, timeout: float = 30) -> int:
        """Send `signum` and wait for `up` to exit; its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        finally:
            self.reader.join(timeout=5)
        return self.process.returncode


def start_up(database_url: str, *, timeout: float = 90) -> Up:
    """`journeyfolio up` on free ports against `database_url`, once it says it is ready."""
    api_port, ui_port = free_port(), free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("JOURNEYFOLIO_API_", "PYTEST_"))
    }
    env["JOURNEYFOLIO_DATABASE_URL"] = database_url
    env["PYTHONUNBUFFERED"] = "1"
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from backend.cli import main; main()",
            "up",
            "--api-port",
            str(api_port),
            "--ui-port",
            str(ui_port),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        with process.stdout:
            for line in process.stdout:
                lines.append(line.rstrip("\n"))
                if line.startswith("Journeyfolio is ready"):
                    ready.set()

    reader = threading.Thread(target=read, name="up-output", daemon=True)
    reader.start()
    up = Up(
        process,
        f"http://127.0.0.1:{api_port}/api/v1",
        f"http://127.0.0.1:{ui_port}",
        lines,
        reader,
    )
    deadline = time.monotonic() + timeout
    while not ready.wait(0.1):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            reader.join(timeout=5)
            output = "\n".join(lines)
            raise RuntimeError(f"journeyfolio up did not get ready:\n{output[-3000:]}")
    return up


def button(at: AppTest, label: str) -> Any:
    """The page's button with this label."""
    return next(b for b in at.button if b.label == label)


def open_page(at: AppTest, page: str, **state: object) -> AppTest:
    """Switch to app_pages/<page>.py (with session state set first) and run it."""
    for key, value in state.items():
        at.session_state[key] = value
    at.switch_page(f"app_pages/{page}.py").run()
    return at


def charts(at: AppTest) -> list[dict]:
    """The Vega-Lite specs of the charts on the page (their data is in `chart_rows`)."""
    return [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]


def chart_rows(at: AppTest, index: int) -> Any:
    """The data of the page's chart number `index` (Streamlit sends it as Arrow)."""
    proto = at.get("vega_lite_chart")[index].proto
    (dataset,) = proto.datasets
    return convert_arrow_bytes_to_pandas_df(dataset.data.data)


# =========================================================================== figures on screen
# Money as the app shows it in English (`€8.893M`, `-€217K`), parsed back into numbers.

UNITS = {"": Decimal(1), "K": Decimal(10**3), "M": Decimal(10**6), "B": Decimal(10**9)}
MONEY = r"[+\-]?€\d[\d,]*(?:\.\d+)?[KMB]?"
MONEY_RE = re.compile(
    r"(?P<sign>[+\-]?)€(?P<number>\d[\d,]*(?:\.(?P<fraction>\d+))?)(?P<unit>[KMB]?)"
)
DIFFERENCE = re.compile(rf"(?P<a>{MONEY}) − (?P<b>{MONEY}) = (?P<c>{MONEY})")
PERCENT = re.compile(r"(?P<number>[+\-]?\d+(?:\.(?P<fraction>\d+))?)%")


def amount(text: str) -> Decimal:
    """`-€8.893M` -> Decimal('-8893000')."""
    match = MONEY_RE.fullmatch(text.strip())
    assert match, f"not money: {text!r}"
    number = Decimal(match["number"].replace(",", "")) * UNITS[match["unit"]]
    return -number if match["sign"] == "-" else number


def precision(text: str) -> Decimal:
    """The unit of the last digit shown: `€8.893M` -> 1000."""
    match = MONEY_RE.fullmatch(text.strip())
    assert match, f"not money: {text!r}"
    return UNITS[match["unit"]] * Decimal(1).scaleb(-len(match["fraction"] or ""))


def close(text: str, exact: float) -> bool:
    """Whether a shown figure is `exact` rounded at the precision it shows."""
    return abs(amount(text) - Decimal(str(exact))) <= precision(text) / 2


def near(text: str, exact: float) -> bool:
    """Whether a figure derived from rounded ones (value minus price: the silo value) is
    within one unit of its last digit of `exact`."""
    return abs(amount(text) - Decimal(str(exact))) <= precision(text)
