"""Work of N submissions or N status changes, to be counted by valgrind's callgrind.

    valgrind --tool=callgrind --callgrind-out-file=out.N python bench/instructions.py N
    valgrind --tool=callgrind --callgrind-out-file=out.0 python bench/instructions.py 0
    MODE=transition ...  (status changes: "acknowledged" by an agent, each committed)

Run from the tree to measure (its `tellcity` is imported first). The app runs on a fresh SQLite
file with the demo city; 50 submissions (and 50 changes) warm it up; then N more. The "totals"
line of out.N minus out.0's, over N, is what one costs in instructions: the same whatever the
machine is doing, where timings on a shared machine drift by a third.
"""

import os
import sys
import tempfile
import uuid
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, os.getcwd())

from tellcity import create_app
from tellcity.accounts.models import Role, User
from tellcity.core.permissions import Actor
from tellcity.demo.services import load_city_file
from tellcity.extensions import db
from tellcity.reports.lifecycle import transition
from tellcity.reports.models import Report

WARM_UP = 50
#: Reports filed first when status changes are counted (the changes' N at most this).
REPORTS_FOR_CHANGES = 300
BODY = {
    "category": "pothole",
    "lat": 48.8245,
    "lon": 2.2735,
    "address": "62 rue du Général Leclerc",
    "description": "Un trou profond devant l'entrée",
    "email": "jeanne@example.org",
}


def main() -> None:
    count, mode = int(sys.argv[1]), os.environ.get("MODE", "submit")
    tmp = Path(tempfile.mkdtemp())
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp / "instance"),
            "SECRET_KEY": "bench",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # the demo's accounts, made quickly
            "GEOCODER_OPTIONS": {"domain": "127.0.0.1:9", "scheme": "http"},
            "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        db.create_all()
        load_city_file()
        db.session.commit()
    client = app.test_client()
    filed = WARM_UP + (count if mode == "submit" else REPORTS_FOR_CHANGES)
    for _ in range(filed):
        answer = client.post(
            "/api/v1/reports", json=BODY, headers={"Idempotency-Key": str(uuid.uuid4())}
        )
        assert answer.status_code == 201, answer.get_data(as_text=True)
    if mode == "transition":
        with app.app_context():
            agent = db.session.scalar(sa.select(User.id).where(User.role == Role.AGENT).limit(1))
            ids = db.session.scalars(sa.select(Report.id).order_by(Report.id)).all()
        for report_id in ids[: WARM_UP + count]:
            with app.app_context():
                actor = Actor.of(db.session.get(User, agent))
                transition(db.session.get(Report, report_id), "acknowledged", actor)
                db.session.commit()
    print(f"{mode}: {count} after {WARM_UP} of warm-up")


if __name__ == "__main__":
    main()
