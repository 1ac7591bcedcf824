"""Many clients at once, through a real HTTP server (uvicorn in a thread, real threads as
clients): If-Match lets exactly one writer win each round, the others get 412, and the final
state holds every accepted change and nothing else. Writers to different entities of one
portfolio all succeed and none overwrites another's change."""

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI

from tests.backend.support import API, Keys, base, serve

CLIENTS = 8
ROUNDS = 12


@pytest.fixture
def server(app: FastAPI, portfolio: str) -> Iterator[str]:
    with serve(app) as port:
        yield f"http://127.0.0.1:{port}{API}"


def test_one_writer_wins_each_round(server: str, keys: Keys) -> None:
    url = f"{base()}/journeys/family-booking".removeprefix(API)
    headers = keys.headers("owner")  # Anna owns the journey
    barrier = threading.Barrier(CLIENTS)
    outcomes: list[list[tuple[int, int]]] = [[] for _ in range(ROUNDS)]
    lock = threading.Lock()

    def client(number: int) -> None:
        with httpx2.Client(base_url=server, headers=headers, timeout=60) as http:
            for round_ in range(ROUNDS):
                response = http.get(url)
                assert response.status_code == 200
                journey, tag = response.json(), response.headers["ETag"]
                kpis = journey["kpis"]
                kpis[0]["actuals"].append({"period": f"r{round_:02}-c{number}", "value": number})
                barrier.wait()  # everyone has read the same version
                answer = http.patch(url, json={"kpis": kpis}, headers={"If-Match": tag})
                with lock:
                    outcomes[round_].append((number, answer.status_code))
                if answer.status_code == 412:
                    assert answer.headers["content-type"] == "application/problem+json"
                barrier.wait()  # the round is over before anyone reads again

    with ThreadPoolExecutor(CLIENTS) as pool:
        for future in [pool.submit(client, n) for n in range(CLIENTS)]:
            future.result()

    winners = []
    for round_, results in enumerate(outcomes):
        statuses = sorted(status for _, status in results)
        assert statuses == [200] + [412] * (CLIENTS - 1), (round_, statuses)
        winners.append(next(n for n, status in results if status == 200))

    with httpx2.Client(base_url=server, headers=headers) as http:
        final = http.get(url).json()
        log = http.get(f"{base().removeprefix(API)}/audit?entity=journey&limit=100").json()
    periods = [a["period"] for a in final["kpis"][0]["actuals"]]
    assert periods == ["2026-Q3", "2026-Q4"] + [f"r{r:02}-c{w}" for r, w in enumerate(winners)]
    assert final["version"] == 1 + ROUNDS
    assert log["total"] == ROUNDS
    print(
        f"\nconcurrency: {CLIENTS} clients x {ROUNDS} rounds = {CLIENTS * ROUNDS} PATCHes: "
        f"{ROUNDS} accepted (one a round), {(CLIENTS - 1) * ROUNDS} refused with 412, "
        f"{len(periods) - 2} of {ROUNDS} accepted changes in the final state"
    )


def test_writers_to_different_entities_all_succeed(server: str, keys: Keys) -> None:
    headers = keys.headers("planner")
    barrier = threading.Barrier(CLIENTS)
    statuses: list[Any] = []

    def client(number: int) -> None:
        department = {"id": f"dept-{number}", "name": f"Department {number}", "budget": number}
        with httpx2.Client(base_url=server, headers=headers, timeout=60) as http:
            barrier.wait()
            created = http.post(f"{base().removeprefix(API)}/departments", json=department)
            url = f"{base().removeprefix(API)}/departments/dept-{number}"
            changed = http.patch(
                url,
                json={"budget": (number + 1) * 1000},
                headers={"If-Match": created.headers["ETag"]},
            )
            statuses.append((created.status_code, changed.status_code))

    with ThreadPoolExecutor(CLIENTS) as pool:
        for future in [pool.submit(client, n) for n in range(CLIENTS)]:
            future.result()

    assert statuses == [(201, 200)] * CLIENTS
    with httpx2.Client(base_url=server, headers=headers) as http:
        document = http.get(f"{base().removeprefix(API)}/document").json()
        portfolio = http.get(base().removeprefix(API)).json()
    budgets = {d["id"]: d.get("budget") for d in document["departments"]}
    for number in range(CLIENTS):
        assert budgets[f"dept-{number}"] == (number + 1) * 1000
    assert len(document["departments"]) == 3 + CLIENTS
    assert portfolio["version"] == 1 + 2 * CLIENTS


def test_retries_racing_each_other_create_once(server: str, keys: Keys) -> None:
    """A finance tool that fires the same request several times at once (same
    Idempotency-Key) gets one run, and the same answer every time."""
    headers = {**keys.headers("planner"), "Idempotency-Key": "budget-2027-final"}
    barrier = threading.Barrier(CLIENTS)
    url = f"{base().removeprefix(API)}/runs"

    def client(_: int) -> tuple[int, str]:
        with httpx2.Client(base_url=server, headers=headers, timeout=60) as http:
            barrier.wait()
            response = http.post(url, json={"scenario": "pooled-plus-10"})
            return response.status_code, response.json()["run_id"]

    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(client, range(CLIENTS)))

    assert {status for status, _ in answers} == {201}
    assert len({run_id for _, run_id in answers}) == 1
    with httpx2.Client(base_url=server, headers=headers) as http:
        assert http.get(url).json()["total"] == 1


def test_the_same_scenario_racing_itself_is_stored_once(server: str, keys: Keys) -> None:
    """Without an Idempotency-Key, clients running one unchanged scenario at once still get
    one run: the first stored answers 201, every other gets it back with 200."""
    headers = keys.headers("planner")
    barrier = threading.Barrier(CLIENTS)
    url = f"{base().removeprefix(API)}/runs"

    def client(_: int) -> tuple[int, str]:
        with httpx2.Client(base_url=server, headers=headers, timeout=60) as http:
            barrier.wait()
            response = http.post(url, json={"scenario": "floors-cost"})
            return response.status_code, response.json()["run_id"]

    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(client, range(CLIENTS)))

    assert sorted(status for status, _ in answers) == [200] * (CLIENTS - 1) + [201]
    assert len({run_id for _, run_id in answers}) == 1
    with httpx2.Client(base_url=server, headers=headers) as http:
        runs = http.get(url).json()
    assert runs["total"] == 1
    assert runs["items"][0]["number"] == 1
