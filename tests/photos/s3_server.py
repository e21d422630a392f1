"""A real S3 protocol server on loopback for the tests: moto's standalone server, run as its own
process (`python -m moto.server`), so that the app talks to it over HTTP through boto3 exactly as
it would to a city's object store. It needs no network beyond loopback, and keeps everything in
memory until it stops.

`env` holds the AWS_* variables a process needs to use it (the app in this process through
monkeypatch, or an app server started by a test); `new_bucket()` makes an empty bucket.
"""

import os
import socket
import subprocess
import sys
import time
import uuid

import boto3

from tests.notify.helpers import free_port

#: What boto3 must not read from the developer's machine while a test talks to moto.
UNSET = ("AWS_ENDPOINT_URL_S3", "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_PROFILE")


class MotoServer:
    """moto's S3 server on 127.0.0.1 at a free port."""

    def __init__(self):
        self.port = free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    @property
    def env(self) -> dict[str, str]:
        """The standard boto3 settings pointing at this server (any key pair is accepted)."""
        return endpoint_env(self.endpoint_url)

    def start(self, timeout: float = 30) -> "MotoServer":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while not _listening(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"moto's S3 server did not start on port {self.port}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def client(self):
        """A boto3 S3 client of this server (for a test to look at what the app stored)."""
        env = self.env
        return boto3.session.Session(
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            region_name=env["AWS_DEFAULT_REGION"],
        ).client("s3", endpoint_url=self.endpoint_url)

    def new_bucket(self) -> str:
        """The name of a new, empty bucket."""
        name = f"tellcity-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=name)
        return name


def endpoint_env(endpoint_url: str) -> dict[str, str]:
    """AWS_* variables for an S3 endpoint that takes any key pair."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": "tellcity-tests",
        "AWS_SECRET_ACCESS_KEY": "tellcity-tests",
        "AWS_DEFAULT_REGION": "us-east-1",
        # No configuration or credentials of the developer's own.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


class Bucket:
    """The bucket and prefix an app stores its photos in, to look at from a test."""

    def __init__(self, server: MotoServer, name: str, prefix: str):
        self.server, self.name, self.prefix = server, name, prefix
        self.client = server.client()

    @property
    def url(self) -> str:
        """The PHOTO_STORAGE setting naming this bucket and prefix."""
        return f"s3://{self.name}/{self.prefix}"

    def names(self, folder: str = "") -> list[str]:
        """The stored names (keys less the prefix) under `folder`, sorted."""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.name, Prefix=f"{self.prefix}/{folder}"
        )
        return sorted(
            obj["Key"][len(self.prefix) + 1 :] for page in pages for obj in page.get("Contents", [])
        )

    def read(self, name: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=f"{self.prefix}/{name}")["Body"].read()

    def put(self, name: str, content: bytes) -> None:
        self.client.put_object(Bucket=self.name, Key=f"{self.prefix}/{name}", Body=content)

    def head(self, name: str) -> dict:
        return self.client.head_object(Bucket=self.name, Key=f"{self.prefix}/{name}")


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0
