"""Open311 client delivery (issue 22): a fourth delivery method, "open311", for a department
running its own Open311 system (tellcity.open311.client).

- departments: `open311_endpoint`, `open311_api_key`, `open311_jurisdiction`,
  `open311_services` (its services.json as last fetched) and `open311_services_at`; the
  delivery method's CHECK lists "open311", and a new CHECK asks an endpoint of it;
- outbox_messages: the channel's CHECK lists "open311";
- open311_mappings: our categories as a department's remote services;
- remote_requests: each report forwarded to a remote department, and where it stands there.

The CHECK constraints are dropped and created again on PostgreSQL. SQLite cannot alter a
constraint: the outbox table is copied with its new one (a batch operation, as in 0008: no
table refers to it). `departments` cannot be copied so (dropping the old copy with foreign
keys enforced would delete or empty the rows that refer to it, see 0005), so there its
stored definition is rewritten in place (SQLite's documented way for a CHECK whose change no
existing row can break: the new method is new, so no row uses it yet), and checked by
`PRAGMA integrity_check` of the table.

Going back, open311 departments become dashboard ones and open311 messages are dropped.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 00:15:00

"""

import sqlalchemy as sa
from alembic import op

from tellcity.core.db import BigId, Json, UTCDateTime

# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

METHODS = ("dashboard", "email", "webhook")
CHANNELS = ("email", "webhook")
STATES = ("queued", "token", "open", "closed", "refused", "stopped")
DEPARTMENT_COLUMNS = (
    ("open311_endpoint", sa.String(500)),
    ("open311_api_key", sa.String(200)),
    ("open311_jurisdiction", sa.String(200)),
    ("open311_services", Json),
    ("open311_services_at", UTCDateTime()),
)
ENDPOINT_CHECK = "delivery_method != 'open311' OR open311_endpoint IS NOT NULL"


def upgrade():
    for name, type_ in DEPARTMENT_COLUMNS:
        op.add_column("departments", sa.Column(name, type_, nullable=True))
    _replace_department_checks((*METHODS, "open311"), with_endpoint=True)
    _replace_channel_check((*CHANNELS, "open311"))
    op.create_table(
        "open311_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("service_code", sa.String(100), nullable=False),
        sa.Column("attributes", Json, nullable=True),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["categories.id"],
            name=op.f("fk_open311_mappings_category_id_categories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_open311_mappings_department_id_departments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open311_mappings")),
        sa.UniqueConstraint(
            "department_id",
            "category_id",
            name=op.f("uq_open311_mappings_department_id_category_id"),
        ),
    )
    op.create_table(
        "remote_requests",
        sa.Column("id", BigId, nullable=False),
        sa.Column("report_id", BigId, nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("token", sa.String(200), nullable=True),
        sa.Column("service_request_id", sa.String(200), nullable=True),
        sa.Column("remote_status", sa.String(32), nullable=True),
        sa.Column("remote_updated_at", UTCDateTime(), nullable=True),
        sa.Column("applied_updates", Json, nullable=True),
        sa.Column("last_sync_at", UTCDateTime(), nullable=True),
        sa.Column("next_sync_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "state IN ({})".format(", ".join(f"'{state}'" for state in STATES)),
            name=op.f("ck_remote_requests_state"),
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_remote_requests_department_id_departments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_remote_requests_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remote_requests")),
        sa.UniqueConstraint(
            "report_id", "department_id", name=op.f("uq_remote_requests_report_id_department_id")
        ),
    )
    op.create_index(
        op.f("ix_remote_requests_state_next_sync_at"),
        "remote_requests",
        ["state", "next_sync_at"],
        unique=False,
    )


def downgrade():
    op.drop_index(op.f("ix_remote_requests_state_next_sync_at"), table_name="remote_requests")
    op.drop_table("remote_requests")
    op.drop_table("open311_mappings")
    op.execute(
        "UPDATE outbox_messages SET status = 'dropped', channel = 'webhook'"
        " WHERE channel = 'open311'"
    )
    _replace_channel_check(CHANNELS)
    op.execute(
        "UPDATE departments SET delivery_method = 'dashboard' WHERE delivery_method = 'open311'"
    )
    _replace_department_checks(METHODS, with_endpoint=False)
    for name, _ in reversed(DEPARTMENT_COLUMNS):
        if op.get_bind().dialect.name == "sqlite":
            # DROP COLUMN is in place on SQLite (3.35+) when no constraint names the column:
            # the endpoint's CHECK is gone by now.
            op.execute(f"ALTER TABLE departments DROP COLUMN {name}")
        else:
            op.drop_column("departments", name)


def _in(column: str, values: tuple[str, ...]) -> str:
    return "{} IN ({})".format(column, ", ".join(f"'{value}'" for value in values))


def _replace_channel_check(channels: tuple[str, ...]) -> None:
    check = "ck_outbox_messages_channel"
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("outbox_messages", recreate="always") as batch:
            batch.drop_constraint(op.f(check), type_="check")
            batch.create_check_constraint(op.f(check), _in("channel", channels))
    else:
        op.drop_constraint(op.f(check), "outbox_messages", type_="check")
        op.create_check_constraint(op.f(check), "outbox_messages", _in("channel", channels))


def _replace_department_checks(methods: tuple[str, ...], *, with_endpoint: bool) -> None:
    methods_check = "ck_departments_delivery_method"
    endpoint_check = "ck_departments_open311_delivery_has_endpoint"
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.drop_constraint(op.f(methods_check), "departments", type_="check")
        op.create_check_constraint(
            op.f(methods_check), "departments", _in("delivery_method", methods)
        )
        if with_endpoint:
            op.create_check_constraint(op.f(endpoint_check), "departments", ENDPOINT_CHECK)
        else:
            op.drop_constraint(op.f(endpoint_check), "departments", type_="check")
        return
    # SQLite: the table's stored CREATE TABLE statement, rewritten (see the docstring).
    (sql,) = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'departments'"
    ).one()
    old_methods = _in("delivery_method", METHODS if with_endpoint else (*METHODS, "open311"))
    new_sql = sql.replace(old_methods, _in("delivery_method", methods))
    endpoint_clause = f", \n\tCONSTRAINT {endpoint_check} CHECK ({ENDPOINT_CHECK})"
    if with_endpoint:
        anchor = new_sql.rindex(")")
        new_sql = new_sql[:anchor] + endpoint_clause + new_sql[anchor:]
    else:
        new_sql = new_sql.replace(endpoint_clause, "")
    if new_sql.count(_in("delivery_method", methods)) != 1 or (
        with_endpoint != (endpoint_check in new_sql)
    ):
        raise RuntimeError(f"departments' definition is not the one expected: {sql}")
    (version,) = bind.exec_driver_sql("PRAGMA schema_version").one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'departments'",
        (new_sql,),
    )
    bind.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    (result,) = bind.exec_driver_sql("PRAGMA integrity_check(departments)").one()
    if result != "ok":
        raise RuntimeError(f"departments after its CHECK constraints changed: {result}")
