"""The baselines of the HTTP benchmarks: a bare Flask app that gunicorn serves like TellCity,
on the same database, with the same connection settings (SQLite in WAL mode with
synchronous=NORMAL; a SQLAlchemy pool with pre-ping).

    TELLCITY_DATABASE_URL=... gunicorn -w 2 --pythonpath bench "bare_app:create_app()"

- `POST /reports` reads the JSON body and inserts it as one row, committed, into
  `bench_bare_reports`: a table as wide as `reports`, with its primary key and no other index.
  The floor under a submission: HTTP, JSON, one INSERT, one COMMIT.
- `GET /reports/<id>` answers `SELECT id FROM reports WHERE id = :id`: the floor under a read
  through gunicorn, an indexed lookup in the same database.
- `GET /requests` (`page_size`, `page`, and Open311's `service_code` and `status` or a
  `bbox=west,south,east,north`): the public reports of the first city of the last 90 days
  (from the start of the hour, as Open311's default), newest first, `page_size` (100) of them:
  the columns an Open311 request shows, its category's code joined, read by the range of
  `(city_id, created_at)` and written with `json.dumps` (timestamps as the driver gives them,
  through `str`). The floor under a page of Open311's `requests.json`.

`create_table` and `drop_table` make and remove the baseline's table (the benchmark calls them
around its run).
"""

import json
import os
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import Flask, Response, abort, jsonify, request

import tellcity.core.db  # noqa: F401  (the SQLite connection settings TellCity uses)
from tellcity.reports.states import OPEN_STATUSES

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


#: bench/bare_app's `/requests`: the columns of an Open311 request, newest first, by the range of
#: (city_id, created_at); `{where}` takes the filters asked.
REQUESTS_SQL = """
SELECT r.id, r.reference, r.status, r.description, r.address, r.lat, r.lon, r.created_at,
       r.updated_at, r.closed_at, r.due_at, r.support_count, c.code AS service_code
FROM reports r JOIN categories c ON c.id = r.category_id
WHERE r.city_id = :city_id AND r.created_at >= :start AND r.is_hidden = :hidden
  AND r.status <> 'rejected'{where}
ORDER BY r.created_at DESC, r.id DESC
LIMIT :limit OFFSET :offset
"""
#: The statuses Open311 calls open.
OPEN = sorted(str(status) for status in OPEN_STATUSES)


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

    with engine.connect() as connection:
        city_id = connection.execute(sa.text("SELECT min(id) FROM cities")).scalar()
    statements = {}
    sqlite = engine.dialect.name == "sqlite"

    @app.get("/requests")
    def requests():
        args = request.args
        size, page = int(args.get("page_size", 100)), int(args.get("page", 1))
        start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=90)
        params = {"city_id": city_id, "start": start.replace(tzinfo=None), "hidden": False}
        params.update(limit=size, offset=(page - 1) * size)
        where = []
        if "service_code" in args:
            where.append(" AND c.code IN :codes")
            params["codes"] = args["service_code"].split(",")
        if args.get("status") == "open":
            where.append(" AND r.status IN :open")
            params["open"] = OPEN
        if "bbox" in args:
            west, south, east, north = (float(part) for part in args["bbox"].split(","))
            if sqlite:  # `+`: a filter on the range's rows, not a range of the (lat, lon) index
                where.append(" AND +r.lat BETWEEN :south AND :north")
                where.append(" AND +r.lon BETWEEN :west AND :east")
                params.update(west=west, south=south, east=east, north=north)
            else:  # the numbers in the text: a prepared statement's generic plan reads (lat, lon)
                where.append(f" AND r.lat BETWEEN {south!r} AND {north!r}")
                where.append(f" AND r.lon BETWEEN {west!r} AND {east!r}")
        key = "".join(where)
        if key not in statements:
            statement = sa.text(REQUESTS_SQL.format(where=key))
            for name in ("codes", "open"):
                if name in params:
                    statement = statement.bindparams(sa.bindparam(name, expanding=True))
            statements[key] = statement
        with engine.connect() as connection:
            rows = connection.execute(statements[key], params).mappings().all()
        body = json.dumps([dict(row) for row in rows], default=str)
        return Response(body, content_type="application/json")

    @app.get("/")
    def ready():
        return "ok"

    return app
