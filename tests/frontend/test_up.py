"""`journeyfolio up`: two real servers and a job worker, demo data on an empty database, a key
for the app that lives as long as `up`, and Ctrl-C (or SIGTERM) stops all without leaving
orphans."""

import signal
import socket
from pathlib import Path

import httpx2
import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from backend.cli import app as cli
from backend.db import make_engine
from backend.models import ApiKey, Portfolio
from backend.up import KEY_NAME, UpError, wait_ready
from tests.frontend.support import start_up


def _keys(database_url: str) -> list[tuple[str, str, bool]]:
    engine = make_engine(database_url)
    with Session(engine) as session:
        rows = session.exec(select(ApiKey).order_by(ApiKey.pk)).all()
        keys = [(row.name, row.role, row.revoked_at is not None) for row in rows]
    engine.dispose()
    return keys


def _portfolios(database_url: str) -> list[str]:
    engine = make_engine(database_url)
    with Session(engine) as session:
        ids = list(session.exec(select(Portfolio.id).order_by(Portfolio.id)).all())
    engine.dispose()
    return ids


def _a_job_gets_done(database_url: str, api_url: str) -> None:
    """The worker `up` started takes a job off the embedded queue and does it."""
    import time

    from backend.security import Role, create_key

    engine = make_engine(database_url)
    with Session(engine) as session:
        row, key = create_key(session=session, role=Role.planner, name="test")
    headers = {"Authorization": f"Bearer {key}"}
    response = httpx2.post(
        f"{api_url}/portfolios/sonnenreisen-2027/jobs",
        json={"kind": "frontier", "points": 5},
        headers=headers,
        timeout=30,
    )
    assert response.status_code == 202, response.text
    deadline = time.monotonic() + 60
    while (
        job := httpx2.get(
            f"{api_url}{response.headers['Location'].removeprefix('/api/v1')}",
            headers=headers,
            timeout=10,
        ).json()
    )["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    assert job["status"] == "done", job
    assert len(job["result"]["points"]) == 5
    with Session(engine) as session:  # the test's key goes: the keys are checked below
        session.delete(session.get(ApiKey, row.pk))
        session.commit()
    engine.dispose()


def _gone(pid: int) -> bool:
    return not Path(f"/proc/{pid}").exists()


@pytest.mark.slow
def test_up_serves_demo_data_and_stops_both_servers(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'var' / 'journeyfolio.db'}"
    first = start_up(url)
    try:
        assert (
            "empty database: imported the demo portfolios finanzhaus-2027, maschinenbau-2027, "
            "sonnenreisen-2027" in first.lines
        )
        assert f"Journeyfolio is ready: open {first.app_url} in your browser (Ctrl-C stops it)" in (
            first.lines
        )
        assert httpx2.get(f"{first.api_url}/health", timeout=5).json()["status"] == "ok"
        assert httpx2.get(f"{first.app_url}/_stcore/health", timeout=5).text == "ok"
        servers = first.children()
        assert len(servers) == 3  # the API, the worker, the app
        assert _portfolios(url) == ["finanzhaus-2027", "maschinenbau-2027", "sonnenreisen-2027"]
        assert _keys(url) == [(KEY_NAME, "planner", False)]
        # The key is the app's alone: never printed.
        assert not any("jf_" in line for line in first.lines)
        _a_job_gets_done(url, first.api_url)
    finally:
        status = first.stop(signal.SIGINT)
    assert status == 0
    assert first.lines[-1] == "stopped the API server, the worker and the Streamlit app"
    assert all(_gone(pid) for pid in servers)
    assert _keys(url) == [(KEY_NAME, "planner", True)]

    again = start_up(url)
    try:
        assert "database has 3 portfolio(s); nothing imported" in again.lines
        servers = again.children()
    finally:
        status = again.stop(signal.SIGTERM)
    assert status == 0
    assert all(_gone(pid) for pid in servers)
    assert [revoked for *_, revoked in _keys(url)] == [True, True]


def test_up_refuses_a_busy_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from backend.config import get_settings

    monkeypatch.setenv("JOURNEYFOLIO_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    get_settings.cache_clear()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli, ["up", "--api-port", str(port), "--ui-port", "1"])
    get_settings.cache_clear()
    assert result.exit_code == 1
    assert f"port {port} on 127.0.0.1 is in use" in result.stderr
    assert "--api-port" in result.stderr
    assert not (tmp_path / "db.sqlite").exists()  # nothing was started or created


def test_up_says_when_the_database_is_not_usable(monkeypatch: pytest.MonkeyPatch) -> None:
    from backend.config import get_settings
    from tests.frontend.support import free_port

    port = free_port()  # nothing listens there
    monkeypatch.setenv(
        "JOURNEYFOLIO_DATABASE_URL", f"postgresql+psycopg://app:secret@127.0.0.1:{port}/none"
    )
    get_settings.cache_clear()
    result = CliRunner().invoke(
        cli, ["up", "--api-port", str(free_port()), "--ui-port", str(free_port())]
    )
    get_settings.cache_clear()
    assert result.exit_code == 1
    assert f"the database postgresql+psycopg://app:***@127.0.0.1:{port}/none is not usable" in (
        result.stderr
    )
    assert "secret" not in result.output
    assert "Traceback" not in result.output


class _FakeServer:
    """Stands in for backend.up.Server in wait_ready: healthy after `ready_after` polls."""

    def __init__(self, name: str, ready_after: int, *, dies: bool = False) -> None:
        self.name, self.ready_after, self.dies, self.polls = name, ready_after, dies, 0

    def alive(self) -> bool:
        return not self.dies

    def healthy(self) -> bool:
        self.polls += 1
        return self.polls > self.ready_after


def test_wait_ready_polls_until_every_server_answers() -> None:
    api, ui = _FakeServer("API", 0), _FakeServer("app", 2)
    wait_ready([api, ui], timeout=5, stopping=lambda: False)
    assert (api.polls, ui.polls) == (1, 3)


def test_wait_ready_names_what_did_not_answer_or_died() -> None:
    slow = _FakeServer("app", 10**6)
    with pytest.raises(UpError, match="the app did not answer within 0.3 seconds"):
        wait_ready([slow], timeout=0.3, stopping=lambda: False)
    dead = _FakeServer("API", 0, dies=True)
    with pytest.raises(UpError, match="the API stopped while starting"):
        wait_ready([dead], timeout=5, stopping=lambda: False)
    wait_ready([slow], timeout=5, stopping=lambda: True)
