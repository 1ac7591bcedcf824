"""Reading and changing portfolios: keyword-only functions taking a Session.

Every write follows the same path: lock the portfolio (so writers to one portfolio take turns),
rebuild its document from the rows, apply the change to the document, validate the whole
document with `optimizer.document.validate_document` (the single source of the rules), and
only then change the rows, bump the versions and record an audit event. A change that breaks
a rule raises `Invalid` (422) with every problem and its path before anything is written.
These functions flush but never commit: the route commits, so one request is one transaction
(and an idempotency record lands in the same transaction as what it records).
"""

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from sqlmodel import Session, SQLModel, col, func, select

from backend.errors import Conflict, Invalid, NotFound, PreconditionFailed, PreconditionRequired
from backend.models import (
    AuditEvent,
    Department,
    Dependency,
    FeedbackNote,
    Journey,
    JourneyLink,
    Kpi,
    KpiActual,
    PainPoint,
    Persona,
    PlanApproval,
    Portfolio,
    Run,
    Scenario,
    Touchpoint,
    as_utc,
    utcnow,
)
from backend.security import Caller
from optimizer import document
from optimizer.document import (
    DEFAULT_LIMITS,
    DocumentError,
    Limits,
    PortfolioDocument,
    Problem,
    validate_document,
)

NO_LIMITS = Limits(
    touchpoints=10**9,
    journeys=10**9,
    links=10**9,
    curve_points=10**9,
    departments=10**9,
    personas=10**9,
    dependencies=10**9,
    scenarios=10**9,
)
"""What is stored was valid when written: reading it back is not refused for its size."""


# =========================================================================== versions


def etag(row: Any) -> str:
    """A strong ETag: the row's identity (a re-created entity is another one) and version."""
    return f'"{row.pk}.{row.version}"'


def check_if_match(*, if_match: str | None, current: str) -> None:
    """428 without If-Match, 412 when it names another version than the current one."""
    if if_match is None or not if_match.strip():
        raise PreconditionRequired(
            "this change needs an If-Match header with the ETag of the version it changes "
            "(GET the resource first)",
            headers={"ETag": current},
        )
    tags = [tag.strip() for tag in if_match.split(",")]
    if "*" in tags or current in tags:
        return
    raise PreconditionFailed(
        f"the resource changed since you read it: If-Match {if_match.strip()} does not match "
        f"the current ETag {current}; GET it again and redo the change",
        headers={"ETag": current},
    )


# =========================================================================== audit


def record(
    *,
    session: Session,
    portfolio_id: str,
    caller: Caller,
    action: str,
    entity: str,
    entity_id: str,
    before: Any = None,
    after: Any = None,
) -> None:
    session.add(
        AuditEvent(
            portfolio_id=portfolio_id,
            actor=caller.actor,
            role=caller.role.value,
            action=action,
            entity=entity,
            entity_id=entity_id,
            before=before,
            after=after,
        )
    )


