"""Tables and API schemas.

The portfolio's entities live in normalized tables, one row per department, persona,
touchpoint, journey, journey link, KPI, dependency and scenario; `to_data()` turns a row back
into its part of the portfolio document (it reads attributes only, so `crud` calls it on plain
SQL rows too) (shared/portfolio-format.md), so the document export is
rebuilt from the rows and `optimizer.document.validate_document` stays the single source of
the rules. References between entities are ids (slugs) inside one portfolio, checked by that
validation on every write; rows belong to their portfolio (and children to their parent) by
foreign keys with ON DELETE CASCADE.

API schemas: `XCreate` is the document's own model for that entity (the same fields, types
and limits as the import format), `XUpdate` the fields a PATCH may change (all optional),
`XPublic` what a GET returns (the entity plus its `version`).
"""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from pydantic import AfterValidator, BaseModel, ConfigDict, field_serializer
from pydantic import Field as PydanticField
from sqlmodel import JSON, Field, Relationship, SQLModel

from optimizer import document as doc
from optimizer.result import RunResult


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back: they were written as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _fk(target: str) -> Any:
    return sa.Column(sa.ForeignKey(target, ondelete="CASCADE"), nullable=False, index=True)


def _without_none(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value is not None}


def _timestamp() -> Any:
    return Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True))


# =========================================================================== tables


class Portfolio(SQLModel, table=True):
    """One planning universe. `version` counts every change to it or anything in it."""

    pk: int | None = Field(default=None, primary_key=True)
    id: str = Field(max_length=64, unique=True)
    name: str = Field(sa_type=sa.Text)
    currency: str = Field(max_length=3)
    period: str = Field(default="", sa_type=sa.Text)
    description: str | None = Field(default=None, sa_type=sa.Text)
    budget: float
    version: int = 1
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()
    created_by: str = Field(sa_type=sa.Text)

    def header_data(self) -> dict[str, Any]:
        """The document's top-level keys (everything but the entity lists)."""
        return _without_none(
            {
                "format": doc.FORMAT,
                "id": self.id,
                "name": self.name,
                "currency": self.currency,
                "period": self.period,
                "description": self.description,
                "budget": self.budget,
            }
        )


class Department(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("portfolio_pk", "id"),)

    pk: int | None = Field(default=None, primary_key=True)
    portfolio_pk: int = Field(sa_column=_fk("portfolio.pk"))
    id: str = Field(max_length=64)
    position: int
    name: str = Field(sa_type=sa.Text)
    budget: float | None = None
    description: str | None = Field(default=None, sa_type=sa.Text)
    version: int = 1

    def to_data(self) -> dict[str, Any]:
        return _without_none(
            {
                "id": self.id,
                "name": self.name,
                "budget": self.budget,
                "description": self.description,
            }
        )

    def set_data(self, data: dict[str, Any]) -> None:
        self.name = data["name"]
        self.budget = data.get("budget")
        self.description = data.get("description")


class Persona(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("portfolio_pk", "id"),)

    pk: int | None = Field(default=None, primary_key=True)
    portfolio_pk: int = Field(sa_column=_fk("portfolio.pk"))
    id: str = Field(max_length=64)
    position: int
    name: str = Field(sa_type=sa.Text)
    description: str | None = Field(default=None, sa_type=sa.Text)
    customers: int | None = Field(default=None, sa_type=sa.BigInteger)
    value_per_customer: float | None = None
    version: int = 1

    def to_data(self) -> dict[str, Any]:
        return _without_none(
            {
                "id": self.id,
                "name": self.name,
                "description": self.description,
                "customers": self.customers,
                "value_per_customer": self.value_per_customer,
            }
        )

    def set_data(self, data: dict[str, Any]) -> None:
        self.name = data["name"]
        self.description = data.get("description")
        self.customers = data.get("customers")
        self.value_per_customer = data.get("value_per_customer")


