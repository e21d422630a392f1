"""API keys through the admin pages: a key is shown once, lets its client in (as the Open311
API checks it), and stops working once revoked; only its hash is kept."""

import pytest
import sqlalchemy as sa

from tellcity.accounts.api_keys import authenticate
from tellcity.accounts.models import ApiKey
from tellcity.extensions import db
from tests.admin.helpers import audit, fresh, post, secret_on
from tests.web.helpers import text


@pytest.fixture
def admin(client, login_as, demo_city):
    return login_as("admin")


def create(client, name: str, scopes=("open311",)):
    return post(client, "/staff/admin/api-keys/new", {"name": name, "scopes": list(scopes)})


def test_a_key_is_shown_once_and_lets_its_client_in(client, admin, demo_city):
    response = create(client, "Appli Issy")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    key = secret_on(response, "Key")
    row = db.session.scalar(sa.select(ApiKey).where(ApiKey.name == "Appli Issy"))
    assert (row.scopes, row.city_id, row.created_by_id) == (["open311"], demo_city.id, admin.id)
    assert key.startswith(f"{row.prefix}.") and key not in row.key_hash
    assert authenticate(key) == row
    assert authenticate(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    db.session.commit()  # the key's last use
    page = text(client.get("/staff/admin/api-keys"))
    assert row.prefix in page and key not in page and "never" not in page
    [entry] = audit("api_keys", row.id)
    assert entry.action == "create" and "key_hash" not in entry.after
    assert entry.after["scopes"] == ["open311"] and entry.actor_id == admin.id


def test_a_revoked_key_stops_working(client, admin, demo_city):
    key = secret_on(create(client, "Partenaire"), "Key")
    row_id = authenticate(key).id
    db.session.commit()
    assert post(client, f"/staff/admin/api-keys/{row_id}/revoke").status_code == 302
    assert fresh(ApiKey, row_id).revoked_at is not None
    assert authenticate(key) is None
    [entry] = audit("api_keys", row_id, "update")
    assert entry.before["revoked_at"] is None and entry.after["revoked_at"]


def test_a_key_needs_a_name_and_a_known_scope(client, admin, demo_city):
    response = create(client, "Sans droits", scopes=())
    assert response.status_code == 422 and "Choose at least one scope." in text(response)
    response = create(client, "Tout", scopes=("open311", "root"))
    assert response.status_code == 422 and "is not a valid choice" in text(response)
    assert create(client, " ").status_code == 422
    assert db.session.query(ApiKey).count() == 0