def list_audit(
    *,
    session: Session,
    portfolio_id: str,
    offset: int,
    limit: int,
    entity: str | None = None,
    entity_id: str | None = None,
) -> tuple[Sequence[AuditEvent], int]:
    """Newest first."""
    where = [AuditEvent.portfolio_id == portfolio_id]
    if entity is not None:
        where.append(AuditEvent.entity == entity)
    if entity_id is not None:
        where.append(AuditEvent.entity_id == entity_id)
    total = session.exec(select(func.count()).select_from(AuditEvent).where(*where)).one()
    rows = session.exec(
        select(AuditEvent)
        .where(*where)
        .order_by(col(AuditEvent.pk).desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return rows, total


# =========================================================================== portfolios


def get_portfolio(
    *, session: Session, portfolio_id: str, lock: bool = False, consistent: bool = False
) -> Portfolio:
    """The portfolio, or 404.

    `lock=True` before a write: writers to one portfolio take turns (SELECT ... FOR UPDATE on
    PostgreSQL; SQLite transactions are serial already). `consistent=True` before reading the
    whole document (export, run): FOR SHARE keeps writers out until the transaction ends, so
    the many SELECTs see one version of the portfolio, never half of a change.
    """
    statement = select(Portfolio).where(Portfolio.id == portfolio_id)
    if lock or consistent:
        statement = statement.with_for_update(read=not lock).execution_options(
            populate_existing=True
        )
    portfolio = session.exec(statement).first()
    if portfolio is None:
        raise NotFound(f"no portfolio '{portfolio_id}'")
    return portfolio


def list_portfolios(
    *, session: Session, offset: int, limit: int
) -> tuple[Sequence[Portfolio], int]:
    total = session.exec(select(func.count()).select_from(Portfolio)).one()
    rows = session.exec(select(Portfolio).order_by(Portfolio.id).offset(offset).limit(limit)).all()
    return rows, total


def approved_run(*, session: Session, portfolio: Portfolio) -> tuple[PlanApproval, Run] | None:
    """The plan of record: the latest approval and its run."""
    row = session.exec(
        select(PlanApproval, Run)
        .join(Run, col(Run.pk) == col(PlanApproval.run_pk))
        .where(PlanApproval.portfolio_pk == portfolio.pk)
        .order_by(col(PlanApproval.pk).desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else None


def portfolio_public(*, session: Session, portfolio: Portfolio) -> dict[str, Any]:
    counts = {}
    for name, table in (
        ("departments", Department),
        ("personas", Persona),
        ("touchpoints", Touchpoint),
        ("journeys", Journey),
        ("scenarios", Scenario),
    ):
        counts[name] = session.exec(
            select(func.count()).select_from(table).where(table.portfolio_pk == portfolio.pk)
        ).one()
    plan = approved_run(session=session, portfolio=portfolio)
    return {
        "id": portfolio.id,
        "name": portfolio.name,
        "currency": portfolio.currency,
        "period": portfolio.period,
        "description": portfolio.description,
        "budget": portfolio.budget,
        "version": portfolio.version,
        "created_at": as_utc(portfolio.created_at),
        "updated_at": as_utc(portfolio.updated_at),
        "created_by": portfolio.created_by,
        **counts,
        "approved_run_id": plan[1].id if plan else None,
    }


def _summary(data: dict[str, Any]) -> dict[str, Any]:
    """A portfolio for the audit log: its header and how many of each entity."""
    out = {key: value for key, value in data.items() if not isinstance(value, list)}
    for key, value in data.items():
        if isinstance(value, list):
            out[key] = len(value)
    return out


def import_portfolio(*, session: Session, document: PortfolioDocument, caller: Caller) -> Portfolio:
    """Store a validated document as a new portfolio (409 when its id exists)."""
    if session.exec(select(Portfolio.pk).where(Portfolio.id == document.id)).first():
        raise Conflict(
            f"a portfolio '{document.id}' exists already; delete it first or import "
            f"under another id"
        )
    portfolio = Portfolio(
        id=document.id,
        name=document.name,
        currency=document.currency,
        period=document.period,
        description=document.description,
        budget=document.budget,
        created_by=caller.actor,
    )
    session.add(portfolio)
    session.flush()
    _add_entities(session=session, portfolio=portfolio, document=document)
    data = document.model_dump(mode="json", exclude_none=True)
    record(
        session=session,
        portfolio_id=portfolio.id,
        caller=caller,
        action="import",
        entity="portfolio",
        entity_id=portfolio.id,
        after=_summary(data),
    )
    return portfolio


def _add_entities(*, session: Session, portfolio: Portfolio, document: PortfolioDocument) -> None:
    assert portfolio.pk is not None
    pk = portfolio.pk
    for kind in KINDS.values():
        for position, entity in enumerate(getattr(document, kind.key)):
            row = kind.new_row(pk, position, _dump(entity))
            session.add(row)
    session.flush()


def replace_portfolio(
    *, session: Session, portfolio: Portfolio, document: PortfolioDocument, caller: Caller
) -> Portfolio:
    """Replace everything in a portfolio by a validated document with the same id (spreadsheet
    tables, issue 15): its own fields and every entity, in one transaction (the caller
    commits); runs and the plan of record stay (a run keeps its input). Every entity is a new
    row, so an ETag of the old one no longer matches."""
    if document.id != portfolio.id:
        raise Invalid(
            f"the document is portfolio '{document.id}', not '{portfolio.id}'",
            problems=[Problem("id", f"expected '{portfolio.id}'")],
        )
    before = _summary(load_document_data(session=session, portfolio=portfolio))
    for table in (Scenario, Journey, Dependency, Touchpoint, Persona, Department):
        # child rows (links, KPIs, pain points...) go with them: ON DELETE CASCADE
        session.exec(sa.delete(table).where(col(table.portfolio_pk) == portfolio.pk))
    session.expire_all()
    portfolio.name = document.name
    portfolio.currency = document.currency
    portfolio.period = document.period
    portfolio.description = document.description
    portfolio.budget = document.budget
    touch(portfolio)
    _add_entities(session=session, portfolio=portfolio, document=document)
    record(
        session=session,
        portfolio_id=portfolio.id,
        caller=caller,
        action="replace",
        entity="portfolio",
        entity_id=portfolio.id,
        before=before,
        after=_summary(document.model_dump(mode="json", exclude_none=True)),
    )
    session.flush()
    return portfolio


def delete_portfolio(*, session: Session, portfolio: Portfolio, caller: Caller) -> None:
    """Delete a portfolio and everything in it (its audit log stays). A portfolio with an
    approved plan of record is kept: finance relies on it."""
    plan = approved_run(session=session, portfolio=portfolio)
    if plan is not None:
        raise Conflict(
            f"portfolio '{portfolio.id}' has an approved plan of record (run {plan[1].id}); "
            f"it cannot be deleted"
        )
    before = _summary(load_document_data(session=session, portfolio=portfolio))
    record(
        session=session,
        portfolio_id=portfolio.id,
        caller=caller,
        action="delete",
        entity="portfolio",
        entity_id=portfolio.id,
        before=before,
    )
    session.flush()  # the audit event first: it outlives the portfolio
    session.exec(sa.delete(Portfolio).where(col(Portfolio.pk) == portfolio.pk))
    session.expunge_all()


def update_portfolio(
    *,
    session: Session,
    portfolio: Portfolio,
    changes: dict[str, Any],
    caller: Caller,
    limits: Limits = DEFAULT_LIMITS,
) -> Portfolio:
    """Change the portfolio's own fields (name, currency, period, description, budget)."""
    before = portfolio.header_data()

    def change(data: dict[str, Any]) -> None:
        data.update(changes)

    validated = _validated(session=session, portfolio=portfolio, change=change, limits=limits)
    after = {
        key: value
        for key, value in validated.model_dump(mode="json", exclude_none=True).items()
        if not isinstance(value, list)
    }
    if after == before:
        return portfolio
    portfolio.name = validated.name
    portfolio.currency = validated.currency
    portfolio.period = validated.period
    portfolio.description = validated.description
    portfolio.budget = validated.budget
    touch(portfolio)
    record(
        session=session,
        portfolio_id=portfolio.id,
        caller=caller,
        action="update",
        entity="portfolio",
        entity_id=portfolio.id,
        before=before,
        after=after,
    )
    session.flush()
    return portfolio


def touch(portfolio: Portfolio) -> None:
    """Something in the portfolio changed: a new version of the whole."""
    portfolio.version += 1
    portfolio.updated_at = utcnow()


# =========================================================================== the document


def _row(**columns: Any) -> Any:
    """A plain row with its child rows attached, standing in for the ORM object: `to_data()`
    reads only attributes, and a row has the same names (hence Any, not the table's type)."""
    return SimpleNamespace(**columns)


def load_document_data(*, session: Session, portfolio: Portfolio) -> dict[str, Any]:
    """The portfolio document rebuilt from the rows (plain data, not yet validated).

    Every write and export goes through here, so it reads plain rows (no ORM objects, about
    three times faster on a large portfolio) and hands them to the same `to_data()` methods
    the ORM objects use: a row has the same attribute names.
    """
    pk = portfolio.pk

    def rows(table: Any, *where: Any, order: tuple[Any, ...] = ()) -> list[Any]:
        statement = sa.select(table.__table__).where(*where).order_by(*order)
        return list(session.connection().execute(statement).all())

    def children(table: Any, parent: Any, fk: str) -> dict[int, list[Any]]:
        grouped: dict[int, list[Any]] = defaultdict(list)
        link = getattr(table.__table__.c, fk)
        for row in rows(
            table,
            link == parent.__table__.c.pk,
            parent.__table__.c.portfolio_pk == pk,
            order=(link, table.__table__.c.position, table.__table__.c.pk),
        ):
            grouped[getattr(row, fk)].append(row)
        return grouped

    def own(table: Any) -> list[Any]:
        c = table.__table__.c
        return rows(table, c.portfolio_pk == pk, order=(c.position, c.pk))

    data = portfolio.header_data()
    data["departments"] = [Department.to_data(row) for row in own(Department)]
    data["personas"] = [Persona.to_data(row) for row in own(Persona)]
    pains = children(PainPoint, Touchpoint, "touchpoint_pk")
    notes = children(FeedbackNote, Touchpoint, "touchpoint_pk")
    data["touchpoints"] = [
        Touchpoint.to_data(
            _row(
                **row._mapping,
                pain_points=pains[row.pk],
                feedback=notes[row.pk],
            )
        )
        for row in own(Touchpoint)
    ]
    data["dependencies"] = [Dependency.to_data(row) for row in own(Dependency)]
    links = children(JourneyLink, Journey, "journey_pk")
    kpis = children(Kpi, Journey, "journey_pk")
    actuals: dict[int, list[Any]] = defaultdict(list)
    for row in rows(
        KpiActual,
        col(KpiActual.kpi_pk) == col(Kpi.pk),
        col(Kpi.journey_pk) == col(Journey.pk),
        col(Journey.portfolio_pk) == pk,
        order=(col(KpiActual.kpi_pk), col(KpiActual.position)),
    ):
        actuals[row.kpi_pk].append(row)
    data["journeys"] = [
        Journey.to_data(
            _row(
                **row._mapping,
                links=links[row.pk],
                kpis=[SimpleNamespace(**k._mapping, actuals=actuals[k.pk]) for k in kpis[row.pk]],
            )
        )
        for row in own(Journey)
    ]
    data["scenarios"] = [Scenario.to_data(row) for row in own(Scenario)]
    return data


def export_document(*, session: Session, portfolio: Portfolio) -> PortfolioDocument:
    """The portfolio as a validated document (what `GET .../document` returns)."""
    return validate_document(
        load_document_data(session=session, portfolio=portfolio), limits=NO_LIMITS
    )


def _validated(
    *,
    session: Session,
    portfolio: Portfolio,
    change: Callable[[dict[str, Any]], None],
    limits: Limits,
) -> PortfolioDocument:
    data = load_document_data(session=session, portfolio=portfolio)
    change(data)
    try:
        return validate_document(data, limits=limits)
    except DocumentError as error:
        raise Invalid(
            f"the change breaks {len(error.problems)} rule(s) of the portfolio; nothing was "
            f"changed",
            problems=error.problems,
        ) from None


def _dump(entity: Any) -> dict[str, Any]:
    # exclude_none drops optional fields, but not the nulls inside a scenario's maps.
    dumped: dict[str, Any] = entity.model_dump(mode="json", exclude_none=True)
    return dumped


# =========================================================================== entity kinds


@dataclass(frozen=True)
class Kind:
    """A list of the document whose entries have an `id`: departments, personas,
    touchpoints, journeys, scenarios."""

    key: str
    """The document's key (and the URL's collection name)."""
    label: str
    table: type[SQLModel]
    model: type[Any]
    """The document's model of one entry."""
    options: tuple[Any, ...] = ()
    """Eager loads for its child rows."""
    example: str = ""
    """An id of the demo portfolio sonnenreisen-2027, for the API schema."""

    def select(self, portfolio: Portfolio) -> Any:
        table: Any = self.table
        return (
            select(table)
            .where(table.portfolio_pk == portfolio.pk)
            .order_by(table.position, table.pk)
            .options(*self.options)
        )

    def rows(self, session: Session, portfolio: Portfolio) -> Sequence[Any]:
        found: Sequence[Any] = session.exec(self.select(portfolio)).all()
        return found

    def new_row(self, portfolio_pk: int, position: int, data: dict[str, Any]) -> Any:
        if self.table is Dependency:
            row: Any = Dependency(
                portfolio_pk=portfolio_pk,
                position=position,
                touchpoint=data["touchpoint"],
                requires=data["requires"],
            )
        else:
            row = self.table(portfolio_pk=portfolio_pk, position=position, id=data["id"])
        row.set_data(data)
        return row

    def index_of(self, data: dict[str, Any], row: Any) -> int:
        """Where the row's entity sits in the document's list."""
        wanted = self.identity(row.to_data())
        for i, item in enumerate(data[self.key]):
            if self.identity(item) == wanted:
                return i
        raise LookupError(wanted)

    def identity(self, item: dict[str, Any]) -> Any:
        if self.table is Dependency:
            return (item["touchpoint"], item["requires"])
        return item["id"]

    def public(self, row: Any) -> dict[str, Any]:
        return {**row.to_data(), "version": row.version}


KINDS: dict[str, Kind] = {
    "departments": Kind(
        "departments", "department", Department, document.Department, example="marketing"
    ),
    "personas": Kind("personas", "persona", Persona, document.Persona, example="family"),
    "touchpoints": Kind(
        "touchpoints",
        "touchpoint",
        Touchpoint,
        document.Touchpoint,
        # SQLModel types a relationship as its Python value (a list), not as the
        # QueryableAttribute it is on the class, so loader options need these ignores.
        (
            selectinload(Touchpoint.pain_points),  # type: ignore[arg-type]  # see above
            selectinload(Touchpoint.feedback),  # type: ignore[arg-type]  # see above
        ),
        example="hotline",
    ),
    "dependencies": Kind("dependencies", "dependency", Dependency, document.Dependency),
    "journeys": Kind(
        "journeys",
        "journey",
        Journey,
        document.Journey,
        (
            # relationships typed as lists again (see the touchpoints above)
            selectinload(Journey.links),  # type: ignore[arg-type]
            selectinload(Journey.kpis).selectinload(Kpi.actuals),  # type: ignore[arg-type]
        ),
        example="family-problem",
    ),
    "scenarios": Kind("scenarios", "scenario", Scenario, document.Scenario, example="pooled"),
}
DEPARTMENTS = KINDS["departments"]
PERSONAS = KINDS["personas"]
TOUCHPOINTS = KINDS["touchpoints"]
DEPENDENCIES = KINDS["dependencies"]
JOURNEYS = KINDS["journeys"]
SCENARIOS = KINDS["scenarios"]


def load_ids(*, session: Session, portfolio: Portfolio, kind: Kind) -> dict[str, Any]:
    """The kind's list in document order, identities only."""
    table: Any = kind.table
    columns = (table.touchpoint, table.requires) if table is Dependency else (table.id,)
    rows = session.exec(
        select(*columns)
        .where(table.portfolio_pk == portfolio.pk)
        .order_by(table.position, table.pk)
    ).all()
    if table is Dependency:
        return {kind.key: [{"touchpoint": t, "requires": r} for t, r in rows]}
    return {kind.key: [{"id": row} for row in rows]}


def list_entities(
    *, session: Session, portfolio: Portfolio, kind: Kind, offset: int, limit: int
) -> tuple[Sequence[Any], int]:
    table: Any = kind.table
    total = session.exec(
        select(func.count()).select_from(table).where(table.portfolio_pk == portfolio.pk)
    ).one()
    rows = session.exec(kind.select(portfolio).offset(offset).limit(limit)).all()
    return rows, total


def get_entity(*, session: Session, portfolio: Portfolio, kind: Kind, entity_id: str) -> Any:
    table: Any = kind.table
    row = session.exec(kind.select(portfolio).where(table.id == entity_id)).first()
    if row is None:
        raise NotFound(f"no {kind.label} '{entity_id}' in portfolio '{portfolio.id}'")
    return row


def get_dependency(
    *, session: Session, portfolio: Portfolio, touchpoint: str, requires: str
) -> Dependency:
    row = session.exec(
        DEPENDENCIES.select(portfolio).where(
            Dependency.touchpoint == touchpoint, Dependency.requires == requires
        )
    ).first()
    if row is None:
        raise NotFound(
            f"no dependency '{touchpoint}' requires '{requires}' in portfolio '{portfolio.id}'"
        )
    dependency: Dependency = row
    return dependency


def _next_position(session: Session, kind: Kind, portfolio: Portfolio) -> int:
    table: Any = kind.table
    top = session.exec(
        select(func.max(table.position)).where(table.portfolio_pk == portfolio.pk)
    ).one()
    return 0 if top is None else top + 1


def create_entity(
    *,
    session: Session,
    portfolio: Portfolio,
    kind: Kind,
    data: dict[str, Any],
    caller: Caller,
    limits: Limits = DEFAULT_LIMITS,
) -> Any:
    """Add an entity at the end of its list (409 when its id is taken)."""
    identity = kind.identity(data)
    if kind.table is Dependency:
        exists = session.exec(
            select(Dependency.pk).where(
                Dependency.portfolio_pk == portfolio.pk,
                Dependency.touchpoint == data["touchpoint"],
                Dependency.requires == data["requires"],
            )
        ).first()
        name = f"dependency '{identity[0]}' requires '{identity[1]}'"
    else:
        table: Any = kind.table
        exists = session.exec(
            select(table.pk).where(table.portfolio_pk == portfolio.pk, table.id == identity)
        ).first()
        name = f"{kind.label} '{identity}'"
    if exists:
        raise Conflict(f"portfolio '{portfolio.id}' has a {name} already")

    validated = _validated(
        session=session,
        portfolio=portfolio,
        change=lambda doc: doc[kind.key].append(data),
        limits=limits,
    )
    clean = _dump(getattr(validated, kind.key)[-1])
    assert portfolio.pk is not None
    row = kind.new_row(portfolio.pk, _next_position(session, kind, portfolio), clean)
    session.add(row)
    touch(portfolio)
    session.flush()
    record(
        session=session,
        portfolio_id=portfolio.id,
        caller=caller,
        action="create",
        entity=kind.label,
        entity_id=_id_text(identity),
        after=kind.public(row),
    )
    return row


def update_entity(
    *,
    session: Session,
    portfolio: Portfolio,
    kind: Kind,
    row: Any,
    changes: dict[str, Any],
    caller: Caller,
    limits: Limits = DEFAULT_LIMITS,
    action: str = "update",
) -> Any:
    """Apply a PATCH (the fields given; null removes an optional one). `action` names the
    change in the audit log (`accept`: a planner accepted a curve from evidence)."""
    before = kind.public(row)
    current = row.to_data()
    merged = {key: value for key, value in {**current, **changes}.items() if value is not None}
    index = kind.index_of(load_ids(session=session, portfolio=portfolio, kind=kind), row)

    def change(data: dict[str, Any]) -> None:
        data[kind.key][index] = merged

    if kind.table is Dependency:
        _check_free_dependency(session, portfolio, row, merged)
    validated = _validated(session=session, portfolio=portfolio, change=change, limits=limits)
    clean = _dump(getattr(validated, kind.key)[index])
    if clean == _dump(kind.model.model_validate(current)):
        return row  # nothing changes: no new version
    row.set_data(clean)
    row.version += 1
    touch(portfolio)
    session.flush()
    record(
        session=session,
        portfolio_id=portfolio.id,
        caller=caller,
        action=action,
        entity=kind.label,
        entity_id=_id_text(kind.identity(current)),
        before=before,
        after=kind.public(row),
    )
    return row


def _check_free_dependency(
    session: Session, portfolio: Portfolio, row: Dependency, clean: dict[str, Any]
) -> None:
    # The document rule names a duplicate too (422); moving onto an existing one is a 409,
    # like creating it.
    if (clean["touchpoint"], clean["requires"]) == (row.touchpoint, row.requires):
        return
    taken = session.exec(
        select(Dependency.pk).where(
            Dependency.portfolio_pk == portfolio.pk,
            Dependency.touchpoint == clean["touchpoint"],
            Dependency.requires == clean["requires"],
        )
    ).first()
    if taken:
        raise Conflict(
            f"portfolio '{portfolio.id}' has a dependency '{clean['touchpoint']}' requires "
            f"'{clean['requires']}' already"
        )


def delete_entity(
    *,
    session: Session,
    portfolio: Portfolio,
    kind: Kind,
    row: Any,
    caller: Caller,
    limits: Limits = DEFAULT_LIMITS,
) -> None:
    """Remove an entity; refused (422) when something still refers to it."""
    before = kind.public(row)

    index = kind.index_of(load_ids(session=session, portfolio=portfolio, kind=kind), row)

    def change(data: dict[str, Any]) -> None:
        del data[kind.key][index]

    _validated(session=session, portfolio=portfolio, change=change, limits=limits)
    session.delete(row)
    touch(portfolio)
    session.flush()
    record(
        session=session,
        portfolio_id=portfolio.id,
        caller=caller,
        action="delete",
        entity=kind.label,
        entity_id=_id_text(kind.identity(row.to_data())),
        before=before,
    )


def _id_text(identity: Any) -> str:
    return "->".join(identity) if isinstance(identity, tuple) else str(identity)


# =========================================================================== journey links


def get_link(*, journey: Journey, touchpoint: str, portfolio: Portfolio) -> JourneyLink:
    for link in journey.links:
        if link.touchpoint == touchpoint:
            return link
    raise NotFound(
        f"journey '{journey.id}' in portfolio '{portfolio.id}' has no link to touchpoint "
        f"'{touchpoint}'"
    )


def link_public(journey: Journey, link: JourneyLink) -> dict[str, Any]:
    return {**link.to_data(), "journey": journey.id, "version": link.version}


def _validated_links(
    *,
    session: Session,
    portfolio: Portfolio,
    journey: Journey,
    links: list[dict[str, Any]],
    limits: Limits,
) -> list[dict[str, Any]]:
    """The journey's links after a change, validated with the whole document."""
    ids = load_ids(session=session, portfolio=portfolio, kind=JOURNEYS)
    index = JOURNEYS.index_of(ids, journey)

    def change(data: dict[str, Any]) -> None:
        data["journeys"][index]["touchpoints"] = links

    validated = _validated(session=session, portfolio=portfolio, change=change, limits=limits)
    return [_dump(link) for link in validated.journeys[index].touchpoints]


def _save_links(
    session: Session, portfolio: Portfolio, journey: Journey, links: list[dict[str, Any]]
) -> None:
    journey.set_links(links)
    journey.version += 1
    touch(portfolio)
    session.flush()


def create_link(
    *,
    session: Session,
    portfolio: Portfolio,
    journey: Journey,
    data: dict[str, Any],
    caller: Caller,
    limits: Limits = DEFAULT_LIMITS,
) -> JourneyLink:
    """Link the journey to one more touchpoint (409 when it is linked already)."""
    if any(link.touchpoint == data["touchpoint"] for link in journey.links):
        raise Conflict(
            f"journey '{journey.id}' is linked to touchpoint '{data['touchpoint']}' already"
        )
    links = [link.to_data() for link in journey.links] + [data]
    clean = _validated_links(
        session=session, portfolio=portfolio, journey=journey, links=links, limits=limits
    )
    _save_links(session, portfolio, journey, clean)
    link = get_link(journey=journey, touchpoint=data["touchpoint"], portfolio=portfolio)
    record(
        session=session,
        portfolio_id=portfolio.id,
        caller=caller,
        action="create",
        entity="link",
        entity_id=f"{journey.id}->{link.touchpoint}",
        after=link_public(journey, link),
    )
    return link


def update_link(
    *,
    session: Session,
    portfolio: Portfolio,
    journey: Journey,
    link: JourneyLink,
    changes: dict[str, Any],
    caller: Caller,
    limits: Limits = DEFAULT_LIMITS,
) -> JourneyLink:
    """Change a link's stage, weight, critical flag or emotion."""
    before = link_public(journey, link)
    links = []
    position = 0
    for i, item in enumerate(journey.links):
        data = item.to_data()
        if item is link:
            position = i
            merged = {**data, **changes}
            data = {key: value for key, value in merged.items() if value is not None}
        links.append(data)
    clean = _validated_links(
        session=session, portfolio=portfolio, journey=journey, links=links, limits=limits
    )
    if clean[position] == _dump(document.JourneyLink.model_validate(link.to_data())):
        return link  # nothing changes: no new version
    _save_links(session, portfolio, journey, clean)
    record(
        session=session,
        portfolio_id=portfolio.id,
        caller=caller,
        action="update",
        entity="link",
        entity_id=f"{journey.id}->{link.touchpoint}",
        before=before,
        after=link_public(journey, link),
    )
    return link


def delete_link(
    *,
    session: Session,
    portfolio: Portfolio,
    journey: Journey,
    link: JourneyLink,
    caller: Caller,
    limits: Limits = DEFAULT_LIMITS,
) -> None:
    """Unlink a touchpoint (refused when it is the journey's last link)."""
    before = link_public(journey, link)
    links = [item.to_data() for item in journey.links if item is not link]
    clean = _validated_links(
        session=session, portfolio=portfolio, journey=journey, links=links, limits=limits
    )
    _save_links(session, portfolio, journey, clean)
    record(
        session=session,
        portfolio_id=portfolio.id,
        caller=caller,
        action="delete",
        entity="link",
        entity_id=f"{journey.id}->{link.touchpoint}",
        before=before,
    )
