"""The one place that talks to the Journeyfolio API (over HTTP, with an API key).

`Api.from_env()` reads JOURNEYFOLIO_API_URL (e.g. http://127.0.0.1:8000/api/v1) and
JOURNEYFOLIO_API_KEY, which `journeyfolio up` sets for the app. Every failure, from a refused
connection to a 422 with a list of problems, becomes an `ApiError` whose `message` a person
understands; the pages show it and never a traceback. No Streamlit in here.
"""

import os
from dataclasses import dataclass, field
from typing import Any, Self

import httpx2

API_URL_ENV = "JOURNEYFOLIO_API_URL"
API_KEY_ENV = "JOURNEYFOLIO_API_KEY"
DEFAULT_API_URL = "http://127.0.0.1:8000/api/v1"
PAGE = 500
"""Items asked for per request when reading a whole list (the API's default page cap)."""

TABLE_MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "zip": "application/zip",
}
"""Spreadsheet tables: an XLSX workbook or a ZIP of CSV files."""

KINDS = ("departments", "personas", "touchpoints", "journeys", "scenarios", "dependencies")


@dataclass
class ApiError(Exception):
    """Something the API refused or could not do, in words for the person at the screen."""

    summary: str
    """What happened, as one sentence."""
    status: int | None = None
    """The HTTP status; None when the API did not answer at all."""
    problems: list[str] = field(default_factory=list)
    """`path: message` of each problem the API listed (422)."""

    def __post_init__(self) -> None:
        super().__init__(self.summary)

    @property
    def conflict(self) -> bool:
        """Someone else changed the thing since it was read (412)."""
        return self.status == 412

    @property
    def message(self) -> str:
        """The summary and the problems as Markdown."""
        lines = [self.summary]
        lines += [f"- {problem}" for problem in self.problems]
        return "\n".join(lines)


@dataclass(frozen=True)
class Versioned:
    """A resource and the ETag of the version it is, for a later If-Match."""

    body: dict[str, Any]
    etag: str


