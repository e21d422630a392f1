"""Fixtures: a webhook receiver (the SMTP server, `smtp`, is in tests/conftest.py)."""

import pytest

from tests.notify.helpers import WebhookReceiver


@pytest.fixture
def webhook():
    receiver = WebhookReceiver(secret="s3cret-shared-with-the-receiver").start()
    yield receiver
    receiver.stop()
