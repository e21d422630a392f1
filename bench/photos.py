"""What keeping photos in an S3-compatible store adds to a photo upload, against the local disk:
POST /api/v1/reports with one photo, to two TellCity servers side by side, one keeping its
photos in its upload folder (the default), the other in a bucket (TELLCITY_PHOTO_STORAGE) of
moto's S3 server on loopback.

    python bench/photos.py [--database URL] [--duration 30] [--rounds 4] [--concurrency 2]
                           [--photo-side 2048]

Both run under gunicorn as in production (`gunicorn -w 2`, sync workers) on the same database,
each warmed up; then --rounds rounds load them in turn, in alternating order (see
bench/submit.py for why), --duration seconds in all for each. Every request is a report (the
payloads of bench/submit.py) with one JPEG photo of --photo-side pixels on its long side, as the
installable app sends them (it shrinks photos to 2,048 px on the phone), of noise, so that it
does not compress to nothing: about 1 MB. The app checks, decodes, cleans and re-encodes it and
writes the photo and its thumbnail, then the report, in one request.

Printed: each store's requests/s and latency percentiles, the extra milliseconds of S3 at the
median and the 95th percentile, and the ratio of the S3 server's requests/s to the local one's.
Moto keeps objects in memory and answers on loopback: a real store adds its network round trips
(two PUTs per photo, one GET per photo served) to what is measured here.
"""

import argparse
import io
import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from harness import ROOT, Gunicorn, Load, combined, run_load
from PIL import Image
from seed import prepare_database
from submit import Payloads

from tellcity import create_app
from tellcity.extensions import db
from tellcity.photos.services import file_path, new_key, process_upload
from tellcity.photos.storage import store

# moto's server as the tests start it (tests/photos/s3_server.py): one way to run it.
sys.path.insert(0, str(ROOT))
from tests.photos.s3_server import MotoServer


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", help="SQLAlchemy URL (default: a fresh SQLite file)")
    parser.add_argument("--duration", type=float, default=30, help="seconds measured per store")
    parser.add_argument("--rounds", type=int, default=4, help="turns each store takes")
    parser.add_argument("--concurrency", type=int, default=2, help="clients at once")
    parser.add_argument("--photo-side", type=int, default=2048, help="the photo's long side")
    parser.add_argument("--writes", type=int, default=200, help="photos written alone per store")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tellcity-photos-") as tmp:
        url = args.database or f"sqlite:///{Path(tmp) / 'photos.sqlite3'}"
        run(url, Path(tmp), args)


def run(url: str, tmp: Path, args) -> None:
    app = create_app({"INSTANCE_PATH": tmp / "setup", "DATABASE_URL": url, "SECRET_KEY": "bench"})
    with app.app_context():
        payloads = Payloads(prepare_database(), np.random.default_rng(311))
        db.session.remove()
    photo = phone_like_jpeg(args.photo_side)
    moto = MotoServer().start()
    try:
        bucket = moto.new_bucket()
        alone = writes_alone(tmp, moto, bucket, photo, args.writes)
        common = {
            "TELLCITY_DATABASE_URL": url,
            "TELLCITY_SECRET_KEY": "bench",
            "TELLCITY_RATELIMIT_SUBMIT": "1000000 per minute",
        }
        numbers = itertools.count()

        def request(_n: int):
            return "POST", "/api/v1/reports", {"data": form(payloads.body(next(numbers)), photo)}

        stores = {
            "local disk": {**common, "TELLCITY_INSTANCE_PATH": str(tmp / "local")},
            "S3 (moto)": {
                **common,
                **moto.env,
                "TELLCITY_INSTANCE_PATH": str(tmp / "s3"),
                "TELLCITY_PHOTO_STORAGE": f"s3://{bucket}/photos",
            },
        }
        rounds = load_in_turns(stores, request, args)
        pages = (
            moto.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="photos/")
        )
        stored = sum(len(page.get("Contents", [])) for page in pages)
    finally:
        moto.stop()
    local_files = sum(len(files) for _, _, files in os.walk(tmp / "local" / "uploads"))
    print_results(args, len(photo), rounds, {"local disk": local_files, "S3 (moto)": stored})
    print_writes(alone)


