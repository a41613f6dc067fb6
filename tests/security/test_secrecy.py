"""Secrets stay secret: after a run with a known API key, write key and reporting webhook signing key,
none appears anywhere a person or a log reader can see, and the database holds them only encrypted.

The run: a real gunicorn, worker and beat; events delivered, refused by Customer.io with 401 and 400
(answers that echo the credentials back), one replayed; ingestion calls with wrong keys; reporting
webhook posts signed with the key and with a wrong one, and a malformed one. Then every
log line of the three processes, every column of every row the apps store, every API answer and every
admin page (the walk reads every admin route, so new pages are covered too) is scanned for each key,
plain and as the Base64 of an HTTP Basic header.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest
import requests
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test import Client

from delivery.engine.replay import replay
from delivery.models import Delivery
from delivery.tasks import sync_warehouse
from destinations.models import Destination, Source
from destinations.warehouse.models import SyncRun, WarehouseSource
from tests.engine.conftest import FAST_WORKER
from tests.security.test_admin_access import admin_urls
from tests.support import processes
from tests.support.fake_customerio import running_fake
from tests.support.services import free_port
from tests.webhooks.examples import event as webhook_event
from tests.webhooks.examples import signed_headers

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

API_KEY = "5ec7e75ec7e75ec7e75e"
SITE_ID = "secretsite"
# A warehouse's connection URL with a password; nothing listens on port 1, so its sync fails to connect.
WAREHOUSE_PASSWORD = "wh-5ecret-pa55word"
WAREHOUSE_URL = f"postgresql://reader:{WAREHOUSE_PASSWORD}@127.0.0.1:1/warehouse"
SIGNING_KEY = "519e519e519e519e519e"


def forms(secret: str, basic_user: str) -> list[str]:
    """The secret as itself, and inside the Base64 of the HTTP Basic credentials that carry it."""
    return [secret, base64.b64encode(basic_user.encode()).decode()]


def echo(status: int, message: str):
    """A Customer.io answer that repeats the request's credentials back, as a careless server might."""

    def body(request) -> dict:
        return {"meta": {"error": f"{message}: {request.headers.get('Authorization')} (key {API_KEY})"}}

    return status, body


@pytest.fixture
def system(tmp_path) -> Iterator[tuple[processes.ChildProcess, list, int]]:
    """gunicorn, a worker and beat on the test database, delivering to a fake Customer.io."""
    with running_fake() as fake:
        for person, (status, body) in {"locked": echo(401, "Unauthorized"), "bad": echo(400, "Bad")}.items():
            fake.answer(status, body=body, path=f"/api/v1/customers/{person}")
        env = processes.process_env(fake.url, **FAST_WORKER, LOG_LEVEL="DEBUG")
        port = free_port()
        started = [processes.web(tmp_path, env, port, workers=1), processes.worker(tmp_path, env)]
        started.append(processes.beat(tmp_path, env))
        try:
            for process in started:
                process.start(timeout=60)
            yield started, fake, port
        finally:
            for process in started:
                process.stop()


def basic(user: str, password: str = "") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def wrong_key(write_key: str) -> str:
    return write_key[:-1] + ("A" if write_key[-1] != "A" else "B")


def run_traffic(port: int, write_key: str) -> list[str]:
    """Events that are delivered, refused with 401 and 400, and calls with wrong keys; the answers."""
    url = f"http://127.0.0.1:{port}"
    batch = [
        {"type": "identify", "userId": person, "traits": {"plan": "pro"}}
        for person in ("ann", "locked", "bad")
    ]
    wrong = wrong_key(write_key)
    calls = [
        ("/v1/batch", {"batch": batch}, basic(write_key)),
        ("/v1/track", {"userId": "ann", "event": "Paid", "writeKey": write_key}, ""),
        ("/v1/track", {"userId": "ann", "event": "Paid"}, basic(wrong)),
        ("/v1/track", {"userId": "ann", "event": "Paid"}, basic("", write_key)),
        ("/v1/track", {"userId": "ann", "event": "Paid"}, f"Token {write_key}"),
        ("/v1/track", {"userId": "ann", "event": "Paid"}, f"Bearer {write_key}"),
        ("/v1/track", {"userId": "ann", "event": "Paid"}, f"Bearer {wrong}"),
        (f"/v1/track?writeKey={write_key}", {"userId": "ann", "event": "Paid"}, ""),
        (f"/v1/track?writeKey={wrong}", {"userId": "ann", "event": "Paid"}, ""),
        (f"/no/such/path?writeKey={write_key}", {}, basic(write_key)),
        ("/v1/track", {"userId": "ann"}, basic(write_key)),
    ]
    answers = []
    for path, body, authorization in calls:
        response = requests.post(url + path, json=body, headers={"Authorization": authorization}, timeout=30)
        answers.append(
            (
                response.status_code,
                len(body.get("batch", [body])),
                f"{dict(response.headers)} {response.text}",
            )
        )
    return answers