def _explain(response: httpx2.Response, doing: str) -> ApiError:
    """An ApiError from an error response (RFC 9457 problem+json, or whatever came)."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    detail = str(body.get("detail") or response.reason_phrase or "no reason given")
    problems = [
        f"{item.get('path') or item.get('location', '')}: {item.get('message', '')}".strip(": ")
        for item in body.get("errors") or []
        if isinstance(item, dict)
    ]
    if status == 401:
        summary = (
            f"The API did not accept the app's key ({detail}). Restart `journeyfolio up`: it "
            f"gives the app a fresh key."
        )
    elif status == 403:
        summary = f"Not allowed: {detail}."
    elif status == 404:
        summary = f"Not found while {doing}: {detail}."
    elif status == 412:
        summary = (
            "Someone else changed this since you opened it, so your change was not saved "
            "(nothing was overwritten). Reload to see their version, then make your change "
            "again."
        )
    elif status == 422:
        summary = f"The change was refused while {doing}: {detail}."
    elif status >= 500:
        summary = f"The API failed while {doing} (HTTP {status}): {detail}."
    else:
        summary = f"The API refused {doing} (HTTP {status}): {detail}."
    return ApiError(summary, status=status, problems=problems)


class Api:
    """A client of /api/v1. Methods return the API's JSON (dicts and lists)."""

    def __init__(self, base_url: str, key: str, *, timeout: float = 180.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = httpx2.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {key}", "Accept": "application/json"},
            timeout=httpx2.Timeout(timeout, connect=5.0),
            # The API is local; a proxy from the environment would only get in the way.
            trust_env=False,
        )

    @classmethod
    def from_env(cls) -> Self:
        key = os.environ.get(API_KEY_ENV, "").strip()
        if not key:
            raise ApiError(
                f"The app has no API key ({API_KEY_ENV} is not set). Start it with "
                f"`journeyfolio up` (or `make run`), which sets the key and the API's address."
            )
        return cls(os.environ.get(API_URL_ENV, DEFAULT_API_URL), key)

    def close(self) -> None:
        self.http.close()

    # ------------------------------------------------------------------ plumbing

    def _send(
        self, method: str, path: str, doing: str, *, ok: tuple[int, ...] = (200,), **kwargs: Any
    ) -> httpx2.Response:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx2.TimeoutException:
            raise ApiError(
                f"The API at {self.base_url} took too long while {doing}. Try again; a very "
                f"large scenario may need a higher solver time limit."
            ) from None
        except httpx2.TransportError as error:
            raise ApiError(
                f"The Journeyfolio API at {self.base_url} does not answer ({error}). Is "
                f"`journeyfolio up` still running?"
            ) from None
        if response.status_code not in ok:
            raise _explain(response, doing)
        return response

    def _get(self, path: str, doing: str, **params: Any) -> dict[str, Any]:
        body: dict[str, Any] = self._send("GET", path, doing, params=params or None).json()
        return body

    def _versioned(self, response: httpx2.Response) -> Versioned:
        return Versioned(response.json(), response.headers.get("ETag", ""))

    def _all(self, path: str, doing: str, **params: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            page = self._get(path, doing, offset=len(items), limit=PAGE, **params)
            items += page["items"]
            if not page["items"] or len(items) >= page["total"]:
                return items

    # ------------------------------------------------------------------ reading

    def health(self) -> dict[str, Any]:
        return self._get("/health", "checking the API")

    def portfolios(self) -> list[dict[str, Any]]:
        return self._all("/portfolios", "listing the portfolios")

    def portfolio(self, portfolio_id: str) -> dict[str, Any]:
        return self._get(f"/portfolios/{portfolio_id}", f"reading portfolio '{portfolio_id}'")

    def items(self, portfolio_id: str, kind: str) -> list[dict[str, Any]]:
        """Every department, persona, touchpoint, journey, scenario or dependency."""
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}")
        return self._all(f"/portfolios/{portfolio_id}/{kind}", f"reading the {kind}")

    def journey(self, portfolio_id: str, journey_id: str) -> Versioned:
        path = f"/portfolios/{portfolio_id}/journeys/{journey_id}"
        return self._versioned(self._send("GET", path, f"reading journey '{journey_id}'"))

    def scenario(self, portfolio_id: str, scenario_id: str) -> Versioned:
        path = f"/portfolios/{portfolio_id}/scenarios/{scenario_id}"
        return self._versioned(self._send("GET", path, f"reading scenario '{scenario_id}'"))

    def runs(
        self, portfolio_id: str, *, scenario: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """The newest runs first (summaries)."""
        params: dict[str, Any] = {"limit": limit}
        if scenario is not None:
            params["scenario"] = scenario
        page = self._get(f"/portfolios/{portfolio_id}/runs", "listing the runs", **params)
        items: list[dict[str, Any]] = page["items"]
        return items

    def run(self, run_id: str) -> dict[str, Any]:
        return self._get(f"/runs/{run_id}", "reading a run")

    def run_input(self, run_id: str) -> dict[str, Any]:
        return self._get(f"/runs/{run_id}/input", "reading a run's input")

    def export(self, run_id: str, kind: str) -> bytes:
        """The run's allocation as `csv` or `xlsx`."""
        if kind not in ("csv", "xlsx"):
            raise ValueError(f"unknown export {kind!r}")
        return self._send("GET", f"/runs/{run_id}/allocation.{kind}", "exporting a run").content

    def compare(self, portfolio_id: str, run_ids: list[str]) -> dict[str, Any]:
        return self._get(
            f"/portfolios/{portfolio_id}/compare", "comparing runs", runs=",".join(run_ids)
        )

    def bridge(self, portfolio_id: str, start: str, finish: str) -> dict[str, Any]:
        """The value bridge from run `start` to run `finish` (journeyfolio-bridge/v1)."""
        params = {"from": start, "to": finish}
        return self._get(f"/portfolios/{portfolio_id}/bridge", "bridging two runs", **params)

    def pooled_bridge(self, portfolio_id: str, percent: float = 10.0) -> dict[str, Any]:
        """Department budgets -> pooled -> pooled with `percent` % more budget."""
        return self._get(
            f"/portfolios/{portfolio_id}/bridge/pooled",
            "bridging to a pooled budget",
            percent=percent,
        )

    def me(self) -> dict[str, Any]:
        """The app's key: its name, role and whether it may accept curves."""
        return self._get("/me", "reading the app's role")

    def touchpoint(self, portfolio_id: str, touchpoint_id: str) -> Versioned:
        path = f"/portfolios/{portfolio_id}/touchpoints/{touchpoint_id}"
        return self._versioned(self._send("GET", path, f"reading touchpoint '{touchpoint_id}'"))

    def observations(self, portfolio_id: str, touchpoint_id: str) -> Versioned:
        """The touchpoint's observations (period, spend, outcome) and the touchpoint's ETag."""
        path = f"/portfolios/{portfolio_id}/touchpoints/{touchpoint_id}/observations"
        return self._versioned(
            self._send("GET", path, f"reading the observations of '{touchpoint_id}'")
        )

    def fit(self, portfolio_id: str, touchpoint_id: str, form: str = "auto") -> dict[str, Any]:
        """A curve fitted to the touchpoint's observations, with its quality and band."""
        fitted: dict[str, Any] = self._send(
            "POST",
            f"/portfolios/{portfolio_id}/touchpoints/{touchpoint_id}/fit",
            f"fitting a curve to the observations of '{touchpoint_id}'",
            json={"form": form},
        ).json()
        return fitted

    def ask(self, portfolio_id: str, journey: str, quality: float) -> dict[str, Any]:
        """The price of bringing `journey` to `quality` (journeyfolio-ask/v1)."""
        return self._get(
            f"/portfolios/{portfolio_id}/ask",
            "pricing the ask",
            journey=journey,
            quality=quality,
        )

    # ------------------------------------------------------------------ writing

    def create_run(
        self,
        portfolio_id: str,
        *,
        scenario: str | None = None,
        overrides: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Optimize (a scenario, or the portfolio as planned, with optional overrides)."""
        body = dict(overrides or {})
        if scenario is not None:
            body["scenario"] = scenario
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        run: dict[str, Any] = self._send(
            "POST",
            f"/portfolios/{portfolio_id}/runs",
            "running the optimizer",
            ok=(200, 201),
            json=body,
            headers=headers,
        ).json()
        return run

    def update_journey(
        self, portfolio_id: str, journey_id: str, changes: dict[str, Any], *, etag: str
    ) -> Versioned:
        response = self._send(
            "PATCH",
            f"/portfolios/{portfolio_id}/journeys/{journey_id}",
            f"saving journey '{journey_id}'",
            json=changes,
            headers={"If-Match": etag},
        )
        return self._versioned(response)

    def update_observations(
        self, portfolio_id: str, touchpoint_id: str, observations: dict[str, Any], *, etag: str
    ) -> Versioned:
        response = self._send(
            "PUT",
            f"/portfolios/{portfolio_id}/touchpoints/{touchpoint_id}/observations",
            f"saving the observations of '{touchpoint_id}'",
            json=observations,
            headers={"If-Match": etag},
        )
        return self._versioned(response)

    def accept_curve(
        self, portfolio_id: str, touchpoint_id: str, curve: dict[str, Any], *, etag: str
    ) -> Versioned:
        """Make `curve` the touchpoint's curve (planners; audited as `accept`)."""
        response = self._send(
            "POST",
            f"/portfolios/{portfolio_id}/touchpoints/{touchpoint_id}/curve/accept",
            f"accepting the curve of '{touchpoint_id}'",
            json=curve,
            headers={"If-Match": etag},
        )
        return self._versioned(response)

    def create_scenario(self, portfolio_id: str, data: dict[str, Any]) -> Versioned:
        response = self._send(
            "POST",
            f"/portfolios/{portfolio_id}/scenarios",
            f"creating scenario '{data.get('name', '')}'",
            ok=(201,),
            json=data,
        )
        return self._versioned(response)

    def update_scenario(
        self, portfolio_id: str, scenario_id: str, changes: dict[str, Any], *, etag: str
    ) -> Versioned:
        response = self._send(
            "PATCH",
            f"/portfolios/{portfolio_id}/scenarios/{scenario_id}",
            f"saving scenario '{scenario_id}'",
            json=changes,
            headers={"If-Match": etag},
        )
        return self._versioned(response)

    def delete_scenario(self, portfolio_id: str, scenario_id: str, *, etag: str) -> None:
        self._send(
            "DELETE",
            f"/portfolios/{portfolio_id}/scenarios/{scenario_id}",
            f"deleting scenario '{scenario_id}'",
            ok=(204,),
            headers={"If-Match": etag},
        )

    # ------------------------------------------------------------------ spreadsheet tables

    def document(self, portfolio_id: str) -> dict[str, Any]:
        """The portfolio document (shared/portfolio-format.md)."""
        return self._get(f"/portfolios/{portfolio_id}/document", "exporting the portfolio")

    def tables(self, portfolio_id: str, kind: str) -> bytes:
        """The portfolio's tables: `xlsx` (a workbook) or `zip` (CSV files)."""
        if kind not in TABLE_MEDIA:
            raise ValueError(f"unknown kind {kind!r}")
        path = f"/portfolios/{portfolio_id}/tables.{kind}"
        return self._send("GET", path, "exporting the tables").content

    def template(self, kind: str = "xlsx") -> bytes:
        """The empty workbook (or CSV files) to fill in."""
        if kind not in TABLE_MEDIA:
            raise ValueError(f"unknown kind {kind!r}")
        return self._send("GET", f"/tables/template.{kind}", "reading the template").content

    def preview_tables(self, portfolio_id: str, content: bytes, kind: str) -> Versioned:
        """What replacing the portfolio by these tables would change (nothing is written);
        the ETag to apply them with."""
        response = self._send(
            "PUT",
            f"/portfolios/{portfolio_id}/tables",
            "checking the tables",
            params={"dry_run": "true"},
            content=content,
            headers={"Content-Type": TABLE_MEDIA[kind]},
        )
        return self._versioned(response)

    def replace_tables(
        self, portfolio_id: str, content: bytes, kind: str, *, etag: str
    ) -> dict[str, Any]:
        """Replace the portfolio by these tables, all or nothing."""
        response = self._send(
            "PUT",
            f"/portfolios/{portfolio_id}/tables",
            "importing the tables",
            content=content,
            headers={"Content-Type": TABLE_MEDIA[kind], "If-Match": etag},
        )
        body: dict[str, Any] = response.json()
        return body