class Touchpoint(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("portfolio_pk", "id"),)

    pk: int | None = Field(default=None, primary_key=True)
    portfolio_pk: int = Field(sa_column=_fk("portfolio.pk"))
    id: str = Field(max_length=64)
    position: int
    name: str = Field(sa_type=sa.Text)
    department: str = Field(max_length=64)
    channel: str = Field(sa_type=sa.Text)
    current_spend: float
    min_spend: float = 0.0
    max_spend: float
    curve: dict[str, Any] = Field(sa_type=JSON)
    """A curve of the document (`points`, `saturating`, `hill`, `exponential`, `logistic`,
    with its `source`), as the document gives it."""
    observations: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    """The evidence behind the curve (`kpi`, `outcome_at_0`, `outcome_at_1`, `rows`)."""
    description: str | None = Field(default=None, sa_type=sa.Text)
    version: int = 1

    pain_points: list["PainPoint"] = Relationship(
        sa_relationship_kwargs={
            "cascade": "all, delete-orphan",
            "order_by": "PainPoint.position",
            "passive_deletes": True,
        }
    )
    feedback: list["FeedbackNote"] = Relationship(
        sa_relationship_kwargs={
            "cascade": "all, delete-orphan",
            "order_by": "FeedbackNote.position",
            "passive_deletes": True,
        }
    )

    def to_data(self) -> dict[str, Any]:
        return _without_none(
            {
                "id": self.id,
                "name": self.name,
                "department": self.department,
                "channel": self.channel,
                "current_spend": self.current_spend,
                "min_spend": self.min_spend,
                "max_spend": self.max_spend,
                "curve": self.curve,
                "observations": self.observations,
                "description": self.description,
                "pain_points": [PainPoint.to_data(p) for p in self.pain_points],
                "feedback": [FeedbackNote.to_data(f) for f in self.feedback],
            }
        )

    def set_data(self, data: dict[str, Any]) -> None:
        self.name = data["name"]
        self.department = data["department"]
        self.channel = data["channel"]
        self.current_spend = data["current_spend"]
        self.min_spend = data.get("min_spend", 0.0)
        self.max_spend = data["max_spend"]
        self.curve = data["curve"]
        self.observations = data.get("observations")
        self.description = data.get("description")
        self.pain_points = [
            PainPoint(position=i, text=p["text"], severity=p.get("severity", 1))
            for i, p in enumerate(data.get("pain_points", []))
        ]
        self.feedback = [
            FeedbackNote(position=i, text=f["text"], source=f.get("source"), date=f.get("date"))
            for i, f in enumerate(data.get("feedback", []))
        ]


class PainPoint(SQLModel, table=True):
    __tablename__ = "pain_point"

    pk: int | None = Field(default=None, primary_key=True)
    touchpoint_pk: int | None = Field(default=None, sa_column=_fk("touchpoint.pk"))
    position: int
    text: str = Field(sa_type=sa.Text)
    severity: int = 1

    def to_data(self) -> dict[str, Any]:
        return {"text": self.text, "severity": self.severity}


class FeedbackNote(SQLModel, table=True):
    __tablename__ = "feedback_note"

    pk: int | None = Field(default=None, primary_key=True)
    touchpoint_pk: int | None = Field(default=None, sa_column=_fk("touchpoint.pk"))
    position: int
    text: str = Field(sa_type=sa.Text)
    source: str | None = Field(default=None, sa_type=sa.Text)
    date: str | None = Field(default=None, sa_type=sa.Text)

    def to_data(self) -> dict[str, Any]:
        return _without_none({"text": self.text, "source": self.source, "date": self.date})


class Dependency(SQLModel, table=True):
    """Touchpoint `touchpoint` requires touchpoint `requires`."""

    __table_args__ = (sa.UniqueConstraint("portfolio_pk", "touchpoint", "requires"),)

    pk: int | None = Field(default=None, primary_key=True)
    portfolio_pk: int = Field(sa_column=_fk("portfolio.pk"))
    position: int
    touchpoint: str = Field(max_length=64)
    requires: str = Field(max_length=64)
    version: int = 1

    def to_data(self) -> dict[str, Any]:
        return {"touchpoint": self.touchpoint, "requires": self.requires}

    def set_data(self, data: dict[str, Any]) -> None:
        self.touchpoint = data["touchpoint"]
        self.requires = data["requires"]


