"""Helpers of the backend tests (fixtures are in conftest.py)."""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from optimizer.document import document_to_data, load_document

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"
STRANDHAUS = DATA / "strandhaus-2027.yaml"
OWNER_ANNA = "anna.berg@strandhaus.example"
OWNER_BEN = "ben.kraus@strandhaus.example"
API = "/api/v1"


@dataclass(frozen=True)
class Keys:
    admin: str
    planner: str
    owner: str
    """Anna, who owns family-booking and family-stay."""
    other_owner: str
    """Ben, who owns couple-weekend."""
    viewer: str

    def headers(self, role: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {getattr(self, role)}", **extra}


def strandhaus() -> dict[str, Any]:
    """The test portfolio as validated data (defaults filled in)."""
    return document_to_data(load_document(STRANDHAUS))


def base(portfolio_id: str = "strandhaus-2027") -> str:
    return f"{API}/portfolios/{portfolio_id}"


def etag_of(client: TestClient, url: str, headers: dict[str, str]) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return response.headers["ETag"]


def export(
    client: TestClient, headers: dict[str, str], portfolio_id: str = "strandhaus-2027"
) -> dict[str, Any]:
    response = client.get(f"{base(portfolio_id)}/document", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def audit_total(client: TestClient, headers: dict[str, str]) -> int:
    response = client.get(f"{base()}/audit", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["total"]


def assert_problem(response: Any, status: int, *, contains: str = "") -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status (and text in its detail)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    assert contains in body["detail"], body
    return body


@contextmanager
def serve(app: FastAPI, *, lifespan: str = "off", log_level: str = "warning") -> Iterator[int]:
    """A real uvicorn serving `app` in a thread on 127.0.0.1; its port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level=log_level, lifespan=lifespan))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()
