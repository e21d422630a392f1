"""The rate limiter's counters when no shared store is configured: `process://`, one process's
memory, like the `limits` package's `memory://` but without its expiry thread.

`memory://` expires counters with a `threading.Timer` of 10 ms that it starts again on the
next hit once the last one has run: on a server taking a request every few milliseconds, a new
thread for most requests (0.5 ms of CPU each, and a wait for the thread to start). Here a
counter expires when it is next read, and a sweep at most once a minute drops the counters
nobody read again. Fixed windows only, Flask-Limiter's default strategy.
"""

import threading
import time

from limits.storage import Storage

#: Seconds between two sweeps of expired counters.
SWEEP_EVERY = 60


class ProcessStorage(Storage):
    """Fixed-window counters in this process, safe to use from several threads."""

    STORAGE_SCHEME = ["process"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._counters: dict[str, tuple[int, float]] = {}  # key -> (count, expires at)
        self._lock = threading.Lock()
        self._next_sweep = time.time() + SWEEP_EVERY

    @property
    def base_exceptions(self) -> type[Exception]:
        return ValueError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        with self._lock:
            count, expires_at = self._counters.get(key, (0, 0.0))
            if expires_at <= now:
                count, expires_at = 0, now + expiry
            count += amount
            self._counters[key] = (count, expires_at)
            if now >= self._next_sweep:
                self._sweep(now)
        return count

    def get(self, key: str) -> int:
        count, expires_at = self._counters.get(key, (0, 0.0))
        return count if expires_at > time.time() else 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        _count, expires_at = self._counters.get(key, (0, now))
        return max(expires_at, now)

    def check(self) -> bool:
        return True

    def reset(self) -> int:
        with self._lock:
            cleared = len(self._counters)
            self._counters.clear()
        return cleared

    def clear(self, key: str) -> None:
        with self._lock:
            self._counters.pop(key, None)

    def _sweep(self, now: float) -> None:
        expired = [key for key, (_, expires_at) in self._counters.items() if expires_at <= now]
        for key in expired:
            del self._counters[key]
        self._next_sweep = now + SWEEP_EVERY