class Journey(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("portfolio_pk", "id"),)

    pk: int | None = Field(default=None, primary_key=True)
    portfolio_pk: int = Field(sa_column=_fk("portfolio.pk"))
    id: str = Field(max_length=64)
    position: int
    name: str = Field(sa_type=sa.Text)
    persona: str = Field(max_length=64)
    owner: str | None = Field(default=None, sa_type=sa.Text)
    lifecycle: str = Field(default="active", max_length=16)
    value: float
    priority: float = 1.0
    floor: float | None = None
    description: str | None = Field(default=None, sa_type=sa.Text)
    stages: list[str] = Field(default_factory=list, sa_type=JSON)
    version: int = 1

    links: list["JourneyLink"] = Relationship(
        sa_relationship_kwargs={
            "cascade": "all, delete-orphan",
            "order_by": "JourneyLink.position",
            "passive_deletes": True,
        }
    )
    kpis: list["Kpi"] = Relationship(
        sa_relationship_kwargs={
            "cascade": "all, delete-orphan",
            "order_by": "Kpi.position",
            "passive_deletes": True,
        }
    )

    def to_data(self) -> dict[str, Any]:
        return _without_none(
            {
                "id": self.id,
                "name": self.name,
                "persona": self.persona,
                "owner": self.owner,
                "lifecycle": self.lifecycle,
                "value": self.value,
                "priority": self.priority,
                "floor": self.floor,
                "description": self.description,
                "stages": list(self.stages),
                "touchpoints": [JourneyLink.to_data(link) for link in self.links],
                "kpis": [Kpi.to_data(kpi) for kpi in self.kpis],
            }
        )

    def set_data(self, data: dict[str, Any]) -> None:
        """Set the journey's columns, KPIs and links (links kept by touchpoint, so their
        versions survive a journey update that does not change them)."""
        self.name = data["name"]
        self.persona = data["persona"]
        self.owner = data.get("owner")
        self.lifecycle = data.get("lifecycle", "active")
        self.value = data["value"]
        self.priority = data.get("priority", 1.0)
        self.floor = data.get("floor")
        self.description = data.get("description")
        self.stages = list(data.get("stages", []))
        self.kpis = [Kpi.from_data(i, k) for i, k in enumerate(data.get("kpis", []))]
        self.set_links(data["touchpoints"])

    def set_links(self, links: list[dict[str, Any]]) -> None:
        existing = {link.touchpoint: link for link in self.links}
        rows = []
        for position, data in enumerate(links):
            row = existing.get(data["touchpoint"]) or JourneyLink(touchpoint=data["touchpoint"])
            before = row.to_data() if row.pk is not None else None
            row.position = position
            row.set_data(data)
            if before is not None and before != row.to_data():
                row.version += 1
            rows.append(row)
        self.links = rows


class JourneyLink(SQLModel, table=True):
    """Where a journey meets a touchpoint (one per journey and touchpoint)."""

    __tablename__ = "journey_link"
    __table_args__ = (sa.UniqueConstraint("journey_pk", "touchpoint"),)

    pk: int | None = Field(default=None, primary_key=True)
    journey_pk: int | None = Field(default=None, sa_column=_fk("journey.pk"))
    position: int = 0
    touchpoint: str = Field(max_length=64)
    stage: str | None = Field(default=None, sa_type=sa.Text)
    weight: float = 1.0
    critical: bool = False
    emotion: float | None = None
    version: int = 1

    def to_data(self) -> dict[str, Any]:
        return _without_none(
            {
                "touchpoint": self.touchpoint,
                "stage": self.stage,
                "weight": self.weight,
                "critical": self.critical,
                "emotion": self.emotion,
            }
        )

    def set_data(self, data: dict[str, Any]) -> None:
        self.stage = data.get("stage")
        self.weight = data.get("weight", 1.0)
        self.critical = data.get("critical", False)
        self.emotion = data.get("emotion")


class Kpi(SQLModel, table=True):
    pk: int | None = Field(default=None, primary_key=True)
    journey_pk: int | None = Field(default=None, sa_column=_fk("journey.pk"))
    position: int
    name: str = Field(sa_type=sa.Text)
    unit: str = Field(default="", sa_type=sa.Text)
    target: float | None = None
    higher_is_better: bool = True

    actuals: list["KpiActual"] = Relationship(
        sa_relationship_kwargs={
            "cascade": "all, delete-orphan",
            "order_by": "KpiActual.position",
            "passive_deletes": True,
        }
    )

    @classmethod
    def from_data(cls, position: int, data: dict[str, Any]) -> "Kpi":
        kpi = cls(
            position=position,
            name=data["name"],
            unit=data.get("unit", ""),
            target=data.get("target"),
            higher_is_better=data.get("higher_is_better", True),
        )
        kpi.actuals = [
            KpiActual(position=i, period=a["period"], value=a["value"])
            for i, a in enumerate(data.get("actuals", []))
        ]
        return kpi

    def to_data(self) -> dict[str, Any]:
        return _without_none(
            {
                "name": self.name,
                "unit": self.unit,
                "target": self.target,
                "higher_is_better": self.higher_is_better,
                "actuals": [KpiActual.to_data(a) for a in self.actuals],
            }
        )


class KpiActual(SQLModel, table=True):
    """A KPI's measured value for one period (a label: "2026-Q4", "2026-07")."""

    __tablename__ = "kpi_actual"

    pk: int | None = Field(default=None, primary_key=True)
    kpi_pk: int | None = Field(default=None, sa_column=_fk("kpi.pk"))
    position: int
    period: str = Field(sa_type=sa.Text)
    value: float

    def to_data(self) -> dict[str, Any]:
        return {"period": self.period, "value": self.value}


