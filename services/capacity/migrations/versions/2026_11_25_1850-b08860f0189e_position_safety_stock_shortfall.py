"""position safety stock shortfall

Revision ID: b08860f0189e
Revises: 1d1409dc1b07
Create Date: 2026-11-25 18:50:31.037910+00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b08860f0189e"
down_revision: str | None = "1d1409dc1b07"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plans written before this revision had safety stock as hard demand: no shortfall.
    with op.batch_alter_table("production_plan_position", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("safety_stock_shortfall", sa.Float(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("production_plan_position", schema=None) as batch_op:
        batch_op.drop_column("safety_stock_shortfall")
