"""Behind a load balancer: with TELLCITY_TRUSTED_PROXIES=1 each resident has their own rate-limit
budget, read from the address the balancer appends to X-Forwarded-For; without the setting that
header, which anyone can send, changes nothing."""

import re

import pytest

from tellcity import create_app

BALANCER = "10.0.0.2"  # the peer every request comes from, behind the balancer
ALICE, BOB = "203.0.113.7", "198.51.100.23"
NOT_A_CATEGORY = {"category": "nope", "description": "Un trou", "lat": 48.82, "long": 2.27}


@pytest.fixture
def proxies(request, monkeypatch):
    """TELLCITY_TRUSTED_PROXIES for the app the test gets (set before the app is built)."""
    if request.param is not None:
        monkeypatch.setenv("TELLCITY_TRUSTED_PROXIES", str(request.param))
    return request.param


@pytest.fixture
def submit_as(proxies, app, client):
    """Send a report through the API as the balancer forwards it, with this X-Forwarded-For;
    two submissions a minute per client address."""
    app.config["RATELIMIT_SUBMIT"] = "2 per minute"

    def submit(forwarded_for: str) -> int:
        response = client.post(
            "/api/v1/reports",
            json=NOT_A_CATEGORY,
            headers={"X-Forwarded-For": forwarded_for},
            environ_base={"REMOTE_ADDR": BALANCER},
        )
        return response.status_code

    return submit


@pytest.mark.parametrize("proxies", [None, 0], indirect=True)
def test_without_trusted_proxies_x_forwarded_for_changes_nothing(submit_as, demo_city):
    assert [submit_as(ALICE), submit_as(ALICE)] == [422, 422]
    assert submit_as(BOB) == 429  # one budget: the balancer's


@pytest.mark.parametrize("proxies", [1], indirect=True)
def test_behind_one_trusted_proxy_each_client_has_its_own_budget(submit_as, demo_city):
    assert [submit_as(ALICE), submit_as(ALICE), submit_as(ALICE)] == [422, 422, 429]
    assert [submit_as(BOB), submit_as(BOB)] == [422, 422]


@pytest.mark.parametrize("proxies", [1], indirect=True)
def test_a_client_cannot_escape_its_budget_by_writing_its_own_forwarded_for(submit_as, demo_city):
    # The client sends X-Forwarded-For itself; the balancer appends the address it sees.
    spoofed = [f"192.0.2.{n}, {ALICE}" for n in range(1, 4)]
    assert [submit_as(chain) for chain in spoofed] == [422, 422, 429]
    assert submit_as(f"{ALICE}, {BOB}") == 422  # Bob, whatever he claims to be


@pytest.mark.parametrize("proxies", [2], indirect=True)
def test_behind_two_proxies_the_client_is_the_second_address_from_the_end(submit_as, demo_city):
    cdn = "10.1.0.9"  # the CDN appends the client; the balancer appends the CDN
    assert [submit_as(f"192.0.2.{n}, {ALICE}, {cdn}") for n in range(3)] == [422, 422, 429]
    assert submit_as(f"{BOB}, {cdn}") == 422


@pytest.mark.parametrize(("proxies", "scheme"), [(0, "http"), (1, "https")], indirect=["proxies"])
def test_links_in_the_feed_use_the_scheme_a_trusted_proxy_says(proxies, client, demo_city, scheme):
    feed = client.get(
        "/feeds/reports.atom",
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": ALICE},
        environ_base={"REMOTE_ADDR": BALANCER},
    ).get_data(as_text=True)
    assert re.search(r'<link href="([a-z]+)://localhost/reports"', feed).group(1) == scheme


def test_a_negative_number_of_proxies_is_refused_at_start(tmp_path):
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        create_app({"INSTANCE_PATH": str(tmp_path), "TRUSTED_PROXIES": -1})
