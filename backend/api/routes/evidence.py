"""Curves from evidence: a touchpoint's observations, a curve fitted to them with its band,
and a planner's decision to accept a fitted or imported curve (issue 11).

- `GET/PUT .../touchpoints/{id}/observations`: the table of (period, spend, outcome) with
  the outcome's KPI and the outcome values that mean quality 0 and 1. They are part of the
  touchpoint (its ETag, its version, its audit trail); a bad row is named with its column
  (`rows[3].spend`).
- `POST .../touchpoints/{id}/fit`: fits the stored observations (optimizer/fit.py) and
  draws the band (optimizer/bands.py). It changes nothing: any key may fit. Data that
  cannot support a curve get 422 with the fit's reason, never a curve.
- `POST .../touchpoints/{id}/curve/accept`: the curve becomes the touchpoint's curve; only
  planners and admins decide this, and the audit log records the action `accept` with the
  curve and its source.
"""

import datetime
import math
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Response

from backend import crud
from backend.api.deps import CallerDep, IfMatch, PlannerDep, PortfolioId, SessionDep, SettingsDep
from backend.api.route import JsonRoute
from backend.crud import TOUCHPOINTS
from backend.errors import Invalid
from backend.models import (
    CallerPublic,
    FitPublic,
    FitRequest,
    ObservationsPublic,
    ObservationsUpdate,
    Touchpoint,
    TouchpointPublic,
)
from backend.security import RANK, Role
from optimizer import document as doc
from optimizer.bands import curve_band, spend_grid, stray
from optimizer.document import Problem

router = APIRouter(
    route_class=JsonRoute,
    prefix="/portfolios/{portfolio_id}/touchpoints/{touchpoint_id}",
    tags=["curves from evidence"],
)
me = APIRouter(route_class=JsonRoute, tags=["keys"])

STRAY = 3.0
"""A drawn band this many times as wide as the linear one at the observed spends gets a
warning: the normal approximation of the parameters does not hold there."""

TouchpointId = Annotated[str, Path(description="The touchpoint's id.", examples=["hotline"])]


def _touchpoint(session: Any, portfolio_id: str, touchpoint_id: str, *, lock: bool) -> Any:
    portfolio = crud.get_portfolio(session=session, portfolio_id=portfolio_id, lock=lock)
    row: Touchpoint = crud.get_entity(
        session=session, portfolio=portfolio, kind=TOUCHPOINTS, entity_id=touchpoint_id
    )
    return portfolio, row


def _observations_public(row: Touchpoint) -> dict[str, Any]:
    return {**(row.observations or {"rows": []}), "touchpoint": row.id, "version": row.version}


@router.get(
    "/observations",
    response_model=ObservationsPublic,
    response_model_exclude_none=True,
    summary="Read a touchpoint's observations",
)
def read_observations(
    *,
    session: SessionDep,
    _caller: CallerDep,
    response: Response,
    portfolio_id: PortfolioId,
    touchpoint_id: TouchpointId,
) -> Any:
    """The touchpoint's observed spend and outcomes (no rows when there are none)."""
    _, row = _touchpoint(session, portfolio_id, touchpoint_id, lock=False)
    response.headers["ETag"] = crud.etag(row)
    return _observations_public(row)


def _check_periods(body: doc.Observations) -> None:
    seen: dict[str, int] = {}
    problems = []
    for i, observation in enumerate(body.rows):
        first = seen.setdefault(observation.period, i)
        if first != i:
            problems.append(
                Problem(
                    f"rows[{i}].period",
                    f"period {observation.period} is in rows[{first}] already; one row a period",
                )
            )
    if problems:
        raise Invalid(
            f"the observations have {len(problems)} problem(s); nothing was changed",
            problems=problems,
            location="body",
        )


@router.put(
    "/observations",
    response_model=ObservationsPublic,
    response_model_exclude_none=True,
    summary="Replace a touchpoint's observations",
)
def update_observations(
    *,
    session: SessionDep,
    settings: SettingsDep,
    caller: PlannerDep,
    response: Response,
    portfolio_id: PortfolioId,
    touchpoint_id: TouchpointId,
    if_match: IfMatch = None,
    body: ObservationsUpdate,
) -> Any:
    """Replace the observations (a row per period); needs If-Match with the touchpoint's ETag."""
    _check_periods(body)
    portfolio, row = _touchpoint(session, portfolio_id, touchpoint_id, lock=True)
    crud.check_if_match(if_match=if_match, current=crud.etag(row))
    data = body.model_dump(mode="json", exclude_none=True)
    empty = not body.rows and body.kpi is None and body.outcome_at_0 is None
    row = crud.update_entity(
        session=session,
        portfolio=portfolio,
        kind=TOUCHPOINTS,
        row=row,
        changes={"observations": None if empty else data},
        caller=caller,
        limits=settings.limits(),
    )
    session.commit()
    response.headers["ETag"] = crud.etag(row)
    return _observations_public(row)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


