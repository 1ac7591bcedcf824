"""What every page shares: the API client, cached reads, the portfolio picker, errors.

Reads are cached by what makes them stale: entity lists by the portfolio's `version` (every
change to a portfolio bumps it), runs by their id (a run never changes). Expected failures
end the page with a message (`st.error` then `st.stop`), never a traceback.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, NoReturn

import streamlit as st

from frontend import formats
from frontend.client import Api, ApiError

WHAT_IF_PERCENT = 10.0
"""The portfolio page's what-if: pooled, then the budget this many % bigger."""


@st.cache_resource(show_spinner=False, on_release=Api.close)
def api() -> Api:
    return Api.from_env()


def fail(error: ApiError) -> NoReturn:
    st.error(error.message, icon=":material/error:")
    st.stop()


@contextmanager
def api_errors() -> Iterator[None]:
    """Show an API failure as a message and end the page there."""
    try:
        yield
    except ApiError as error:
        fail(error)


# =========================================================================== cached reads


@st.cache_data(ttl=10, show_spinner=False)
def portfolios() -> list[dict[str, Any]]:
    return api().portfolios()


@st.cache_data(show_spinner=False, max_entries=256)
def items(portfolio_id: str, version: int, kind: str) -> list[dict[str, Any]]:
    """A portfolio's departments, personas, touchpoints, journeys or scenarios, as of
    `version` (the argument is the cache key: a new version is a new read)."""
    return api().items(portfolio_id, kind)


@st.cache_data(show_spinner=False, max_entries=256)
def run(run_id: str) -> dict[str, Any]:
    return api().run(run_id)


@st.cache_data(show_spinner=False, max_entries=1024)
def run_overrides(run_id: str) -> dict[str, Any] | None:
    overrides: dict[str, Any] | None = api().run_input(run_id)["overrides"]
    return overrides


@st.cache_data(ttl=30, show_spinner=False, max_entries=64)
def runs(portfolio_id: str, scenario: str | None = None) -> list[dict[str, Any]]:
    """The newest 100 runs (cleared whenever this app creates one)."""
    return api().runs(portfolio_id, scenario=scenario)


@st.cache_data(show_spinner=False, max_entries=128)
def export(run_id: str, kind: str) -> bytes:
    return api().export(run_id, kind)


@st.cache_data(show_spinner=False, max_entries=64)
def ask(portfolio_id: str, version: int, journey: str, quality: float) -> dict[str, Any]:
    """The price of a journey's ask on the portfolio at this version."""
    return api().ask(portfolio_id, journey, quality)


@st.cache_data(ttl=60, show_spinner=False)
def me() -> dict[str, Any]:
    """The app's key: its role, and whether it may accept curves."""
    return api().me()


@st.cache_data(show_spinner=False, max_entries=128)
def fit(portfolio_id: str, version: int, touchpoint_id: str, form: str) -> dict[str, Any]:
    """A curve fitted to the touchpoint's observations, as of the portfolio's version."""
    return api().fit(portfolio_id, touchpoint_id, form)


@st.cache_data(show_spinner=False, max_entries=128)
def plan_run(portfolio_id: str, version: int) -> dict[str, Any]:
    """The optimum of the portfolio as planned, at this version. The Idempotency-Key makes
    every page and session share one run per version instead of solving again."""
    return api().create_run(portfolio_id, idempotency_key=f"ui-plan-{portfolio_id}-v{version}")


@st.cache_data(show_spinner=False, max_entries=128)
def pooled_bridge(portfolio_id: str, version: int) -> dict[str, Any]:
    """Department budgets -> pooled -> pooled and bigger, for the portfolio at this version
    (the argument is the cache key: one API call, three solves, per version)."""
    return api().pooled_bridge(portfolio_id, WHAT_IF_PERCENT)


@st.cache_data(show_spinner=False, max_entries=256)
def bridge(portfolio_id: str, start: str, finish: str) -> dict[str, Any]:
    """The value bridge between two runs (runs never change: cached for good)."""
    return api().bridge(portfolio_id, start, finish)


def created_run() -> None:
    """Forget the cached lists of runs (after this app created one)."""
    runs.clear()


def load(portfolio: dict[str, Any], *kinds: str) -> list[list[dict[str, Any]]]:
    """The entity lists of the portfolio, as of its version."""
    with api_errors():
        return [items(portfolio["id"], portfolio["version"], kind) for kind in kinds]


def as_planned(portfolio: dict[str, Any]) -> dict[str, Any]:
    with st.spinner("Optimizing the portfolio as planned..."), api_errors():
        return plan_run(portfolio["id"], portfolio["version"])


# =========================================================================== picker


def pick_portfolio() -> dict[str, Any]:
    """The sidebar's portfolio choice (kept across pages), read fresh for its version."""
    with api_errors():
        listing = portfolios()
    if not listing:
        st.info(
            "There is no portfolio yet. Import one with `journeyfolio seed FILE.yaml` "
            "(`journeyfolio up` imports the demo portfolios into an empty database)."
        )
        st.stop()
    ids = [p["id"] for p in listing]
    title = {
        p["id"]: f"{p['name']} ({p['period']})" if p.get("period") else p["name"] for p in listing
    }
    wanted = st.session_state.get("portfolio") or st.query_params.get("portfolio")
    chosen: str = wanted if isinstance(wanted, str) and wanted in ids else ids[0]
    # The widget's own key is dropped when another page does not draw it: keep the choice
    # under a key of our own and give it back to the widget on every page.
    st.session_state["portfolio"] = chosen
    st.session_state["_portfolio_picker"] = chosen

    def keep() -> None:
        st.session_state["portfolio"] = st.session_state["_portfolio_picker"]

    st.sidebar.selectbox(
        "Portfolio", ids, key="_portfolio_picker", format_func=title.__getitem__, on_change=keep
    )
    st.query_params["portfolio"] = chosen
    with api_errors():
        return api().portfolio(chosen)


def remember(name: str, options: list[str], label: str, **kwargs: Any) -> str:
    """A select box whose choice survives page switches (stored under `name`)."""
    wanted = st.session_state.get(name)
    chosen = wanted if wanted in options else options[0]
    st.session_state[name] = chosen
    st.session_state[f"_{name}_widget"] = chosen

    def keep() -> None:
        st.session_state[name] = st.session_state[f"_{name}_widget"]

    st.selectbox(label, options, key=f"_{name}_widget", on_change=keep, **kwargs)
    return chosen


def flash(message: str) -> None:
    """A success message shown once, after the rerun that follows a change."""
    st.session_state["_flash"] = message


def show_flash() -> None:
    message = st.session_state.pop("_flash", None)
    if message:
        st.success(message, icon=":material/check_circle:")


def money(
    value: float | Decimal | None,
    portfolio: dict[str, Any],
    *,
    signed: bool = False,
    step: Decimal | None = None,
) -> str:
    """Money in the portfolio's currency, compact (formats.money)."""
    return formats.money(value, portfolio["currency"], signed=signed, step=step)


def change(text: str, amount: Decimal | float, *, ratio: bool = False) -> str | None:
    """A metric's delta: None (no arrow) when the change shows as zero."""
    if formats.missing(amount):
        return None
    shown = formats.percent_rounded(amount) if ratio else amount
    return None if shown == 0 else text
