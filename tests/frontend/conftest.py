"""Fixtures of the frontend tests.

One live API per pytest worker (uvicorn in a thread, real HTTP) on a fresh SQLite database
with the demo portfolios; the app under AppTest talks to it through JOURNEYFOLIO_API_URL and
JOURNEYFOLIO_API_KEY, exactly as under `journeyfolio up`.
"""

import os
from collections.abc import Iterator
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from frontend import common
from frontend.client import API_KEY_ENV, API_URL_ENV, Api
from optimizer.document import document_to_data, load_document
from optimizer.problem import resolve
from optimizer.solve import solve
from tests.frontend.support import (
    APP,
    PAGE_TIMEOUT,
    SEEDS,
    LiveApi,
    live_api,
    seeded_database,
)


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    url, key = seeded_database(tmp_path_factory.mktemp("frontend") / "journeyfolio.db")
    saved = {name: os.environ.get(name) for name in (API_URL_ENV, API_KEY_ENV)}
    with live_api(url, key) as api:
        os.environ[API_URL_ENV] = api.url
        os.environ[API_KEY_ENV] = api.key
        try:
            yield api
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            common.api.clear()


@pytest.fixture
def api(live: LiveApi) -> Iterator[Api]:
    """A client of the live API, as the app has it (for arranging and checking)."""
    client = Api(live.url, live.key)
    yield client
    client.close()


@pytest.fixture
def app(live: LiveApi) -> AppTest:
    """The app's entrypoint, run once (it shows the Portfolio page)."""
    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=PAGE_TIMEOUT)
    at.run()
    assert not at.exception
    return at


@pytest.fixture(scope="session")
def portfolio() -> dict[str, Any]:
    """Sonnenreisen as the API lists it, plus its run as planned and pooled +10 %."""
    document = load_document(SEEDS / "sonnenreisen-2027.yaml")
    data = document_to_data(document)
    data["run"] = solve(resolve(document)).model_dump(mode="json")
    data["pooled_run"] = solve(resolve(document, "pooled-plus-10")).model_dump(mode="json")
    data["infeasible_run"] = solve(resolve(document, "higher-floors-departmental")).model_dump(
        mode="json"
    )
    return data