class Scenario(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("portfolio_pk", "id"),)

    pk: int | None = Field(default=None, primary_key=True)
    portfolio_pk: int = Field(sa_column=_fk("portfolio.pk"))
    id: str = Field(max_length=64)
    position: int
    name: str = Field(sa_type=sa.Text)
    description: str | None = Field(default=None, sa_type=sa.Text)
    budget: float | None = None
    pooled: bool = False
    mode: str = Field(default="max_value", max_length=32)
    priorities: dict[str, float] = Field(default_factory=dict, sa_type=JSON)
    floors: dict[str, float | None] = Field(default_factory=dict, sa_type=JSON)
    locks: dict[str, float] = Field(default_factory=dict, sa_type=JSON)
    exclude: list[str] = Field(default_factory=list, sa_type=JSON)
    departments: dict[str, float | None] = Field(default_factory=dict, sa_type=JSON)
    launch: list[str] | None = Field(default_factory=list, sa_type=JSON)
    """Idea journeys the scenario launches (None in rows stored before 0004: none)."""
    version: int = 1

    def to_data(self) -> dict[str, Any]:
        data = _without_none(
            {
                "id": self.id,
                "name": self.name,
                "description": self.description,
                "budget": self.budget,
                "pooled": self.pooled,
                "mode": self.mode,
            }
        )
        # null values inside these maps mean something ("no floor", "no cap"): keep them.
        data |= {
            "priorities": dict(self.priorities),
            "floors": dict(self.floors),
            "locks": dict(self.locks),
            "exclude": list(self.exclude),
            "departments": dict(self.departments),
            "launch": list(self.launch or []),
        }
        return data

    def set_data(self, data: dict[str, Any]) -> None:
        self.name = data["name"]
        self.description = data.get("description")
        self.budget = data.get("budget")
        self.pooled = data.get("pooled", False)
        self.mode = data.get("mode", "max_value")
        self.priorities = dict(data.get("priorities", {}))
        self.floors = dict(data.get("floors", {}))
        self.locks = dict(data.get("locks", {}))
        self.exclude = list(data.get("exclude", []))
        self.departments = dict(data.get("departments", {}))
        self.launch = list(data.get("launch", []))


class Run(SQLModel, table=True):
    """One optimization run: the resolved input and the run JSON, stored together, never
    changed afterwards."""

    __table_args__ = (
        sa.UniqueConstraint("portfolio_pk", "number", name="uq_run_portfolio_pk_number"),
        # An unchanged scenario finds its stored run by the input's SHA-256.
        sa.Index("ix_run_portfolio_input", "portfolio_pk", "input_sha256"),
    )

    pk: int | None = Field(default=None, primary_key=True)
    id: str = Field(max_length=64, unique=True)
    portfolio_pk: int = Field(sa_column=_fk("portfolio.pk"))
    number: int
    """1, 2, 3... per portfolio, in the order the runs were made (file names, people)."""
    portfolio_version: int
    """The portfolio's version the run was computed on."""
    scenario_id: str | None = Field(default=None, max_length=64)
    status: str = Field(max_length=16)
    mode: str = Field(max_length=32)
    input_json: str = Field(sa_type=sa.Text)
    """Canonical JSON of {"document", "scenario", "overrides"}: everything the run used."""
    input_sha256: str = Field(max_length=64)
    result_json: str = Field(sa_type=sa.Text)
    result_sha256: str = Field(max_length=64)
    value: float
    weighted_value: float
    objective: float
    spend: float
    created_at: datetime = _timestamp()
    created_by: str = Field(sa_type=sa.Text)


class PlanApproval(SQLModel, table=True):
    """A run approved as its portfolio's plan of record; the latest one is the plan."""

    __tablename__ = "plan_approval"

    pk: int | None = Field(default=None, primary_key=True)
    portfolio_pk: int = Field(sa_column=_fk("portfolio.pk"))
    run_pk: int = Field(sa_column=_fk("run.pk"))
    note: str | None = Field(default=None, sa_type=sa.Text)
    approved_at: datetime = _timestamp()
    approved_by: str = Field(sa_type=sa.Text)


class ApiKey(SQLModel, table=True):
    """An API key: only its SHA-256 is stored; the key itself is shown once."""

    __tablename__ = "api_key"

    pk: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=sa.Text)
    role: str = Field(max_length=16)
    owner: str | None = Field(default=None, sa_type=sa.Text)
    """The e-mail address of a journey owner (role `owner`): the journeys they may change."""
    key_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16)
    created_at: datetime = _timestamp()
    revoked_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))


