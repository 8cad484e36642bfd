"""Escalation, acknowledgements, field tasks, complaints, outages and traces.

Revision ID: a60b54f8f724
Revises: 5b091bb533b5
Create Date: 2026-11-28 05:03:53.154068
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a60b54f8f724"
down_revision: str | None = "5b091bb533b5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "acknowledgements",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("ack_key", sa.String(length=200), nullable=False),
        sa.Column("outage_id", sa.String(length=100), nullable=True),
        sa.Column("message_id", sa.String(length=100), nullable=True),
        sa.Column("account_ids", sa.JSON(), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("via", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=100), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("photo_ref", sa.String(length=300), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("announced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acknowledgements")),
        sa.UniqueConstraint("ack_key", name=op.f("uq_acknowledgements_ack_key")),
    )
    with op.batch_alter_table("acknowledgements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_acknowledgements_message_id"), ["message_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_acknowledgements_outage_id"), ["outage_id"], unique=False
        )
        batch_op.create_index(
            "ix_acknowledgements_unannounced",
            ["id"],
            unique=False,
            postgresql_where=sa.text("announced_at IS NULL"),
            sqlite_where=sa.text("announced_at IS NULL"),
        )

    op.create_table(
        "call_reports",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("report_key", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=100), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('answered', 'confirmed', 'no_answer', 'busy', 'failed')",
            name=op.f("ck_call_reports_outcome"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_reports")),
        sa.UniqueConstraint("report_key", name=op.f("uq_call_reports_report_key")),
    )
    with op.batch_alter_table("call_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_call_reports_message_id"), ["message_id"], unique=False
        )

    op.create_table(
        "complaints",
        sa.Column("complaint_id", sa.String(length=36), nullable=False),
        sa.Column("work_order_id", sa.String(length=100), nullable=False),
        sa.Column("outage_id", sa.String(length=100), nullable=False),
        sa.Column("account_id", sa.String(length=100), nullable=False),
        sa.Column("complaint_type", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cause", sa.String(length=20), nullable=False),
        sa.Column("finding", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("what_if_affected", sa.Boolean(), nullable=True),
        sa.Column("filed_by", sa.String(length=100), nullable=False),
        sa.Column("classified_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "cause IN ('model_or_trace', 'contact', 'delivery', 'customer_side', 'unclassified')",
            name=op.f("ck_complaints_cause"),
        ),
        sa.CheckConstraint(
            "complaint_type IN ('not_notified', 'no_outage', 'wrong_time', 'other')",
            name=op.f("ck_complaints_complaint_type"),
        ),
        sa.PrimaryKeyConstraint("complaint_id", name=op.f("pk_complaints")),
        sa.UniqueConstraint("work_order_id", name=op.f("uq_complaints_work_order_id")),
    )
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_complaints_outage_id"), ["outage_id"], unique=False)

    op.create_table(
        "escalations",
        sa.Column("outage_id", sa.String(length=100), nullable=False),
        sa.Column("account_id", sa.String(length=100), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("wave", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("outage_id", "account_id", "step", name=op.f("pk_escalations")),
    )
    op.create_table(
        "number_health",
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("last_reason", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_number_health")),
    )
    op.create_table(
        "outages",
        sa.Column("outage_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("work", sa.Text(), nullable=False),
        sa.Column("area", sa.Text(), nullable=False),
        sa.Column("planned_by", sa.String(length=100), nullable=False),
        sa.Column("operations", sa.JSON(), nullable=True),
        sa.Column("feeders", sa.JSON(), nullable=False),
        sa.Column("trace_version", sa.Integer(), nullable=False),
        sa.Column("rescheduled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("outage_id", name=op.f("pk_outages")),
    )
    with op.batch_alter_table("outages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outages_next_check_at"), ["next_check_at"], unique=False
        )

    op.create_table(
        "replies",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("reply_key", sa.String(length=64), nullable=False),
        sa.Column("phone_masked", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(length=16), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outage_ids", sa.JSON(), nullable=False),
        sa.Column("message_ids", sa.JSON(), nullable=False),
        sa.Column("account_ids", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("intent IN ('acknowledge', 'other')", name=op.f("ck_replies_intent")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replies")),
        sa.UniqueConstraint("reply_key", name=op.f("uq_replies_reply_key")),
    )
    with op.batch_alter_table("replies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_replies_phone_masked"), ["phone_masked"], unique=False)
        batch_op.create_index(batch_op.f("ix_replies_received_at"), ["received_at"], unique=False)

    op.create_table(
        "tasks",
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("task_key", sa.String(length=200), nullable=False),
        sa.Column("outage_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("notice_kind", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.String(length=100), nullable=True),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("account_ids", sa.JSON(), nullable=False),
        sa.Column("account_names", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signer", sa.String(length=100), nullable=False),
        sa.Column("photo_ref", sa.String(length=300), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("closed_by", sa.String(length=100), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('visit', 'door_slip', 'posting')", name=op.f("ck_tasks_kind")),
        sa.CheckConstraint(
            "outcome IS NULL OR "
            "outcome IN ('signed', 'left', 'unreachable', 'posted', 'not_posted')",
            name=op.f("ck_tasks_outcome"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'closed', 'cancelled')", name=op.f("ck_tasks_status")
        ),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_tasks")),
        sa.UniqueConstraint("task_key", name=op.f("uq_tasks_task_key")),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tasks_outage_id"), ["outage_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_tasks_status"), ["status"], unique=False)

    op.create_table(
        "traced_accounts",
        sa.Column("outage_id", sa.String(length=100), nullable=False),
        sa.Column("account_id", sa.String(length=100), nullable=False),
        sa.Column("feeder", sa.String(length=100), nullable=False),
        sa.Column("node_id", sa.String(length=100), nullable=False),
        sa.Column("isolating_device", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("outage_id", "account_id", name=op.f("pk_traced_accounts")),
    )
    # Lists approved before carried no recipients here; they read as lists without any.
    with op.batch_alter_table("approved_lists", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("entries", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
    with op.batch_alter_table("approved_lists", schema=None) as batch_op:
        batch_op.alter_column("entries", server_default=None)

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("feedback_status", sa.String(length=16), nullable=True))

    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notices_address"), ["address"], unique=False)

    if op.get_bind().dialect.name == "sqlite":
        # The relay looks for unpublished rows; as a full index on id this meant a scan of
        # every row ever published for each batch, so ingestion slowed as the outbox grew.
        op.drop_index("ix_outbox_unpublished", table_name="outbox")
        op.create_index(
            "ix_outbox_unpublished",
            "outbox",
            ["id"],
            unique=False,
            sqlite_where=sa.text("published_at IS NULL"),
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index("ix_outbox_unpublished", table_name="outbox")
        op.create_index("ix_outbox_unpublished", "outbox", ["id"], unique=False)
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notices_address"))

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("feedback_status")

    with op.batch_alter_table("approved_lists", schema=None) as batch_op:
        batch_op.drop_column("entries")

    op.drop_table("traced_accounts")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tasks_status"))
        batch_op.drop_index(batch_op.f("ix_tasks_outage_id"))

    op.drop_table("tasks")
    with op.batch_alter_table("replies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_replies_received_at"))
        batch_op.drop_index(batch_op.f("ix_replies_phone_masked"))

    op.drop_table("replies")
    with op.batch_alter_table("outages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outages_next_check_at"))

    op.drop_table("outages")
    op.drop_table("number_health")
    op.drop_table("escalations")
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaints_outage_id"))

    op.drop_table("complaints")
    with op.batch_alter_table("call_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_reports_message_id"))

    op.drop_table("call_reports")
    with op.batch_alter_table("acknowledgements", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_acknowledgements_unannounced",
            postgresql_where=sa.text("announced_at IS NULL"),
            sqlite_where=sa.text("announced_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_acknowledgements_outage_id"))
        batch_op.drop_index(batch_op.f("ix_acknowledgements_message_id"))

    op.drop_table("acknowledgements")
