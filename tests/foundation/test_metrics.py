"""GET /metrics after real traffic: a real gunicorn (two workers), a Celery worker and beat, each
counting into the multiprocess directory, and a scrape whose counts match what was sent."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from delivery.models import Delivery
from destinations.models import Destination, Source
from tests.engine.conftest import FAST_WORKER
from tests.support import processes
from tests.support.fake_customerio import running_fake
from tests.support.services import free_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
TOKEN = "scrape-token-for-tests-0123456789"


@pytest.fixture
def system(tmp_path) -> Iterator[tuple[str, object]]:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    with running_fake() as fake:
        env = processes.process_env(
            fake.url, **FAST_WORKER, PROMETHEUS_MULTIPROC_DIR=metrics_dir, METRICS_TOKEN=TOKEN
        )
        port = free_port()
        started = [processes.web(tmp_path, env, port, workers=2), processes.worker(tmp_path, env)]
        started.append(processes.beat(tmp_path, env))
        try:
            for process in started:
                process.start(timeout=60)
            yield f"http://127.0.0.1:{port}", fake
        finally:
            for process in started:
                process.stop()


def basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


def scrape(url: str, **headers: str) -> dict[tuple[str, tuple], float]:
    response = requests.get(f"{url}/metrics", headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def total(samples: dict, name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(value for (sample, found), value in samples.items() if sample == name and wanted <= set(found))


def test_the_counts_after_real_traffic_are_what_was_sent(system):
    url, fake = system
    source = Source.objects.create(name="web")
    destination = Destination.objects.create(
        name="Customer.io", site_id="site", api_key="0123456789abcdef0123"
    )
    destination.sources.add(source)
    # Given Customer.io failing bob's first request, and traffic: 10 events (two requests), a bad batch,
    # and a wrong key
    fake.answer(500, path="/api/v1/customers/bob/events", times=1)
    events = [
        {"type": "track", "userId": person, "event": "Paid"} for person in ("ann", "bob") for _ in range(4)
    ]
    for batch in (events[:5], events[5:] + [{"type": "identify", "userId": "cat"}] * 2):
        answer = requests.post(
            f"{url}/v1/batch", json={"batch": batch}, headers={"Authorization": basic(source.write_key)}
        )
        assert answer.status_code == 200
    bad = requests.post(
        f"{url}/v1/batch",
        json={"batch": [{"type": "nope"}]},
        headers={"Authorization": basic(source.write_key)},
    )
    wrong = requests.post(f"{url}/v1/track", json=events[0], headers={"Authorization": basic("wrong")})
    assert (bad.status_code, wrong.status_code) == (400, 401)
    processes.wait_until(
        lambda: Delivery.objects.filter(status="delivered").count() == 10, timeout=60, message="not delivered"
    )
    # When Prometheus scrapes, without the token and with it
    assert requests.get(f"{url}/metrics", timeout=10).status_code == 403
    samples = scrape(url, Authorization=f"Bearer {TOKEN}")
    # Then every process's counts add up to what happened
    dest, src = str(destination.pk), str(source.pk)
    assert total(samples, "cio_relay_events_accepted_total", source=src) == 10
    assert total(samples, "cio_relay_ingest_refused_total", status="400", code="invalid_request") == 1
    assert total(samples, "cio_relay_ingest_refused_total", status="401", code="invalid_write_key") == 1
    assert total(samples, "cio_relay_http_requests_total", route="/v1/batch", status="200") == 2
    assert total(samples, "cio_relay_ingest_seconds_count", route="/v1/batch") == 3
    assert total(samples, "cio_relay_deliveries_finished_total", destination=dest, status="delivered") == 10
    assert total(samples, "cio_relay_customerio_answers_total", destination=dest, answer="5xx") == 1
    assert total(samples, "cio_relay_customerio_answers_total", destination=dest, answer="2xx") == 10
    assert total(samples, "cio_relay_customerio_request_seconds_count", destination=dest) == 11
    assert total(samples, "cio_relay_delivery_retries_total", destination=dest) == 1
    assert total(samples, "cio_relay_sweeper_actions_total", action="destinations_rung") >= 1
    # And the backlog is read from the database at each scrape
    assert total(samples, "cio_relay_backlog", destination=dest) == 0
    waiting = Delivery.objects.filter(status="delivered")[:3]
    Delivery.objects.filter(pk__in=[delivery.pk for delivery in waiting]).update(
        status="retrying", next_attempt_at=timezone.now() + timedelta(hours=1)
    )
    assert total(scrape(url, Authorization=f"Bearer {TOKEN}"), "cio_relay_backlog", destination=dest) == 3