class AuditEvent(SQLModel, table=True):
    """Who changed what, when, before and after. Kept when the portfolio is deleted."""

    __tablename__ = "audit_event"
    __table_args__ = (sa.Index("ix_audit_event_portfolio", "portfolio_id", "pk"),)

    pk: int | None = Field(default=None, primary_key=True)
    portfolio_id: str = Field(max_length=64)
    at: datetime = _timestamp()
    actor: str = Field(sa_type=sa.Text)
    role: str = Field(max_length=16)
    action: str = Field(max_length=16)
    entity: str = Field(max_length=32)
    entity_id: str = Field(sa_type=sa.Text)
    before: Any = Field(default=None, sa_type=JSON, nullable=True)
    after: Any = Field(default=None, sa_type=JSON, nullable=True)


class IdempotencyRecord(SQLModel, table=True):
    """The response to a create request carrying an `Idempotency-Key`, replayed on retry."""

    __tablename__ = "idempotency_record"
    __table_args__ = (sa.UniqueConstraint("api_key_pk", "key"),)

    pk: int | None = Field(default=None, primary_key=True)
    api_key_pk: int = Field(sa_column=_fk("api_key.pk"))
    key: str = Field(max_length=255)
    method: str = Field(max_length=8)
    path: str = Field(sa_type=sa.Text)
    fingerprint: str = Field(max_length=64)
    status_code: int
    body: str = Field(sa_type=sa.Text)
    headers: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=sa.DateTime(timezone=True), index=True
    )


class Job(SQLModel, table=True):
    """Long work done by a worker (backend/jobs.py): a run, a frontier, a robustness analysis
    or a bridge. The input (portfolio document, scenario, overrides, parameters) and its
    SHA-256 are stored when a worker starts it, the result and its SHA-256 when it ends."""

    __table_args__ = (
        sa.Index("ix_job_portfolio", "portfolio_pk", "pk"),
        sa.Index("ix_job_status", "status", "heartbeat_at"),
    )

    pk: int | None = Field(default=None, primary_key=True)
    id: str = Field(max_length=64, unique=True)
    portfolio_pk: int = Field(sa_column=_fk("portfolio.pk"))
    kind: str = Field(max_length=16)
    status: str = Field(max_length=16)
    """queued, running, done, failed or cancelled."""
    progress: float = 0.0
    message: str = Field(default="", sa_type=sa.Text)
    parameters: Any = Field(default=None, sa_type=JSON, nullable=True)
    """The request's body (kind and parameters), as given."""
    requested_by: Any = Field(default=None, sa_type=JSON, nullable=True)
    """The caller who asked (key, name, role, owner): the worker acts for them."""
    portfolio_version: int | None = None
    """The portfolio's version the job computed on (when a worker read it)."""
    input_json: str | None = Field(default=None, sa_type=sa.Text)
    input_sha256: str | None = Field(default=None, max_length=64)
    result_json: str | None = Field(default=None, sa_type=sa.Text)
    result_sha256: str | None = Field(default=None, max_length=64)
    run_id: str | None = Field(default=None, max_length=64)
    """The stored run of a `run` job."""
    error: Any = Field(default=None, sa_type=JSON, nullable=True)
    """The RFC 9457 problem of a failed job."""
    attempts: int = 0
    """Times a worker started it (a job whose worker died is started again, up to a limit)."""
    cancel_requested: bool = False
    worker: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = _timestamp()
    created_by: str = Field(sa_type=sa.Text)
    started_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    heartbeat_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    finished_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))


# =========================================================================== API schemas


