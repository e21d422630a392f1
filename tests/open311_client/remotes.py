"""The other end of an Open311 forward, for the tests: a second TellCity instance (its own
database, the demo city, an API key) served over HTTP on 127.0.0.1, whose staff act on what
they received through their own pages; and a stand-in HTTP server for the remotes that
misbehave (hang, 500, a 400 with Open311 errors, a lost token, given documents).

Both run in threads of the test process. The second instance is a real app (its own engine,
caches and sessions, keyed by its app), so nothing of ours is mocked."""

import json
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa
from werkzeug.serving import WSGIRequestHandler, make_server

from tellcity import create_app
from tellcity.accounts.models import User
from tellcity.core import writer_queue
from tellcity.demo.services import load_city_file
from tellcity.extensions import db
from tellcity.reports.models import Report
from tests.accounts.helpers import enrol, sign_in
from tests.conftest import RequestClient, _test_config
from tests.open311.helpers import new_key
from tests.reliability.servers import wait_until_serving
from tests.web.helpers import form_tokens

OPEN311 = "/open311/v2"


class RemoteTellCity:
    """A second TellCity as the remote department's system: the demo city on the database at
    `url`, an Open311 API key for us, served at `base_url` (its Open311 endpoint).

    Its staff act as they would, through its pages (`set_status`, `reply`), signed in as its
    administrator (two-factor sign-in included); `report(id)` reads what they see."""

    def __init__(self, url: str, instance_path):
        self.app = create_app(_test_config(instance_path, url))
        with self.app.app_context():
            db.create_all()
            city, accounts = load_city_file()
            admin = next(account for account in accounts if account.role == "admin")
            self._admin = (admin.email, admin.password)
            enrol(db.session.scalar(sa.select(User).where(User.email == admin.email)))
            db.session.commit()
            self.jurisdiction = city.slug
            self.api_key = new_key(city, name="Mairie (client Open311)")
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True, request_handler=_Quiet)
        self.root = f"http://127.0.0.1:{self._server.server_port}"
        self.app.config["BASE_URL"] = self.root
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        wait_until_serving(self.root, seconds=15)
        self._client = None

    @property
    def base_url(self) -> str:
        """The Open311 endpoint, as a department's configuration names it."""
        return f"{self.root}{OPEN311}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()

    # --- as the remote's staff ----------------------------------------------------------------

    def staff(self):
        """A test client of the remote's pages, signed in as its administrator."""
        if self._client is None:
            self.app.test_client_class = RequestClient
            self._client = self.app.test_client()
            with self.app.app_context():
                email, password = self._admin
                user = db.session.scalar(sa.select(User).where(User.email == email))
                answer = sign_in(self._client, email, password, user=user)
                assert answer.status_code == 302, answer.get_data(as_text=True)
        return self._client

    def report(self, service_request_id: str) -> Report:
        """The remote's report by the id it answered (its reference), as its staff see it now
        (loaded in a session of its own: read its columns, not its relations)."""
        with self.app.app_context():
            report = db.session.scalar(
                sa.select(Report).where(Report.reference == service_request_id)
            )
            assert report is not None, f"{service_request_id} is not on the remote"
            db.session.expunge(report)
            return report

    def set_status(self, service_request_id: str, status: str, text: str = "", **fields) -> None:
        """Move the report to `status` through the ticket's status form (with a public `text`,
        and `reason` etc. for the moves that need them); fails the test if refused."""
        self._post(service_request_id, "status", {"to": status, "text": text, **fields})
        assert self.report(service_request_id).status == status, f"not moved to {status}"

    def reply(self, service_request_id: str, text: str) -> None:
        """A public reply on the ticket, through its reply form."""
        self._post(service_request_id, "reply", {"text": text})

    def _post(self, service_request_id: str, action: str, data: dict) -> None:
        client = self.staff()
        ticket = f"/staff/tickets/{service_request_id}"
        answer = client.post(f"{ticket}/{action}", data={**form_tokens(client, ticket), **data})
        assert answer.status_code == 302, answer.get_data(as_text=True)
        page = client.get(ticket).get_data(as_text=True)
        assert "flash-error" not in page, page


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


def start_remote(url: str, instance_path) -> RemoteTellCity:
    return RemoteTellCity(url, instance_path)


def close_remote(remote: RemoteTellCity) -> None:
    remote.stop()
    writer_queue.close_lock_files()


