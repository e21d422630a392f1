"""The baselines of the HTTP benchmarks: a bare Flask app that gunicorn serves like TellCity,
on the same database, with the same connection settings (SQLite in WAL mode with
synchronous=NORMAL; a SQLAlchemy pool with pre-ping).

    TELLCITY_DATABASE_URL=... gunicorn -w 2 --pythonpath bench "bare_app:create_app()"

- `POST /reports` reads the JSON body and inserts it as one row, committed, into
  `bench_bare_reports`: a table as wide as `reports`, with its primary key and no other index.
  The floor under a submission: HTTP, JSON, one INSERT, one COMMIT.
- `GET /reports/<id>` answers `SELECT id FROM reports WHERE id = :id`: the floor under a read
  through gunicorn, an indexed lookup in the same database.

`create_table` and `drop_table` make and remove the baseline's table (the benchmark calls them
around its run).
"""

import json
import os

import sqlalchemy as sa
from flask import Flask, abort, jsonify, request

import tellcity.core.db  # noqa: F401  (the SQLite connection settings TellCity uses)

#: As many data columns as `reports` has beside its id.
WIDTH = 44
metadata = sa.MetaData()
bare_reports = sa.Table(
    "bench_bare_reports",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    *(sa.Column(f"c{i}", sa.Text) for i in range(WIDTH)),
)


def engine_for(url: str) -> sa.Engine:
    """An engine as TellCity makes it: psycopg 3 for a plain postgresql:// URL, pre-ping."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            url = "postgresql+psycopg://" + url[len(plain) :]
    return sa.create_engine(url, pool_pre_ping=True)


def create_table(engine: sa.Engine) -> None:
    metadata.drop_all(engine)
    metadata.create_all(engine)


def drop_table(engine: sa.Engine) -> None:
    metadata.drop_all(engine)


def create_app() -> Flask:
    app = Flask(__name__)
    engine = engine_for(os.environ["TELLCITY_DATABASE_URL"])
    insert = bare_reports.insert()
    select = sa.text("SELECT id FROM reports WHERE id = :id")

    @app.post("/reports")
    def create():
        payload = request.get_json()
        if not isinstance(payload, dict) or not payload:
            abort(400)
        values = [json.dumps(value) for value in payload.values()]
        row = {f"c{i}": values[i % len(values)] for i in range(WIDTH)}
        with engine.begin() as connection:
            new_id = connection.execute(insert.values(row)).inserted_primary_key[0]
        return jsonify(id=new_id), 201

    @app.get("/reports/<int:report_id>")
    def show(report_id: int):
        with engine.connect() as connection:
            found = connection.execute(select, {"id": report_id}).scalar()
        if found is None:
            abort(404)
        return jsonify(id=found)

    @app.get("/")
    def ready():
        return "ok"

    return app
