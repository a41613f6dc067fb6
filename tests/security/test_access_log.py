"""The web server's access log (the Procfile's gunicorn, with its logger class) never holds a write key,
though SDKs put one in the request line: `?writeKey=` (RudderStack's beacon and sourceConfig), the path of
Segment's project settings, and the HTTP Basic user name."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys

import pytest
import requests
from django.db import connection

from tests.ingestion.server import ROOT, database_url, free_port, wait_for
from tests.support.factories import make_destination, make_source

pytestmark = pytest.mark.django_db(transaction=True)


def procfile_logger_class() -> str:
    """The logger class the Procfile's web server runs with."""
    procfile = (ROOT / "cio_project" / "Procfile").read_text().splitlines()
    words = shlex.split(next(line for line in procfile if line.startswith("web:")))
    return words[words.index("--logger-class") + 1]


def test_the_access_log_names_every_request_without_its_write_key(tmp_path):
    # Given the Procfile's web server, logging access to a file
    source = make_source("web")
    make_destination(source)
    key = source.write_key
    port, log = free_port(), tmp_path / "access.log"
    command = [
        *(
            sys.executable,
            "-m",
            "gunicorn",
            "cio_project.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ),
        *("--access-logfile", str(log), "--logger-class", procfile_logger_class()),
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
    assert "/beacon/v1/batch?writeKey=[redacted]" in text and "/v1/projects/[redacted]/settings" in text
    assert key not in text
