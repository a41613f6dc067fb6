"""The web server's access log (gunicorn with cio_project/gunicorn.conf.py) never holds a write key,
though SDKs put one in the request line: `?writeKey=` (RudderStack's beacon and sourceConfig), the path of
Segment's project settings, and the HTTP Basic user name."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import requests
from django.db import connection

from tests.ingestion.server import ROOT, database_url, free_port, wait_for
from tests.support.factories import make_destination, make_source
from tests.support.processes import GUNICORN_CONFIG

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_access_log_names_every_request_without_its_write_key(tmp_path):
    # Given the web server as `make run` starts it, logging access to a file
    source = make_source("web")
    make_destination(source)
    key = source.write_key
    port, log = free_port(), tmp_path / "access.log"
    command = [
        *(
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ),
        *("--config", str(GUNICORN_CONFIG), "--access-logfile", str(log)),
    ]
    env = {**os.environ, "DATABASE_URL": database_url(connection.settings_dict)}
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        wait_for(port, server)
        url = f"http://127.0.0.1:{port}"
        # When SDKs send with the key in the query, in the path and as the Basic user name
        batch = '{"batch": [{"type": "track", "userId": "ann", "event": "Left"}]}'
        assert (
            requests.post(f"{url}/beacon/v1/batch?writeKey={key}", data=batch, timeout=10).status_code == 200
        )
        assert requests.get(f"{url}/sourceConfig/?p=npm&writeKey={key}&v=3", timeout=10).status_code == 200
        assert requests.get(f"{url}/v1/projects/{key}/settings", timeout=10).status_code == 200
        answer = requests.post(
            f"{url}/v1/track", json={"userId": "ann", "event": "Paid"}, auth=(key, ""), timeout=10
        )
        assert answer.status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
    # Then the log has a line for each request, with the key masked
    text = log.read_text()
    assert len(text.splitlines()) == 4
    # (the query string is left out whole; a key in the path is masked)
    assert (
        '"POST /beacon/v1/batch HTTP/1.1" 200' in text
        and '"GET /v1/projects/[redacted]/settings HTTP/1.1"' in text
    )
    assert key not in text and "writeKey" not in text
