"""runs get a per-portfolio number; runs are found by their input's SHA-256

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 12:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("number", sa.Integer(), nullable=True))
    # Existing runs are numbered 1, 2, 3... per portfolio in the order they were made
    # (the primary key breaks ties of equal timestamps).
    op.execute(
        """
        UPDATE run SET number = (
            SELECT COUNT(*) FROM run AS earlier
            WHERE earlier.portfolio_pk = run.portfolio_pk
              AND (earlier.created_at < run.created_at
                   OR (earlier.created_at = run.created_at AND earlier.pk <= run.pk))
        )
        """
    )
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.alter_column("number", existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint("uq_run_portfolio_pk_number", ["portfolio_pk", "number"])
        batch_op.create_index("ix_run_portfolio_input", ["portfolio_pk", "input_sha256"])


def downgrade() -> None:
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.drop_index("ix_run_portfolio_input")
        batch_op.drop_constraint("uq_run_portfolio_pk_number", type_="unique")
        batch_op.drop_column("number")
