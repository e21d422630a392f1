"""API keys: posting needs a live one for the city; the command prints a key once, and only
its prefix and hash are kept."""

import hashlib
import re

import pytest
import sqlalchemy as sa

from tellcity.accounts.api_keys import authenticate, create_api_key, revoke_api_key
from tellcity.accounts.models import ApiKey
from tellcity.admin.access import CLI
from tellcity.core.errors import Invalid
from tellcity.extensions import db
from tellcity.reports.models import Report
from tests.factories import make_city
from tests.open311.helpers import json_of, new_key, post, xml_of

KEY_LINE = re.compile(r"Key \(shown this once\): (\S+)")


def report_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Report))


def refused(response, fmt: str = "json") -> str:
    """The description of a 403, after checking its shape."""
    if fmt == "xml":
        root = xml_of(response, 403)
        assert root.findtext("error/code") == "403"
        return root.findtext("error/description")
    [error] = json_of(response, 403)
    assert error["code"] == 403
    return error["description"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_posting_without_a_key_is_a_403(client, demo_city, fmt):
    assert refused(post(client, None, fmt), fmt) == "api_key is required to post a service request"
    assert refused(post(client, "", fmt), fmt) == "api_key is required to post a service request"
    assert report_count() == 0


@pytest.mark.parametrize(
    "wrong",
    ["nonsense", "0123456789ab.wrong-secret", "x" * 300, "abc.def"],
)
def test_a_wrong_key_is_a_403(client, demo_city, wrong):
    new_key()
    assert refused(post(client, wrong)).startswith("invalid api_key")
    assert report_count() == 0


def test_a_key_with_a_wrong_secret_is_a_403(client, demo_city):
    key = new_key()
    prefix, secret = key.split(".")
    assert refused(post(client, f"{prefix}.{secret[::-1]}")).startswith("invalid api_key")


def test_a_revoked_key_is_a_403(client, demo_city):
    key = new_key()
    assert post(client, key).status_code == 200
    revoke_api_key(authenticate(key), actor=CLI)
    db.session.commit()
    assert refused(post(client, key, "xml"), "xml").startswith("invalid api_key")
    assert report_count() == 1


def test_a_key_for_another_city_is_a_403(client, demo_city):
    key = new_key(city=make_city(is_imported=True))
    assert refused(post(client, key)).startswith("invalid api_key")
    assert post(client, new_key(city=demo_city)).status_code == 200


def test_a_key_without_the_open311_scope_is_a_403(client, demo_city):
    key = new_key()
    db.session.scalar(sa.select(ApiKey)).scopes = []
    db.session.commit()
    assert refused(post(client, key)).startswith("invalid api_key")


def test_only_the_prefix_and_a_hash_are_kept(app, demo_city):
    api_key, key = create_api_key("Appli", city=demo_city, actor=CLI)
    prefix, secret = key.split(".")
    assert api_key.prefix == prefix and len(secret) >= 43
    assert api_key.key_hash == hashlib.sha256(key.encode()).hexdigest()
    row = db.session.execute(sa.select(ApiKey.__table__)).one()
    assert all(secret not in str(value) for value in row)
    assert authenticate(key) == api_key and api_key.last_used_at is not None
    assert create_api_key("Appli", actor=CLI)[1] != key


def test_a_key_needs_a_name_and_known_scopes(app):
    with pytest.raises(Invalid):
        create_api_key("  ", actor=CLI)
    with pytest.raises(Invalid):
        create_api_key("Appli", scopes=("open311", "admin"), actor=CLI)


def test_the_command_prints_a_key_once_that_then_works(cli, client, demo_city):
    result = cli.invoke(args=["create-api-key", "Appli Issy", "--city", "issy-les-moulineaux"])
    assert result.exit_code == 0, result.output
    [key] = KEY_LINE.findall(result.output)
    api_key = db.session.scalar(sa.select(ApiKey))
    assert (api_key.name, api_key.city_id, api_key.scopes) == (
        "Appli Issy",
        demo_city.id,
        ["open311"],
    )
    assert key not in api_key.key_hash and api_key.last_used_at is None
    assert post(client, key).status_code == 200
    db.session.expire_all()
    assert db.session.scalar(sa.select(ApiKey)).last_used_at is not None

    revoked = cli.invoke(args=["revoke-api-key", api_key.prefix])
    assert revoked.exit_code == 0 and f"Revoked API key {api_key.prefix}" in revoked.output
    assert post(client, key).status_code == 403


def test_the_command_refuses_an_unknown_city_or_key(cli, demo_city):
    result = cli.invoke(args=["create-api-key", "Appli", "--city", "springfield"])
    assert result.exit_code != 0 and "no city 'springfield'" in result.output
    result = cli.invoke(args=["revoke-api-key", "0123456789ab"])
    assert result.exit_code != 0 and "no API key 0123456789ab" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiKey)) == 0