class Strict(BaseModel):
    """Request bodies: unknown keys and wrong types are errors, nothing is guessed."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Out(BaseModel):
    """Response bodies."""

    model_config = ConfigDict(extra="forbid")


class Page[T](Out):
    items: list[T]
    total: int
    """How many items there are in all (not only on this page)."""
    offset: int
    limit: int


Version = Annotated[int, PydanticField(description="Increases with every change; the ETag.")]


def Nullable() -> Any:  # noqa: N802 - reads like a default value
    return PydanticField(default=None, description="Give null to remove the value.")


def Omittable() -> Any:  # noqa: N802 - reads like a default value
    """A field an update may leave out (kept as it is) but never set to null: its type has no
    None, so pydantic refuses an explicit null, and the routes read only the fields given
    (`exclude_unset`). Typed Any, like `Nullable`, because the default stands for "not given"."""
    return PydanticField(default=None)


# ------------------------------------------------------------------ portfolios


class PortfolioUpdate(Strict):
    name: doc.Text = Omittable()
    currency: Annotated[str, PydanticField(pattern=r"^[A-Z]{3}$")] = Omittable()
    period: doc.Period = Omittable()
    description: doc.Description | None = Nullable()
    budget: doc.Money = Omittable()


class PortfolioPublic(Out):
    id: str
    name: str
    currency: str
    period: str
    description: str | None
    budget: float
    version: Version
    created_at: datetime
    updated_at: datetime
    created_by: str
    departments: int
    personas: int
    touchpoints: int
    journeys: int
    scenarios: int
    approved_run_id: str | None
    """The run approved as the plan of record, if any."""


# ------------------------------------------------------------------ entities


class DepartmentCreate(doc.Department):
    """A department (budget pool): `budget` is its optional cap for the period."""


class DepartmentUpdate(Strict):
    name: doc.Text = Omittable()
    budget: doc.Money | None = Nullable()
    description: doc.Description | None = Nullable()


class DepartmentPublic(doc.Department):
    model_config = ConfigDict(strict=False, frozen=False)
    version: Version


class PersonaCreate(doc.Persona):
    """A persona (customer segment)."""


class PersonaUpdate(Strict):
    name: doc.Text = Omittable()
    description: doc.Description | None = Nullable()
    customers: Annotated[int, PydanticField(ge=0)] | None = Nullable()
    value_per_customer: doc.Money | None = Nullable()


class PersonaPublic(doc.Persona):
    model_config = ConfigDict(strict=False, frozen=False)
    version: Version


class TouchpointCreate(doc.Touchpoint):
    """A touchpoint, shared by any number of journeys."""


class TouchpointUpdate(Strict):
    name: doc.Text = Omittable()
    department: doc.Slug = Omittable()
    channel: doc.Channel = Omittable()
    current_spend: doc.Money = Omittable()
    min_spend: doc.Money = Omittable()
    max_spend: doc.Money = Omittable()
    curve: doc.Curve = Omittable()
    observations: doc.Observations | None = Nullable()
    description: doc.Description | None = Nullable()
    pain_points: Annotated[list[doc.PainPoint], PydanticField(max_length=doc.MAX_PAIN_POINTS)] = (
        Omittable()
    )
    feedback: Annotated[list[doc.FeedbackNote], PydanticField(max_length=doc.MAX_FEEDBACK)] = (
        Omittable()
    )


class TouchpointPublic(doc.Touchpoint):
    model_config = ConfigDict(strict=False, frozen=False)
    version: Version


class DependencyCreate(doc.Dependency):
    """Touchpoint `touchpoint` requires touchpoint `requires` (it is never better than it)."""


class DependencyUpdate(Strict):
    touchpoint: doc.Slug = Omittable()
    requires: doc.Slug = Omittable()


class DependencyPublic(doc.Dependency):
    model_config = ConfigDict(strict=False, frozen=False)
    version: Version


class JourneyCreate(doc.Journey):
    """A journey (the product) with its touchpoint links and KPIs."""


class JourneyUpdate(Strict):
    name: doc.Text = Omittable()
    persona: doc.Slug = Omittable()
    owner: doc.Label | None = Nullable()
    lifecycle: doc.Lifecycle = Omittable()
    value: doc.Money = Omittable()
    priority: doc.Priority = Omittable()
    floor: doc.Quality | None = Nullable()
    description: doc.Description | None = Nullable()
    stages: Annotated[list[doc.Text], PydanticField(max_length=doc.MAX_STAGES)] = Omittable()
    touchpoints: Annotated[list[doc.JourneyLink], PydanticField(min_length=1)] = Omittable()
    kpis: Annotated[list[doc.Kpi], PydanticField(max_length=doc.MAX_KPIS)] = Omittable()


class JourneyPublic(doc.Journey):
    model_config = ConfigDict(strict=False, frozen=False)
    version: Version


class LinkCreate(doc.JourneyLink):
    """Where the journey meets a touchpoint."""


class LinkUpdate(Strict):
    stage: doc.Label | None = Nullable()
    weight: doc.Weight = Omittable()
    critical: bool = Omittable()
    emotion: Annotated[float, PydanticField(ge=-2, le=2)] | None = Nullable()


class LinkPublic(doc.JourneyLink):
    model_config = ConfigDict(strict=False, frozen=False)
    journey: str
    version: Version


class ScenarioCreate(doc.Scenario):
    """A named set of overrides on the portfolio."""


class ScenarioUpdate(Strict):
    name: doc.Text = Omittable()
    description: doc.Description | None = Nullable()
    budget: doc.Money | None = Nullable()
    pooled: bool = Omittable()
    mode: doc.Mode = Omittable()
    priorities: dict[str, doc.Priority] = Omittable()
    floors: dict[str, doc.Quality | None] = Omittable()
    locks: dict[str, doc.Money] = Omittable()
    exclude: list[str] = Omittable()
    departments: dict[str, doc.Money | None] = Omittable()
    launch: list[str] = Omittable()


class ScenarioPublic(doc.Scenario):
    model_config = ConfigDict(strict=False, frozen=False)
    version: Version


# ------------------------------------------------------------------ runs


class RunCreate(Strict):
    """Run a scenario (or the portfolio as planned) with optional ad-hoc overrides on top."""

    scenario: doc.Slug | None = None
    budget: doc.Money | None = None
    pooled: bool | None = None
    mode: doc.Mode | None = None
    priorities: dict[str, doc.Priority] | None = None
    floors: dict[str, doc.Quality | None] | None = None
    locks: dict[str, doc.Money] | None = None
    exclude: list[str] | None = None
    departments: dict[str, doc.Money | None] | None = None
    launch: list[str] | None = None


class RunInfo(Out):
    run_id: str
    number: int
    """The run's number within its portfolio: 1, 2, 3... in the order runs were made."""
    created_at: datetime
    created_by: str
    input_sha256: str
    """SHA-256 of the stored input (canonical JSON of document, scenario and overrides)."""
    result_sha256: str
    portfolio_version: int
    approved: bool
    """Whether this run is the portfolio's current plan of record."""


