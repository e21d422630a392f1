"""The account pages in English, whatever the French catalog says."""

import pytest


@pytest.fixture
def client(client):
    client.set_cookie("lang", "en")
    return client
