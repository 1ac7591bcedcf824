"""initial schema

Revision ID: 0001
Revises: -
Create Date: 2026-11-23 15:48:07.289969
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_key",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("owner", sa.Text(), nullable=True),
        sa.Column("key_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("prefix", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("pk"),
        sa.UniqueConstraint("key_hash"),
    )
    op.create_table(
        "audit_event",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("portfolio_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("entity", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("entity_id", sa.Text(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("pk"),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index("ix_audit_event_portfolio", ["portfolio_id", "pk"], unique=False)

    op.create_table(
        "portfolio",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("period", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("budget", sa.Float(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("pk"),
        sa.UniqueConstraint("id"),
    )
    op.create_table(
        "department",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("portfolio_pk", sa.Integer(), nullable=False),
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("budget", sa.Float(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["portfolio_pk"], ["portfolio.pk"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pk"),
        sa.UniqueConstraint("portfolio_pk", "id"),
    )
    with op.batch_alter_table("department", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_department_portfolio_pk"), ["portfolio_pk"], unique=False
        )

    op.create_table(
        "dependency",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("portfolio_pk", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("touchpoint", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("requires", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["portfolio_pk"], ["portfolio.pk"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pk"),
        sa.UniqueConstraint("portfolio_pk", "touchpoint", "requires"),
    )
    with op.batch_alter_table("dependency", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dependency_portfolio_pk"), ["portfolio_pk"], unique=False
        )

    op.create_table(
        "idempotency_record",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("api_key_pk", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("method", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["api_key_pk"], ["api_key.pk"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pk"),
        sa.UniqueConstraint("api_key_pk", "key"),
    )
    with op.batch_alter_table("idempotency_record", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_idempotency_record_api_key_pk"), ["api_key_pk"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_idempotency_record_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "journey",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("portfolio_pk", sa.Integer(), nullable=False),
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("persona", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("owner", sa.Text(), nullable=True),
        sa.Column("lifecycle", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("priority", sa.Float(), nullable=False),
        sa.Column("floor", sa.Float(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("stages", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["portfolio_pk"], ["portfolio.pk"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pk"),
        sa.UniqueConstraint("portfolio_pk", "id"),
    )
    with op.batch_alter_table("journey", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_journey_portfolio_pk"), ["portfolio_pk"], unique=False)

    op.create_table(
        "persona",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("portfolio_pk", sa.Integer(), nullable=False),
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("customers", sa.BigInteger(), nullable=True),
        sa.Column("value_per_customer", sa.Float(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["portfolio_pk"], ["portfolio.pk"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pk"),
        sa.UniqueConstraint("portfolio_pk", "id"),
    )
    with op.batch_alter_table("persona", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_persona_portfolio_pk"), ["portfolio_pk"], unique=False)

    op.create_table(
        "run",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("portfolio_pk", sa.Integer(), nullable=False),
        sa.Column("portfolio_version", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("mode", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("input_json", sa.Text(), nullable=False),
        sa.Column("input_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("result_json", sa.Text(), nullable=False),
        sa.Column("result_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("weighted_value", sa.Float(), nullable=False),
        sa.Column("objective", sa.Float(), nullable=False),
        sa.Column("spend", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["portfolio_pk"], ["portfolio.pk"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pk"),
        sa.UniqueConstraint("id"),
    )
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_run_portfolio_pk"), ["portfolio_pk"], unique=False)

    op.create_table(
        "scenario",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("portfolio_pk", sa.Integer(), nullable=False),
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("budget", sa.Float(), nullable=True),
        sa.Column("pooled", sa.Boolean(), nullable=False),
        sa.Column("mode", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("priorities", sa.JSON(), nullable=False),
        sa.Column("floors", sa.JSON(), nullable=False),
        sa.Column("locks", sa.JSON(), nullable=False),
        sa.Column("exclude", sa.JSON(), nullable=False),
        sa.Column("departments", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["portfolio_pk"], ["portfolio.pk"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pk"),
        sa.UniqueConstraint("portfolio_pk", "id"),
    )
    with op.batch_alter_table("scenario", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scenario_portfolio_pk"), ["portfolio_pk"], unique=False
        )

    op.create_table(
        "touchpoint",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("portfolio_pk", sa.Integer(), nullable=False),
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("department", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("current_spend", sa.Float(), nullable=False),
        sa.Column("min_spend", sa.Float(), nullable=False),
        sa.Column("max_spend", sa.Float(), nullable=False),
        sa.Column("curve", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["portfolio_pk"], ["portfolio.pk"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pk"),
        sa.UniqueConstraint("portfolio_pk", "id"),
    )
    with op.batch_alter_table("touchpoint", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_touchpoint_portfolio_pk"), ["portfolio_pk"], unique=False
        )

    op.create_table(
        "feedback_note",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("touchpoint_pk", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("date", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["touchpoint_pk"], ["touchpoint.pk"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pk"),
    )
    with op.batch_alter_table("feedback_note", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_feedback_note_touchpoint_pk"), ["touchpoint_pk"], unique=False
        )

    op.create_table(
        "journey_link",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("journey_pk", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("touchpoint", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("stage", sa.Text(), nullable=True),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("critical", sa.Boolean(), nullable=False),
        sa.Column("emotion", sa.Float(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["journey_pk"], ["journey.pk"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pk"),
        sa.UniqueConstraint("journey_pk", "touchpoint"),
    )
    with op.batch_alter_table("journey_link", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_journey_link_journey_pk"), ["journey_pk"], unique=False
        )

    op.create_table(
        "kpi",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("journey_pk", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("target", sa.Float(), nullable=True),
        sa.Column("higher_is_better", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["journey_pk"], ["journey.pk"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pk"),
    )
    with op.batch_alter_table("kpi", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kpi_journey_pk"), ["journey_pk"], unique=False)

    op.create_table(
        "pain_point",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("touchpoint_pk", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["touchpoint_pk"], ["touchpoint.pk"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pk"),
    )
    with op.batch_alter_table("pain_point", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pain_point_touchpoint_pk"), ["touchpoint_pk"], unique=False
        )

    op.create_table(
        "plan_approval",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("portfolio_pk", sa.Integer(), nullable=False),
        sa.Column("run_pk", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["portfolio_pk"], ["portfolio.pk"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["run_pk"], ["run.pk"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pk"),
    )
    with op.batch_alter_table("plan_approval", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_plan_approval_portfolio_pk"), ["portfolio_pk"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_plan_approval_run_pk"), ["run_pk"], unique=False)

    op.create_table(
        "kpi_actual",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("kpi_pk", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("period", sa.Text(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["kpi_pk"], ["kpi.pk"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pk"),
    )
    with op.batch_alter_table("kpi_actual", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kpi_actual_kpi_pk"), ["kpi_pk"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("kpi_actual", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kpi_actual_kpi_pk"))

    op.drop_table("kpi_actual")
    with op.batch_alter_table("plan_approval", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_approval_run_pk"))
        batch_op.drop_index(batch_op.f("ix_plan_approval_portfolio_pk"))

    op.drop_table("plan_approval")
    with op.batch_alter_table("pain_point", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pain_point_touchpoint_pk"))

    op.drop_table("pain_point")
    with op.batch_alter_table("kpi", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kpi_journey_pk"))

    op.drop_table("kpi")
    with op.batch_alter_table("journey_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journey_link_journey_pk"))

    op.drop_table("journey_link")
    with op.batch_alter_table("feedback_note", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_note_touchpoint_pk"))

    op.drop_table("feedback_note")
    with op.batch_alter_table("touchpoint", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_touchpoint_portfolio_pk"))

    op.drop_table("touchpoint")
    with op.batch_alter_table("scenario", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scenario_portfolio_pk"))

    op.drop_table("scenario")
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_run_portfolio_pk"))

    op.drop_table("run")
    with op.batch_alter_table("persona", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_persona_portfolio_pk"))

    op.drop_table("persona")
    with op.batch_alter_table("journey", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journey_portfolio_pk"))

    op.drop_table("journey")
    with op.batch_alter_table("idempotency_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_record_created_at"))
        batch_op.drop_index(batch_op.f("ix_idempotency_record_api_key_pk"))

    op.drop_table("idempotency_record")
    with op.batch_alter_table("dependency", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dependency_portfolio_pk"))

    op.drop_table("dependency")
    with op.batch_alter_table("department", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_department_portfolio_pk"))

    op.drop_table("department")
    op.drop_table("portfolio")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_portfolio")

    op.drop_table("audit_event")
    op.drop_table("api_key")
