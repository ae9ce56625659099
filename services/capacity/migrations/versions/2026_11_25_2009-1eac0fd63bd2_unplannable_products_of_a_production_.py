"""unplannable products of a production plan

Revision ID: 1eac0fd63bd2
Revises: b08860f0189e
Create Date: 2026-11-25 20:09:13.809356+00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "1eac0fd63bd2"
down_revision: str | None = "b08860f0189e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Product-sites a plan could not make at all (no usable method) and why; plans written
    # before this revision failed instead, so there is nothing to backfill.
    op.create_table(
        "production_plan_unplannable",
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("product", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("site", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("requirement", sa.Float(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["production_plan.id"],
            name=op.f("fk_production_plan_unplannable_plan_id_production_plan"),
        ),
        sa.PrimaryKeyConstraint(
            "plan_id", "product", "site", name=op.f("pk_production_plan_unplannable")
        ),
    )


def downgrade() -> None:
    op.drop_table("production_plan_unplannable")
