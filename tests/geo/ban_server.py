"""A local HTTP server answering like the Base Adresse Nationale's API (api-adresse): GeoJSON
FeatureCollections from /search/?q=... and /reverse/?lat=...&lon=..., features carrying
properties.label."""

import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Address:
    label: str
    lat: float
    lon: float
    citycode: str = "92040"

    def feature(self) -> dict:
        return {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [self.lon, self.lat]},
            "properties": {
                "label": self.label,
                "score": 0.9,
                "type": "housenumber",
                "citycode": self.citycode,
            },
        }


TOWN_HALL = Address("62 Rue du Général Leclerc 92130 Issy-les-Moulineaux", 48.8245, 2.2735)
PARIS = Address("62 Rue du Général Leclerc 75014 Paris", 48.8284, 2.3263, citycode="75114")


@dataclass
class FakeBAN:
    """What the server answers: `found` to every search (at most `limit` of them), the label
    in `addresses` for a reverse lookup of its exact position; each answer after `delay`
    seconds. `requests` records (path, query parameters); `connections` counts the TCP
    connections opened to it (it keeps them alive, as the real service does)."""

    found: list[Address] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)
    delay: float = 0
    requests: list[tuple[str, dict]] = field(default_factory=list)
    connections: int = 0
    released: threading.Event = field(default_factory=threading.Event)
    port: int = 0

    @property
    def options(self) -> dict:
        return {"domain": f"127.0.0.1:{self.port}", "scheme": "http"}

    def answer(self, path: str, params: dict) -> dict:
        self.requests.append((path, params))
        if self.delay:
            self.released.wait(self.delay)
        if path.rstrip("/") == "/search":
            limit = int(params.get("limit", 5))
            features = [address.feature() for address in self.found[:limit]]
        else:
            position = (float(params["lat"]), float(params["lon"]))
            features = [a.feature() for a in self.addresses if (a.lat, a.lon) == position][:1]
        return {"type": "FeatureCollection", "version": "draft", "features": features}


def serve(ban: FakeBAN):
    """Run the server in a thread; returns a function that stops it."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: every answer says its length

        def setup(self):
            super().setup()
            # Headers and body go out as two writes: without this, the body of an answer on
            # a kept-alive connection waits for the client's delayed acknowledgement (40 ms).
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            ban.connections += 1

        def do_GET(self):
            url = urlsplit(self.path)
            if url.path.rstrip("/") not in ("/search", "/reverse"):
                self.send_error(404)
                return
            params = {key: values[0] for key, values in parse_qs(url.query).items()}
            body = json.dumps(ban.answer(url.path, params)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.block_on_close = False
    ban.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()

    def stop():
        ban.released.set()
        server.shutdown()
        server.server_close()
        thread.join()

    return stop


def free_port() -> int:
    """A port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
