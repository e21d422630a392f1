"""Fixtures: a running SMTP server the app sends its mail to, and a webhook receiver."""

import pytest

from tests.notify.helpers import SmtpServer, WebhookReceiver, free_port


@pytest.fixture
def smtp(app):
    """A running SMTP server the app sends its mail to."""
    server = SmtpServer(free_port()).start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port)
    yield server
    server.stop()


@pytest.fixture
def webhook():
    receiver = WebhookReceiver(secret="s3cret-shared-with-the-receiver").start()
    yield receiver
    receiver.stop()