# --- a remote that misbehaves -----------------------------------------------------------------


@dataclass
class Call:
    """A request the stand-in received."""

    method: str
    path: str  # under the endpoint, e.g. "requests.json"
    query: dict[str, list[str]]
    form: dict[str, list[str]]


@dataclass
class Answer:
    status: int
    body: object  # JSON
    delay: float = 0.0


@dataclass
class StandInRemote:
    """An HTTP server on 127.0.0.1 playing an outside Open311 system, told what to answer:
    `serve(method, path, body, status)` for one path under the endpoint; `failing` (a status
    every request gets, e.g. 500) and `hanging` (every request waits, past any client's
    timeout, until the stand-in stops) for a system that is down. Unknown paths answer 404 in
    Open311's error shape. `calls` records what was asked."""

    failing: int | None = None
    hanging: bool = False
    calls: list[Call] = field(default_factory=list)
    answers: dict[tuple[str, str], Answer] = field(default_factory=dict)

    def __post_init__(self):
        self._released = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{OPEN311}"

    def start(self) -> "StandInRemote":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def serve(self, method: str, path: str, body, status: int = 200, delay: float = 0.0) -> None:
        """Answer `method path` (path under the endpoint: "services.json") with `body` as JSON."""
        self.answers[(method.upper(), path)] = Answer(status, body, delay)

    def serve_services(self, services: list[dict]) -> None:
        self.serve("GET", "services.json", services)

    def serve_request(self, service_request_id: str, request: dict) -> None:
        """GET requests/{id}.json answers `request` (a list of one, as the spec has it)."""
        self.serve("GET", f"requests/{service_request_id}.json", [request])

    def serve_updates(self, updates: list[dict]) -> None:
        """mySociety's servicerequestupdates.json answers `updates`."""
        self.serve("GET", "servicerequestupdates.json", updates)

    def accept(self, service_request_id: str) -> None:
        """POST requests.json creates a request and answers its id at once."""
        self.serve("POST", "requests.json", [{"service_request_id": service_request_id}])

    def refuse_missing_attribute(self, code: str) -> None:
        """POST requests.json answers 400 with Open311 errors: the attribute `code` missing."""
        error = {"code": 400, "description": f"attribute[{code}] is required"}
        self.serve("POST", "requests.json", [error], status=400)

    def lose_token(self, token: str) -> None:
        """POST requests.json answers only a token; tokens/{token}.json then answers 404."""
        self.serve("POST", "requests.json", [{"token": token}])
        self.serve(
            "GET",
            f"tokens/{token}.json",
            [{"code": 404, "description": f"token {token} not found"}],
            status=404,
        )

    def asked(self, method: str, path: str) -> list[Call]:
        return [call for call in self.calls if call.method == method and call.path == path]

    def _answer(self, method: str, path: str) -> Answer:
        if self.hanging:
            self._released.wait(60)
            return Answer(503, [{"code": 503, "description": "gone"}])
        if self.failing is not None:
            return Answer(self.failing, [{"code": self.failing, "description": "failure"}])
        answer = self.answers.get((method, path))
        if answer is None:
            return Answer(404, [{"code": 404, "description": f"{path} not found"}])
        if answer.delay:
            self._released.wait(answer.delay)
        return answer


def _handler(stand_in: StandInRemote):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self._reply("GET", {})

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace")
            self._reply("POST", parse_qs(body, keep_blank_values=True))

        def _reply(self, method: str, form: dict) -> None:
            parts = urlsplit(self.path)
            path = parts.path.removeprefix(OPEN311).lstrip("/")
            stand_in.calls.append(Call(method, path, parse_qs(parts.query), form))
            answer = stand_in._answer(method, path)
            data = json.dumps(answer.body).encode()
            try:
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up waiting

        def log_message(self, *args):
            pass

    return Handler


def get_json(url: str, timeout: float = 10):
    """GET `url` and its JSON, as any HTTP client would."""
    with urllib.request.urlopen(url, timeout=timeout) as answer:
        return json.loads(answer.read())


def post_form(url: str, fields: dict, timeout: float = 10):
    """POST `fields` as a form to `url`: (status, JSON)."""
    data = urllib.parse.urlencode(fields).encode()
    request = urllib.request.Request(url, data=data, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def wait_for(predicate, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)