def post_webhooks(port: int, destination: Destination) -> list[str]:
    """Message activity posted as Customer.io signs it, then with a wrong key, then malformed; the answers."""
    url = f"http://127.0.0.1:{port}{destination.webhook_path()}"
    good = json.dumps(webhook_event("email", "bounced")).encode()
    answers = []
    for body, key in ((good, SIGNING_KEY), (good, SIGNING_KEY[::-1]), (b"{not json", SIGNING_KEY)):
        response = requests.post(url, data=body, headers=signed_headers(body, key), timeout=30)
        answers.append(f"{response.status_code} {dict(response.headers)} {response.text}")
    assert [answer.split()[0] for answer in answers] == ["200", "401", "400"]
    return answers


def settings_documents(port: int, write_key: str) -> list[str]:
    """Every settings document SDKs fetch, asked for in every way they ask; a browser sees these."""
    url = f"http://127.0.0.1:{port}"
    answers = [
        requests.get(f"{url}/sourceConfig/?p=npm&writeKey={write_key}", timeout=30),
        requests.get(f"{url}/sourceConfig?p=ios", headers={"Authorization": basic(write_key)}, timeout=30),
        requests.get(f"{url}/v1/projects/{write_key}/settings", timeout=30),
        requests.get(f"{url}/v1/projects/{write_key}/settings/", timeout=30),
    ]
    assert [answer.status_code for answer in answers] == [200] * 4
    return [f"{dict(answer.headers)} {answer.text}" for answer in answers]


def database_text() -> Iterator[tuple[str, str]]:
    """(table, raw text) of every row of every table the project's apps own, read with plain SQL."""
    for config in (apps.get_app_config(label) for label in ("delivery", "destinations", "warehouse")):
        for model in config.get_models():
            table = model._meta.db_table
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
                for row in cursor.fetchall():
                    yield table, " ".join(map(str, row))