class RunPublic(RunResult, RunInfo):
    """The run JSON (shared/run-result.md) plus where it is kept."""


class RunSummary(RunInfo):
    portfolio_id: str
    scenario_id: str | None
    status: str
    mode: str
    value: float
    weighted_value: float
    objective: float
    spend: float


class RunInput(Out):
    """Everything a run used: the portfolio document as it was, the scenario and overrides."""

    input_sha256: str
    document: dict[str, Any]
    scenario: str | None
    overrides: dict[str, Any] | None


class ApproveRequest(Strict):
    note: (
        Annotated[str, PydanticField(max_length=doc.NOTE_MAX), AfterValidator(doc.free_text)] | None
    ) = None


class PlanTouchpoint(Out):
    id: str
    name: str
    department: str
    channel: str
    spend: float
    current_spend: float
    change: float


class PlanDepartment(Out):
    id: str
    name: str
    spend: float
    current_spend: float
    cap: float | None


class PlanPublic(Out):
    """The plan of record: the approved run's allocation, for finance."""

    portfolio_id: str
    run_id: str
    scenario_id: str | None
    approved_at: datetime
    approved_by: str
    note: str | None
    input_sha256: str
    currency: str
    status: str
    value: float
    spend: float
    budget: float
    unallocated: float
    touchpoints: list[PlanTouchpoint]
    departments: list[PlanDepartment]


# ------------------------------------------------------------------ compare


class CompareRun(Out):
    run_id: str
    number: int
    scenario_id: str | None
    status: str
    mode: str
    created_at: datetime
    budget: float
    value: float
    weighted_value: float
    objective: float
    spend: float
    unallocated: float
    price_of_silos: float
    """Priority-weighted: optimum weighted value minus silo weighted value."""
    price_of_silos_value: float
    """Money: optimum value minus silo value, same budget."""


class CompareRow(Out):
    """One touchpoint, department or journey across the runs (null where a run lacks it);
    deltas are against the first run."""

    id: str
    name: str
    spend: list[float | None]
    spend_delta: list[float | None]
    quality: list[float | None] | None = None
    quality_delta: list[float | None] | None = None
    value: list[float | None] | None = None
    value_delta: list[float | None] | None = None


class ComparePublic(Out):
    portfolio_id: str
    currency: str
    runs: list[CompareRun]
    touchpoints: list[CompareRow]
    departments: list[CompareRow]
    journeys: list[CompareRow]


# ------------------------------------------------------------------ curves from evidence


class ObservationsUpdate(doc.Observations):
    """A touchpoint's observations: a row per period with the spend and the outcome of the
    KPI `kpi`; `outcome_at_0` and `outcome_at_1` are the outcome values that mean quality 0
    and 1 (without them the outcome is a quality). Replaces the rows there were."""


class ObservationsPublic(doc.Observations):
    model_config = ConfigDict(strict=False, frozen=False)
    touchpoint: str
    version: Version
    """The touchpoint's version (its ETag): observations are part of the touchpoint."""


FitFormChoice = Literal["auto", "saturating", "hill", "exponential", "logistic"]


class FitRequest(Strict):
    form: FitFormChoice = PydanticField(
        default="auto",
        description="The curve form to fit; `auto` fits every concave form and keeps the "
        "smallest AICc.",
    )


class FitPoint(Out):
    """An observation on the curve's scale: its outcome as a quality."""

    period: str
    spend: float
    outcome: float
    quality: float


class FitUncertainty(Out):
    parameters: list[str]
    """The names of theta, the parameters of the covariance (rate and shape as logs)."""
    covariance: list[list[float]]
    standard_errors: dict[str, float]
    """Of the curve's own parameters (delta method for a rate and a shape)."""


