"""The backend's commands: `keys`, `seed`, and `serve` (a real HTTP server in a subprocess)."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from typer.testing import CliRunner

from backend.cli import app as cli
from tests.backend.support import API, ROOT, STRANDHAUS

SONNENREISEN = ROOT / "seeds" / "sonnenreisen-2027.yaml"


@pytest.fixture
def run(database_url: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Invoke the command line against the test's database."""
    from backend.config import get_settings

    monkeypatch.setenv("JOURNEYFOLIO_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield lambda *args: CliRunner().invoke(cli, [str(a) for a in args])
    get_settings.cache_clear()


def test_keys_create_prints_the_key_once(run, client, database_url: str) -> None:  # type: ignore[no-untyped-def]
    result = run("keys", "create", "--role", "viewer", "--name", "finance tool")
    assert result.exit_code == 0, result.output
    key = result.stdout.strip()
    assert key.startswith("jf_")
    assert len(key) > 40
    response = client.get(f"{API}/portfolios", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200

    listing = run("keys", "list")
    assert "finance tool" in listing.stdout
    assert key not in listing.stdout  # only a prefix is ever shown again
    from sqlmodel import Session, select

    from backend.db import make_engine
    from backend.models import ApiKey

    engine = make_engine(database_url)
    with Session(engine) as session:
        row = session.exec(select(ApiKey).where(ApiKey.name == "finance tool")).one()
    engine.dispose()
    assert row.key_hash != key
    assert key not in row.key_hash

    assert run("keys", "revoke", row.pk).exit_code == 0
    response = client.get(f"{API}/portfolios", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 401


def test_keys_create_refuses_bad_arguments(run) -> None:  # type: ignore[no-untyped-def]
    result = run("keys", "create", "--role", "owner", "--name", "anna")
    assert result.exit_code == 2
    assert "--owner EMAIL" in result.stderr
    result = run("keys", "create", "--role", "root", "--name", "x")
    assert result.exit_code == 2
    assert "admin, planner, owner, viewer" in result.stderr
    result = run("keys", "create", "--role", "owner", "--name", "anna", "--owner", "a@b.example")
    assert result.exit_code == 0


def test_seed(run, client, planner: dict, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("seed", SONNENREISEN, STRANDHAUS)
    assert result.exit_code == 0, result.output
    assert "imported portfolio 'sonnenreisen-2027'" in result.stdout
    page = client.get(f"{API}/portfolios", headers=planner).json()
    assert [p["id"] for p in page["items"]] == ["sonnenreisen-2027", "strandhaus-2027"]

    again = run("seed", SONNENREISEN)
    assert again.exit_code == 0
    assert "exists, skipped" in again.stdout
    replaced = run("seed", "--replace", SONNENREISEN)
    assert "replaced" in replaced.stdout

    broken = tmp_path / "broken.yaml"
    broken.write_text(STRANDHAUS.read_text().replace("weight: 3", "wieght: 3"))
    result = run("seed", broken)
    assert result.exit_code == 2
    assert "journeys[0].touchpoints[0].wieght: unknown key" in result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(database_url: str) -> Iterator[str]:
    """`journeyfolio serve` in a subprocess on a free port; its base URL."""
    port = _free_port()
    env = {**os.environ, "JOURNEYFOLIO_DATABASE_URL": database_url}
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from backend.cli import main; main()",
            "serve",
            "--port",
            str(port),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx2.get(f"{url}{API}/health", timeout=1).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                _, err = process.communicate(timeout=5)
                pytest.fail(f"journeyfolio serve did not come up: {err.decode()[-2000:]}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_serve_answers_over_http(server: str, run) -> None:  # type: ignore[no-untyped-def]
    """A finance script with a viewer key lists runs and downloads the allocation as XLSX;
    a planner imports, edits and runs through real HTTP."""
    planner_key = run("keys", "create", "--role", "planner", "--name", "leadership").stdout.strip()
    viewer_key = run("keys", "create", "--role", "viewer", "--name", "finance").stdout.strip()
    planner = {"Authorization": f"Bearer {planner_key}"}
    viewer = {"Authorization": f"Bearer {viewer_key}"}
    from optimizer.document import document_to_data, load_document

    with httpx2.Client(base_url=f"{server}{API}", timeout=60) as http:
        data = document_to_data(load_document(SONNENREISEN))
        assert http.post("/portfolios", json=data, headers=planner).status_code == 201
        url = "/portfolios/sonnenreisen-2027/departments/marketing"
        tag = http.get(url, headers=viewer).headers["ETag"]
        changed = http.patch(url, json={"budget": 650000}, headers={**planner, "If-Match": tag})
        assert changed.status_code == 200
        run_ = http.post(
            "/portfolios/sonnenreisen-2027/runs", json={"scenario": "pooled"}, headers=planner
        )
        assert run_.status_code == 201

        other = http.post(
            "/portfolios/sonnenreisen-2027/runs",
            json={"scenario": "departmental"},
            headers=planner,
        )
        compare = http.get(
            "/portfolios/sonnenreisen-2027/compare",
            params={"runs": f"{run_.json()['run_id']},{other.json()['run_id']}"},
            headers=planner,
        )
        assert compare.status_code == 200
        assert compare.json()["runs"][1]["scenario_id"] == "departmental"

        runs = http.get("/portfolios/sonnenreisen-2027/runs", headers=viewer).json()
        assert runs["total"] == 2
        run_id = runs["items"][0]["run_id"]
        xlsx = http.get(f"/runs/{run_id}/allocation.xlsx", headers=viewer)
        assert xlsx.status_code == 200
        assert xlsx.content[:2] == b"PK"  # a zip: an XLSX workbook
        refused = http.post("/portfolios/sonnenreisen-2027/runs", json={}, headers=viewer)
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"


def test_journeyfolio_command_stays_lean_to_import() -> None:
    # The backend's commands import the web stack only when they run.
    code = (
        "import sys, backend.cli; "
        "print([m for m in ('fastapi', 'sqlmodel', 'sqlalchemy', 'uvicorn', 'pulp', 'highspy') "
        "if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.strip()
    assert out == "[]"
