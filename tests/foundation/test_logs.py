"""LOG_FORMAT=json, and the request id that ties a web log line to the deliveries it stored."""

from __future__ import annotations

import base64
import json

import pytest
import requests
from django.contrib.auth.models import User
from django.test import Client

from delivery.models import Delivery
from destinations.models import Destination, Source
from tests.engine.conftest import FAST_WORKER
from tests.support import processes
from tests.support.fake_customerio import running_fake
from tests.support.services import free_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_json_logs_carry_the_request_id_from_the_web_to_the_worker(tmp_path):
    source = Source.objects.create(name="web")
    destination = Destination.objects.create(
        name="Customer.io", site_id="site", api_key="0123456789abcdef0123"
    )
    destination.sources.add(source)
    with running_fake() as fake:
        fake.answer(500, path="/api/v1/customers/bob/events", times=1)
        env = processes.process_env(fake.url, **FAST_WORKER, LOG_FORMAT="json", LOG_LEVEL="DEBUG")
        port = free_port()
        web, worker = processes.web(tmp_path, env, port, workers=1), processes.worker(tmp_path, env)
        beat = processes.beat(tmp_path, env)
        try:
            for process in (web, worker, beat):
                process.start(timeout=60)
            # Given a request that names its id, carrying an event that is retried once
            auth = "Basic " + base64.b64encode(f"{source.write_key}:".encode()).decode()
            answer = requests.post(
                f"http://127.0.0.1:{port}/v1/track",
                json={"userId": "bob", "event": "Paid"},
                headers={"Authorization": auth, "X-Request-ID": "req-trace-7"},
                timeout=30,
            )
            assert answer.headers["X-Request-ID"] == "req-trace-7"
            processes.wait_until(
                lambda: Delivery.objects.filter(status="delivered").exists(),
                timeout=60,
                message="not delivered",
            )
        finally:
            for process in (web, worker, beat):
                process.stop()
    # Then the worker's lines are JSON objects, and the ones about that delivery carry the request's id
    delivery = Delivery.objects.get()
    lines = json_lines(worker.log())
    assert lines and all({"time", "level", "logger", "message", "request_id"} <= set(line) for line in lines)
    about = [line for line in lines if line.get("delivery_id") == delivery.pk]
    assert [line["message"].split(" ")[5].rstrip(":") for line in about] == ["retrying", "delivered"]
    assert {line["request_id"] for line in about} == {"req-trace-7"}
    # and the web's access line for the request ends with it
    assert any(
        '"POST /v1/track HTTP/1.1" 200' in line and line.endswith("req-trace-7")
        for line in web.log().splitlines()
    )
    # and the delivery's page shows it
    admin = Client()
    admin.force_login(User.objects.create_superuser("root", "root@example.com", "a-long-password-for-tests"))
    page = admin.get(f"/admin/delivery/delivery/{delivery.pk}/change/").content.decode()
    assert '<td id="delivery-request-id"><code>req-trace-7</code>' in page
