"""What the tests that start real servers (gunicorn in its own process) share."""

import time
import urllib.request


def wait_until_serving(base: str, seconds: float = 90) -> None:
    """Return once `base`/healthz answers; raise RuntimeError after `seconds` without."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{base} did not start")