def admin_pages() -> Iterator[tuple[str, str]]:
    """Every admin page, as a superuser and as staff who may only view (to whom Django shows a form as
    its fields' values)."""
    root = User.objects.create_superuser("root", "root@example.com", "a-long-password-for-tests")
    viewer = User.objects.create_user("vera", "vera@example.com", "a-long-password-for-tests", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    for user in (root, viewer):
        for url, page in admin_pages_of(user):
            yield f"{url} (as {user.username})", page


def admin_pages_of(user: User) -> Iterator[tuple[str, str]]:
    browser = Client()
    browser.force_login(user)
    urls = set(admin_urls())
    for model in admin.site._registry:
        info = model._meta.app_label, model._meta.model_name
        for pk in model.objects.values_list("pk", flat=True):
            urls.update(
                f"/admin/{info[0]}/{info[1]}/{pk}/{page}/" for page in ("change", "history", "delete")
            )
    for url in sorted(urls):
        yield url, browser.get(url, follow=True).content.decode(errors="replace")


def all_finished(count: int) -> bool:
    return Delivery.objects.exclude(status__in=Delivery.OPEN).count() == count


def test_neither_key_appears_in_logs_rows_answers_or_admin_pages(system):
    # Given a destination with a known API key, and a source's write key
    started, fake, port = system
    source = Source.objects.create(name="web")
    destination = Destination.objects.create(
        name="Customer.io",
        site_id=SITE_ID,
        api_key=API_KEY,
        webhook_signing_key=SIGNING_KEY,
        use_native_sdk=True,
        enable_in_app_messages=True,
    )
    destination.sources.add(source)
    wrong = wrong_key(source.write_key)
    secrets = [*forms(API_KEY, f"{SITE_ID}:{API_KEY}"), *forms(source.write_key, f"{source.write_key}:")]
    secrets += forms(wrong, f"{wrong}:")
    secrets += [WAREHOUSE_URL, WAREHOUSE_PASSWORD]
    # And a warehouse source whose sync, run by the worker, fails to connect
    warehouse = WarehouseSource(
        name="crm", connection_url=WAREHOUSE_URL, query="SELECT id FROM people", identifier_column="id"
    )
    warehouse.save()
    warehouse.source.destinations.add(destination)
    sync_warehouse.delay(warehouse.pk)
    secrets.append(SIGNING_KEY)
    # When events are delivered, refused by Customer.io with 401 and 400, calls come with wrong keys
    # (in the Basic user name and password, as a Bearer token, in the body and in the query string), and
    # SDKs fetch their settings documents
    answers = run_traffic(port, source.write_key)
    documents = settings_documents(port, source.write_key)
    accepted = sum(count for status, count, _ in answers if status == 200)
    assert accepted >= 5 and Delivery.objects.count() == accepted
    processes.wait_until(lambda: all_finished(accepted), timeout=60, message="deliveries did not finish")
    failed = list(Delivery.objects.filter(status="failed").values_list("id", flat=True))
    assert len(failed) == 2 and {request.status for request in fake.requests()} == {200, 400, 401}
    # And the failed ones are replayed (and fail again)
    assert replay(failed) == 2
    processes.wait_until(
        lambda: Delivery.objects.filter(replay_count=1, status="failed").count() == 2,
        timeout=60,
        message="the replays did not finish",
    )
    run = processes.wait_until(
        lambda: SyncRun.objects.filter(state="failed").first(), timeout=60, message="the sync did not fail"
    )
    assert "Connection refused" in run.error or "connection" in run.error.lower()
    # Then no log line, stored row, API answer or admin page holds a key or the URL in any form
    texts = {f"log {process.name}": process.log() for process in started}
    webhook_answers = post_webhooks(port, destination)
    texts["API answers"] = "\n".join([*(answer for _, _, answer in answers), *webhook_answers])
    # (the web process logs every request, as `make run` does)
    assert any(
        '"POST /v1/track HTTP/1.1" 401' in text for where, text in texts.items() if where.startswith("log")
    )
    texts.update((f"row of {table}", row) for table, row in database_text())
    texts.update((f"admin page {url}", page) for url, page in admin_pages())
    assert len(texts) > 20
    for where, text in texts.items():
        for secret in secrets:
            assert secret not in text, f"a secret appears in the {where}"
    # And the settings documents, which hand a browser the write key it already has, hold no API key
    assert all(SITE_ID in document for document in documents)
    for document in documents:
        for secret in forms(API_KEY, f"{SITE_ID}:{API_KEY}"):
            assert secret not in document, "the API key appears in a settings document"
    # And the raw columns hold the keys encrypted
    with connection.cursor() as cursor:
        cursor.execute("SELECT api_key FROM destinations_destination")
        (raw_api_key,) = cursor.fetchone()
        cursor.execute("SELECT write_key FROM destinations_source")
        (raw_write_key,) = cursor.fetchone()
        cursor.execute("SELECT connection_url FROM warehouse_warehousesource")
        (raw_url,) = cursor.fetchone()
        cursor.execute("SELECT webhook_signing_key FROM destinations_destination")
        (raw_signing_key,) = cursor.fetchone()
    assert all(raw.startswith("fernet:") for raw in (raw_api_key, raw_write_key, raw_signing_key, raw_url))
    # And the failures still say what Customer.io answered, with the credentials masked
    reasons = Delivery.objects.filter(status="failed").values_list("reason", flat=True)
    assert sorted(reason.split(":")[0] for reason in reasons) == [
        "Customer.io answered 400",
        "Customer.io answered 401",
    ]
    assert all("[redacted]" in reason for reason in reasons)
