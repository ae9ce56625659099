"""plan triggers forecast error contract sites

Revision ID: 812df17c4604
Revises: 0289880e6829
Create Date: 2026-11-25 18:50:48.125113+00:00

* ``demand_plan_trigger``: one supply plan per demand plan version, however often its
  ``demand.plan.changed`` event is published;
* ``supply_plan_forecast_error``: the demand plan's σ per item-site a plan used (the
  constrained recompute gives statistical item-sites the same safety stock);
* ``supply_plan_exception.sites``: the purchasing sites of a contract exception.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "812df17c4604"
down_revision: str | None = "0289880e6829"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "demand_plan_trigger",
        sa.Column("cycle", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("scenario", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("demand_plan_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("demand_plan_version", sa.Integer(), nullable=False),
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "cycle",
            "scenario",
            "demand_plan_id",
            "demand_plan_version",
            name=op.f("pk_demand_plan_trigger"),
        ),
    )
    op.create_table(
        "supply_plan_forecast_error",
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("product", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("site", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("forecast_sigma", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "plan_id", "product", "site", name=op.f("pk_supply_plan_forecast_error")
        ),
    )
    with op.batch_alter_table("supply_plan_exception", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sites", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("supply_plan_exception", schema=None) as batch_op:
        batch_op.drop_column("sites")

    op.drop_table("supply_plan_forecast_error")
    op.drop_table("demand_plan_trigger")
