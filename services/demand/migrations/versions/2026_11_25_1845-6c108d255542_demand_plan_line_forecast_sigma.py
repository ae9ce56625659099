"""demand plan line forecast sigma

Revision ID: 6c108d255542
Revises: 7333f83f623a
Create Date: 2026-11-25 18:45:34.121677+00:00

Adds ``demand_plan_line.forecast_sigma`` (nullable): the standard deviation of the monthly
forecast error of the line, for supply's statistical safety stock. Lines written before this
revision keep NULL (no σ known); a new plan version computes it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6c108d255542"
down_revision: str | None = "7333f83f623a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("demand_plan_line", schema=None) as batch_op:
        batch_op.add_column(sa.Column("forecast_sigma", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("demand_plan_line", schema=None) as batch_op:
        batch_op.drop_column("forecast_sigma")