class BandPublic(Out):
    """Quality at a grid of spends: the fitted curve and the band of curves drawn from its
    parameters' covariance (`level` of the draws inside, the curve always inside)."""

    level: float
    draws: int
    spend: list[float]
    curve: list[float]
    low: list[float]
    high: list[float]


class FitPublic(Out):
    touchpoint: str
    form: Literal["saturating", "hill", "exponential", "logistic"]
    curve: doc.Curve
    """A curve of the document with its source (`fit`, date, n, uncertainty): what
    `.../curve/accept` takes."""
    r2: float
    rmse: float
    """Root mean square residual, in quality."""
    n: int
    aicc: float | None
    """None when there are too few observations for the form's parameters."""
    compared: dict[str, float | None]
    """AICc of every form tried (`auto`), smaller is better."""
    uncertainty: FitUncertainty
    warnings: list[str]
    kpi: str | None
    outcome_at_0: float | None
    outcome_at_1: float | None
    points: list[FitPoint]
    band: BandPublic

    @field_serializer("curve")
    def _curve(self, curve: doc.Curve) -> dict[str, Any]:
        # the curve as the document writes it: only its form and source, no null forms
        dumped: dict[str, Any] = curve.model_dump(mode="json", exclude_none=True)
        return dumped


class CallerPublic(Out):
    """Who the API key belongs to and what it may do."""

    name: str
    role: Literal["admin", "planner", "owner", "viewer"]
    owner: str | None
    """The e-mail of a journey owner (role `owner`)."""
    can_accept_curves: bool
    """Planners and admins accept a fitted or imported curve as a touchpoint's curve."""


# ------------------------------------------------------------------ audit, health


class AuditPublic(Out):
    id: int
    portfolio_id: str
    at: datetime
    actor: str
    role: str
    action: Literal[
        "create",
        "update",
        "delete",
        "import",
        "replace",
        "run",
        "approve",
        "job",
        "cancel",
        "accept",
    ]
    entity: str
    entity_id: str
    before: Any
    after: Any


class Health(Out):
    status: Literal["ok"]
    database: str
    version: str


# ------------------------------------------------------------------ jobs


class RunJobCreate(RunCreate):
    """A run on the task queue: the same body as POST .../runs."""

    kind: Literal["run"]


class FrontierJobCreate(RunCreate):
    """The optimal value at `points` budgets (journeyfolio frontier)."""

    kind: Literal["frontier"]
    points: Annotated[int, PydanticField(ge=1, le=200)] = 25
    low: doc.Money | None = None
    """Least budget (default: what the scenario needs, at least half its budget)."""
    high: doc.Money | None = None
    """Largest budget (default: twice the budget, at most what every touchpoint takes)."""


class RobustnessJobCreate(RunCreate):
    """Value spread of the optimal, silo and current allocations (journeyfolio robustness)."""

    kind: Literal["robustness"]
    samples: Annotated[int, PydanticField(ge=1, le=100_000)] = 1000
    spread: Annotated[float, PydanticField(ge=0, le=0.95)] = 0.2
    seed: Annotated[int, PydanticField(ge=0, le=2**32 - 1)] = 0


class BridgeJobCreate(Strict):
    """A value bridge: between two stored runs (`from`, `to`), or without them the portfolio
    as planned -> pooled -> pooled with `percent` % more budget."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)
    kind: Literal["bridge"]
    from_: Annotated[str | None, PydanticField(alias="from", min_length=1, max_length=64)] = None
    to: Annotated[str | None, PydanticField(min_length=1, max_length=64)] = None
    percent: Annotated[float, PydanticField(gt=0, le=100)] = 10.0


JobCreate = Annotated[
    RunJobCreate | FrontierJobCreate | RobustnessJobCreate | BridgeJobCreate,
    PydanticField(discriminator="kind"),
]

JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]


class JobSummary(Out):
    job_id: str
    portfolio_id: str
    kind: Literal["run", "frontier", "robustness", "bridge"]
    status: JobStatus
    progress: float
    """Share of the work done, in [0, 1]."""
    message: str
    parameters: dict[str, Any]
    attempts: int
    cancel_requested: bool
    created_at: datetime
    created_by: str
    started_at: datetime | None
    finished_at: datetime | None
    portfolio_version: int | None
    input_sha256: str | None
    """SHA-256 of the stored input (document, scenario, overrides, parameters)."""
    result_sha256: str | None
    run_id: str | None
    """The run a `run` job stored (GET /runs/{run_id})."""
    links: dict[str, str]


class JobProblem(Out):
    """An RFC 9457 problem: why the job failed."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[dict[str, Any]] = []


class JobPublic(JobSummary):
    result: Any
    """The result when done: the frontier, robustness or bridge JSON; for a run, the run's
    summary (the full run at links.run)."""
    error: JobProblem | None