def phone_like_jpeg(side: int) -> bytes:
    """A 4:3 JPEG `side` pixels wide with about as much detail as a photo: random pixels at a
    sixteenth of the size, enlarged smoothly, with some fine noise on top."""
    height = side * 3 // 4
    rng = np.random.default_rng(20)
    coarse = rng.integers(0, 256, (height // 16, side // 16, 3), dtype=np.uint8)
    smooth = np.asarray(Image.fromarray(coarse).resize((side, height), Image.Resampling.BICUBIC))
    grain = rng.integers(-12, 13, smooth.shape)
    pixels = np.clip(smooth.astype(int) + grain, 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def form(body: dict, photo: bytes):
    """A multipart body: the report's place and text, a pothole (multipart carries no answers
    to a category's questions, and a pothole requires none), and the photo."""
    import aiohttp

    data = aiohttp.FormData()
    data.add_field("category", "pothole")
    for name in ("lat", "lon", "address", "description", "email"):
        data.add_field(name, str(body[name]))
    data.add_field("photos", photo, filename="photo.jpg", content_type="image/jpeg")
    return data


def load_in_turns(stores: dict[str, dict], request, args) -> list[dict[str, Load]]:
    """Both servers up throughout; each warmed up, then loaded in turns."""
    seconds = args.duration / args.rounds
    with (
        Gunicorn("tellcity:create_app()", stores["local disk"], ready_path="/healthz") as local,
        Gunicorn("tellcity:create_app()", stores["S3 (moto)"], ready_path="/healthz") as s3,
    ):
        servers = {"local disk": local.url, "S3 (moto)": s3.url}

        def load(name: str, duration: float, warmup: float = 0.0) -> Load:
            return run_load(
                f"TellCity, photos on {name}",
                servers[name],
                request,
                concurrency=args.concurrency,
                duration=duration,
                warmup=warmup,
            )

        for name in servers:
            load(name, 0, warmup=3)
        rounds = []
        for n in range(args.rounds):
            order = list(servers) if n % 2 == 0 else list(reversed(servers))
            rounds.append({name: load(name, seconds) for name in order})
    return rounds


def writes_alone(tmp: Path, moto: MotoServer, bucket: str, photo: bytes, times: int) -> dict:
    """The milliseconds each of `times` photos takes to write (its image and thumbnail, as
    store_photo writes them) to each store, in this process, without HTTP or database."""
    os.environ.update(moto.env)
    timings = {}
    for name, setting in (("local disk", ""), ("S3 (moto)", f"s3://{bucket}/alone")):
        app = create_app({"INSTANCE_PATH": tmp / f"alone-{len(timings)}", "PHOTO_STORAGE": setting})
        with app.app_context():
            processed = process_upload(photo)
            timings[name] = []
            for _ in range(times):
                names = [file_path(new_key("jpg")) for _ in range(2)]
                started = time.perf_counter()
                store().write(names[0], processed.thumbnail, processed.content_type)
                store().write(names[1], processed.image, processed.content_type)
                timings[name].append((time.perf_counter() - started) * 1000)
    return timings


def print_results(args, photo_bytes: int, rounds: list[dict[str, Load]], stored: dict) -> None:
    print(
        f"Reports with one {args.photo_side}-px JPEG photo ({photo_bytes / 1e6:.2f} MB) through "
        f"POST /api/v1/reports: gunicorn -w 2 (sync), {args.concurrency} clients, "
        f"{args.rounds} rounds of {args.duration / args.rounds:g} s per store, in turns"
    )
    totals = {name: combined(name, [r[name] for r in rounds]) for name in rounds[0]}
    print(f"{'':<14}{'requests':>9}{'errors':>8}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}", end="")
    print(f"{'p99 ms':>8}{'files kept':>12}")
    for name, load in totals.items():
        print(
            f"{name:<14}{load.requests:>9,}{load.errors:>8,}{load.rate:>8.1f}"
            f"{load.percentile(50):>8.1f}{load.percentile(95):>8.1f}{load.percentile(99):>8.1f}"
            f"{stored[name]:>12,}"
        )
    local, s3 = totals["local disk"], totals["S3 (moto)"]
    medians = [r["S3 (moto)"].percentile(50) - r["local disk"].percentile(50) for r in rounds]
    print(
        f"S3 adds {s3.percentile(50) - local.percentile(50):+.1f} ms at the median "
        f"(rounds: {', '.join(f'{m:+.1f}' for m in medians)}), "
        f"{s3.percentile(95) - local.percentile(95):+.1f} ms at p95"
    )
    ratio = s3.rate / local.rate if local.rate else float("nan")
    spread = [r["S3 (moto)"].rate / r["local disk"].rate for r in rounds if r["local disk"].rate]
    print(
        f"ratio: photos on S3 take {ratio:.2f} of the local disk's requests/s "
        f"(rounds: median {statistics.median(spread):.2f}, {min(spread):.2f} to {max(spread):.2f})"
    )


def print_writes(timings: dict[str, list[float]]) -> None:
    print("The writes alone (a photo's image and thumbnail, in this process), ms per photo:")
    for name, values in timings.items():
        p50, p95 = np.percentile(values, [50, 95])
        print(f"  {name:<12} p50 {p50:6.2f}  p95 {p95:6.2f}  ({len(values)} photos)")
    local, s3 = (float(np.percentile(v, 50)) for v in timings.values())
    print(f"  S3 adds {s3 - local:+.2f} ms a photo at the median ({s3 / local:.1f} times the disk)")


if __name__ == "__main__":
    main()
