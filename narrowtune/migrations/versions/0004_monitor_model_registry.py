"""The model registry: every promotion, rollback and retrain decision of a task (issue 14).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_registry",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("task", sa.String(200), nullable=False, index=True),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("run_id", sa.String(200), nullable=True),
        sa.Column("previous_run_id", sa.String(200), nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("details", sa.JSON, nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("model_registry")
