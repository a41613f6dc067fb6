"""The ingestion rate limit per write key, against a real gunicorn with several processes on Redis.

tests/ingestion/test_rate_limit.py proves the rule through Django's test client (429, Retry-After, a
count per key, shared through Redis). Here three server processes answer one client's burst: the limit
holds across them, because they count in the same Redis.
"""

from __future__ import annotations

import base64
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from destinations.models import Destination, Source
from tests.support import processes
from tests.support.services import free_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services, pytest.mark.slow]

LIMIT = 5


def test_the_limit_holds_across_server_processes_and_answers_429_with_retry_after(tmp_path):
    # Given a limit of 5 requests a second per write key, and three gunicorn processes sharing Redis
    source = Source.objects.create(name="limited")
    Destination.objects.create(name="cio", site_id="site", api_key="0" * 20).sources.add(source)
    other = Source.objects.create(name="other")
    port = free_port()
    env = processes.process_env(INGESTION_RATE_LIMIT_PER_SECOND=LIMIT)
    web = processes.web(tmp_path, env, port, workers=3, threads=4).start(timeout=60)
    url = f"http://127.0.0.1:{port}/v1/track"

    def post(key: str, index: int) -> tuple[float, requests.Response]:
        auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
        body = {"userId": "u", "event": "e", "messageId": f"{key[:6]}-{index}"}
        response = requests.post(url, json=body, headers={"Authorization": auth}, timeout=30)
        return time.time(), response

    try:
        # When one key sends 60 requests at once, over many connections
        with ThreadPoolExecutor(12) as pool:
            answers = list(pool.map(lambda index: post(source.write_key, index), range(60)))
        # And another key sends one meanwhile
        _, others = post(other.write_key, 0)
    finally:
        web.stop()
    # Then at most 5 were taken in each one-second window the burst spanned, the rest told when to retry
    moments = [moment for moment, _ in answers]
    windows = int(max(moments)) - int(min(moments)) + 2  # the server's windows, give or take one
    taken = [response for _, response in answers if response.status_code == 200]
    refused = [response for _, response in answers if response.status_code == 429]
    assert 0 < len(taken) <= LIMIT * windows, (len(taken), windows)
    assert len(taken) + len(refused) == len(answers)
    assert all(response.headers["Retry-After"] == "1" for response in refused)
    # And the other key had its own allowance
    assert others.status_code == 200
