"""Predictions record the served model's name (its task) and kind, for several models at once.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: rows stored before this revision do not know their task (their `model` column,
    # the run id, still says which run answered).
    with op.batch_alter_table("predictions") as batch:
        batch.add_column(sa.Column("task", sa.String(200), nullable=True))
        batch.add_column(sa.Column("kind", sa.String(20), nullable=True))
        batch.create_index("ix_predictions_task", ["task"])


def downgrade() -> None:
    with op.batch_alter_table("predictions") as batch:
        batch.drop_index("ix_predictions_task")
        batch.drop_column("kind")
        batch.drop_column("task")
