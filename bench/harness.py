"""What the HTTP benchmarks share: gunicorn serving an app on a free loopback port, a bounded
load generator (asyncio and aiohttp: `pip install -e '.[bench]'`), latency percentiles, and
the peak memory of gunicorn's workers."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
#: The production configuration of the README: gunicorn's sync workers, two of them here.
WORKERS = 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """`gunicorn -w WORKERS APP` on 127.0.0.1, started on entry (once it answers `ready_path`)
    and stopped on exit (SIGTERM to its master, which it started: no other process is
    touched)."""

    def __init__(self, app: str, env: dict[str, str], *, workers: int = WORKERS, ready_path="/"):
        self.app, self.workers, self.ready_path = app, workers, ready_path
        self.env = {**os.environ, **env}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Gunicorn":
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(self.workers),
            "-b",
            f"127.0.0.1:{self.port}",
            "--pythonpath",
            str(BENCH),
            "--log-level",
            "warning",
            self.app,
        ]
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env)
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn {self.app} exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(self.url + self.ready_path, timeout=5):
                    pass
                if len(self.worker_pids()) == self.workers:
                    return
            except urllib.error.HTTPError:
                if len(self.worker_pids()) == self.workers:
                    return  # it answers, if not 200
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn {self.app} did not answer in {timeout} s")

    def worker_pids(self) -> list[int]:
        """The pids of the master's children (its workers)."""
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == self.process.pid:
                pids.append(int(entry.name))
        return sorted(pids)

    def peak_rss_mb(self) -> dict[int, float]:
        """Each worker's peak resident memory (VmHWM), in MB."""
        peaks = {}
        for pid in self.worker_pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peaks[pid] = int(line.split()[1]) / 1024
        return peaks

    def __exit__(self, *exc) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class Load:
    """The outcome of a load run: latencies (seconds) of the requests that ended after the
    warm-up, by status."""

    label: str
    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    client_cpu: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """The p-th percentile latency in milliseconds (NaN without requests)."""
        if not self.latencies:
            return float("nan")
        return float(np.percentile(self.latencies, p)) * 1000

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if not 200 <= status < 400)


def combined(label: str, loads: list[Load]) -> Load:
    """One Load of several runs of the same server (the rounds of an interleaved benchmark)."""
    total = Load(label, sum(load.seconds for load in loads))
    for load in loads:
        total.latencies += load.latencies
        total.statuses.update(load.statuses)
        total.client_cpu += load.client_cpu
    return total


#: The status counted for a request whose connection broke (a worker killed by its timeout).
DISCONNECTED = 599
#: A request: (method, path, keyword arguments of aiohttp's `request`).
Request = tuple[str, str, dict]


def run_load(
    label: str,
    base_url: str,
    make_request: Callable[[int], Request],
    *,
    concurrency: int,
    duration: float,
    warmup: float = 2.0,
    max_requests: int | None = None,
    session_setup: Callable | None = None,
) -> Load:
    """Send requests made by `make_request(n)` from `concurrency` clients for `warmup` +
    `duration` seconds (or until `max_requests` were measured); only requests started after
    the warm-up count. `session_setup(session)` (a coroutine) runs first, to sign in."""
    return asyncio.run(
        _load(
            label,
            base_url,
            make_request,
            concurrency,
            duration,
            warmup,
            max_requests,
            session_setup,
        )
    )


def with_session(base_url: str, work: Callable) -> object:
    """Run the coroutine function `work(session)` with a client session on `base_url` (one
    that keeps the cookies of 127.0.0.1) and give back what it returns."""

    async def go():
        async with _session(base_url, 1) as session:
            return await work(session)

    return asyncio.run(go())


def _session(base_url: str, concurrency: int):
    import aiohttp  # the `bench` extra

    return aiohttp.ClientSession(
        base_url,
        # gunicorn's sync workers close every connection: so does the client
        connector=aiohttp.TCPConnector(limit=concurrency, force_close=True),
        timeout=aiohttp.ClientTimeout(total=60),
        cookie_jar=aiohttp.CookieJar(unsafe=True),  # cookies from 127.0.0.1
    )


async def _load(
    label, base_url, make_request, concurrency, duration, warmup, max_requests, session_setup
) -> Load:
    import aiohttp

    result = Load(label, duration)
    counter = iter(range(10**12))
    async with _session(base_url, concurrency) as session:
        if session_setup is not None:
            await session_setup(session)
        cpu_started = time.process_time()
        started = time.perf_counter()
        measure_from = started + warmup
        deadline = measure_from + duration

        async def client() -> None:
            while True:
                now = time.perf_counter()
                if now >= deadline or (max_requests and result.requests >= max_requests):
                    return
                method, path, kwargs = make_request(next(counter))
                began = time.perf_counter()
                try:
                    async with session.request(method, path, allow_redirects=False, **kwargs) as r:
                        await r.read()
                        status = r.status
                except (TimeoutError, aiohttp.ClientError):
                    status = DISCONNECTED
                if began >= measure_from:
                    result.latencies.append(time.perf_counter() - began)
                    result.statuses[status] += 1

        await asyncio.gather(*(client() for _ in range(concurrency)))
        result.seconds = time.perf_counter() - max(measure_from, started)
        result.client_cpu = time.process_time() - cpu_started
    return result
