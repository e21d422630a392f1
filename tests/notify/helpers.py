"""Real stand-ins for the outside world, an SMTP server (aiosmtpd) and a webhook receiver
(http.server), both on 127.0.0.1 in threads of their own; and the reports the tests notify
about."""

import email
import email.policy
import hashlib
import hmac
import json
import socket
import threading
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

from tests.factories import make_category, make_city, make_department, make_report


def free_port() -> int:
    """A port nothing listens on (until somebody does)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """An SMTP server that keeps what it receives in `messages`."""

    def __init__(self, port: int):
        self.port = port
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
        return "250 Message accepted"

    def start(self) -> "SmtpServer":
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def message_ids(self) -> list[str]:
        with self._lock:
            return [message["Message-ID"] for message in self.messages]

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages if message["To"] == address]


class WebhookReceiver:
    """An HTTP server that records each POST and answers the statuses queued in `answers`
    (200 once they run out)."""

    def __init__(self, secret: str):
        self.secret = secret
        self.calls: list[dict] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls.append({"headers": self.headers, "body": body})
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", receiver.url)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def do_GET(self):
                # Where a redirected POST would land as a GET: a success that delivers nothing.
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/hooks/tellcity"

    def start(self) -> "WebhookReceiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def verifies(self, call: dict, body: bytes | None = None) -> bool:
        """What a receiver does: HMAC-SHA256 of "<timestamp>.<body>" with the shared secret,
        compared in constant time with the signature header."""
        headers = call["headers"]
        signed = headers["X-TellCity-Timestamp"].encode() + b"." + (body or call["body"])
        expected = hmac.new(self.secret.encode(), signed, hashlib.sha256).hexdigest()
        return hmac.compare_digest(f"sha256={expected}", headers.get("X-TellCity-Signature", ""))

    def payloads(self) -> list[dict]:
        return [json.loads(call["body"]) for call in self.calls]


def reported(department, **fields):
    """A report to `department` by a resident who left their name, email and phone."""
    category = make_category(department.city, name_fr="Nid-de-poule", name_en="Pothole")
    defaults = {
        "reporter_name": "Alice Martin",
        "reporter_email": "alice@example.org",
        "reporter_phone": "+33 6 12 34 56 78",
        "address": "12 rue de la Paix",
        "description": "Un trou profond devant l'école",
    }
    return make_report(category, department=department, **{**defaults, **fields})


def email_department(city=None, **fields):
    return make_department(
        city or make_city(), delivery_method="email", email="voirie@city.example.org", **fields
    )


def composed(messages: list) -> list:
    """The queued messages with their text written, as the sender writes it before sending
    (tellcity.notify.services.compose_email)."""
    from tellcity.notify.services import compose_email

    for message in messages:
        compose_email(message)
    return messages