@router.post(
    "/fit",
    response_model=FitPublic,
    summary="Fit a curve to a touchpoint's observations",
)
def create_fit(
    *,
    session: SessionDep,
    _caller: CallerDep,
    portfolio_id: PortfolioId,
    touchpoint_id: TouchpointId,
    body: Annotated[FitRequest | None, Body()] = None,
) -> Any:
    """Fit a curve to the stored observations, with its quality, uncertainty and band."""
    # scipy's optimize and stats take seconds of CPU to import: only when someone fits,
    # not at every start of the API
    from optimizer.fit import FitError, fit, observations

    request = body or FitRequest()
    _, row = _touchpoint(session, portfolio_id, touchpoint_id, lock=False)
    session.commit()  # nothing more to read: the fit runs without holding a connection
    stored = doc.Observations.model_validate(row.observations or {"rows": []})
    if not stored.rows:
        raise Invalid(
            f"touchpoint '{touchpoint_id}' has no observations to fit; PUT them to "
            f".../touchpoints/{touchpoint_id}/observations first"
        )
    spends = [o.spend for o in stored.rows]
    outcomes = [o.outcome for o in stored.rows]
    try:
        data = observations(spends, outcomes, stored.outcome_at_0, stored.outcome_at_1)
        result = fit(data, request.form)
    except FitError as error:
        raise Invalid(
            f"the observations of touchpoint '{touchpoint_id}' cannot support a curve: {error}"
        ) from None
    curve = doc.Curve.model_validate(result.curve(datetime.date.today().isoformat()))
    top = max(max(spends), row.max_spend, row.current_spend)
    band = curve_band(curve, spend_grid(top))
    warnings = list(result.warnings)
    ratio = stray(curve, spends)
    if ratio is not None and ratio > STRAY:
        warnings.append(
            f"the band is {ratio:.1f} times as wide at the observed spends as the "
            "covariance's linear approximation says: these data do not pin the parameters "
            "down, so read the band as a rough range (observations at other spends help)"
        )
    qualities = data.quality.tolist()
    return {
        "touchpoint": row.id,
        "form": result.form,
        "curve": curve,
        "r2": result.r2,
        "rmse": result.rmse,
        "n": result.n,
        "aicc": _finite(result.aicc),
        "compared": {form: _finite(value) for form, value in result.compared.items()},
        "uncertainty": {
            "parameters": list(result.log_parameters),
            "covariance": result.covariance,
            "standard_errors": result.standard_errors,
        },
        "warnings": warnings,
        "kpi": stored.kpi,
        "outcome_at_0": stored.outcome_at_0,
        "outcome_at_1": stored.outcome_at_1,
        "points": [
            {"period": o.period, "spend": o.spend, "outcome": o.outcome, "quality": q}
            for o, q in zip(stored.rows, qualities, strict=True)
        ],
        "band": {
            "level": band.level,
            "draws": band.draws,
            "spend": band.spend,
            "curve": band.curve,
            "low": band.low,
            "high": band.high,
        },
    }


@router.post(
    "/curve/accept",
    response_model=TouchpointPublic,
    response_model_exclude_none=True,
    summary="Accept a curve as the touchpoint's curve",
)
def accept_curve(
    *,
    session: SessionDep,
    settings: SettingsDep,
    caller: PlannerDep,
    response: Response,
    portfolio_id: PortfolioId,
    touchpoint_id: TouchpointId,
    if_match: IfMatch = None,
    body: doc.Curve,
) -> Any:
    """Make a fitted or imported curve the touchpoint's curve (planners); audited as `accept`."""
    if body.source is None:
        raise Invalid(
            "an accepted curve says where it comes from: give its 'source' (kind fit, robyn, "
            "meridian, pymc-marketing or manual)",
            problems=[Problem("source", "required key missing")],
            location="body",
        )
    portfolio, row = _touchpoint(session, portfolio_id, touchpoint_id, lock=True)
    crud.check_if_match(if_match=if_match, current=crud.etag(row))
    row = crud.update_entity(
        session=session,
        portfolio=portfolio,
        kind=TOUCHPOINTS,
        row=row,
        changes={"curve": body.model_dump(mode="json", exclude_none=True)},
        caller=caller,
        limits=settings.limits(),
        action="accept",
    )
    session.commit()
    response.headers["ETag"] = crud.etag(row)
    return TOUCHPOINTS.public(row)


@me.get("/me", response_model=CallerPublic, summary="Who am I")
def read_me(*, caller: CallerDep) -> Any:
    """The API key's name and role, and what the role may do."""
    return {
        "name": caller.name,
        "role": caller.role.value,
        "owner": caller.owner,
        "can_accept_curves": RANK[caller.role] >= RANK[Role.planner],
    }
