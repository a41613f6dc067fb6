"""Admin benchmark: how long each admin page takes with a million deliveries and a million message
activity rows stored, on PostgreSQL.

    /work/venv/bin/python bench/admin.py [--rows 1000000] [--activity-rows 1000000] [--runs 20] [--keep]

The database named in DATABASE_URL (default postgres://postgres@127.0.0.1:5432/cio_bench_admin) is
created, migrated, filled and dropped at the end (unless --keep): give a throwaway name. The rows are
made inside PostgreSQL with generate_series, shaped like a month of traffic: 100,000 people, mostly
track calls over thirty event names, 90% delivered and the rest filtered, failed, retrying or pending,
an attempt row for every delivery that was sent and failed; and as many rows of message activity from
Customer.io's reporting webhooks for the same people (each message sent, delivered, then opened or
bounced). Each page in PAGES is then requested with
a logged-in Django test Client, once to warm up and --runs times measured; the report gives p50 and
p99 in milliseconds and whether the p99 is under the 300 ms the admin promises.

To add a page, add a row to PAGES: its path may name any key of `Fixtures` in braces.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote_plus

import throwaway

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/cio_bench_admin"
BUDGET_MS = 300.0
PEOPLE = 100_000


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    # Form data for a POST; None for a GET.
    data: dict[str, str | list[str]] | None = None


# Every page the benchmark times. Paths are formatted with the Fixtures of the loaded database.
PAGES = [
    Page("delivery log", "/admin/delivery/delivery/"),
    Page("log: status failed", "/admin/delivery/delivery/?status__exact=failed"),
    Page("log: status delivered", "/admin/delivery/delivery/?status__exact=delivered"),
    Page("log: type alias", "/admin/delivery/delivery/?type=alias"),
    Page("log: type track", "/admin/delivery/delivery/?type=track"),
    Page("log: small destination", "/admin/delivery/delivery/?destination__id__exact={small_destination}"),
    Page("log: big destination", "/admin/delivery/delivery/?destination__id__exact={big_destination}"),
    Page("log: source", "/admin/delivery/delivery/?source__id__exact={source}"),
    Page("log: received today", "/admin/delivery/delivery/?received=today"),
    Page("log: received 7 days", "/admin/delivery/delivery/?received=7d"),
    Page(
        "log: failed, 7 days, alias", "/admin/delivery/delivery/?status__exact=failed&received=7d&type=alias"
    ),
    Page("log: search user id", "/admin/delivery/delivery/?q={user_id}"),
    Page("log: search anonymous id", "/admin/delivery/delivery/?q={anonymous_id}"),
    Page("log: search email", "/admin/delivery/delivery/?q={email}"),
    Page("log: search event name", "/admin/delivery/delivery/?q={event_name}"),
    Page("log: search rare event", "/admin/delivery/delivery/?q={rare_event_name}"),
    Page("log: search messageId", "/admin/delivery/delivery/?q={message_id}"),
    Page("log: search no match", "/admin/delivery/delivery/?q=nobody-at-all"),
    Page("log: page 500", "/admin/delivery/delivery/?p=500"),
    Page("log: search person prefix", "/admin/delivery/delivery/?q={person_prefix}"),
    Page("log: search email, other case", "/admin/delivery/delivery/?q={email_other_case}"),
    Page("log: oldest first", "/admin/delivery/delivery/{oldest_first}"),
    Page(
        "log: custom received range",
        "/admin/delivery/delivery/?created_at__gte={range_from}&created_at__lt={range_to}",
    ),
    Page(
        "log: one error group",
        "/admin/delivery/delivery/?status__exact=failed&destination__id__exact={big_destination}"
        "&reason_group={error_group_query}",
    ),
    Page("delivery history", "/admin/delivery/delivery/{failed_delivery}/history/"),
    Page(
        "replay confirmation: later ones delivered",
        "/admin/delivery/delivery/{failed_with_later}/replay/",
        {},
    ),
    Page(
        "replay confirmation: an error group",
        "/admin/dashboard/{big_destination}/replay-errors/",
        {"group": "{error_group}"},
    ),
    Page("delivery detail", "/admin/delivery/delivery/{failed_delivery}/change/"),
    Page(
        "replay confirmation (100)",
        "/admin/delivery/delivery/",
        {"action": "replay_selected", "_selected_action": "{first_page_ids}"},
    ),
    Page("dashboards (all destinations)", "/admin/dashboard/"),
    Page("dashboard: big destination", "/admin/dashboard/{big_destination}/"),
    Page("dashboard: small destination", "/admin/dashboard/{small_destination}/"),
    Page(
        "event tester: stored event",
        "/admin/tools/event-tester/?event={failed_event}&destination={big_destination}",
    ),
    Page(
        "event tester: a delivery id",
        "/admin/tools/event-tester/?event=delivery+{failed_delivery}&destination={big_destination}",
    ),
    Page("person: user id", "/admin/person/?q={user_id}"),
    Page("person: email", "/admin/person/?q={email}"),
    Page("person: anonymous id", "/admin/person/?q={anonymous_id}"),
    Page("person: no match", "/admin/person/?q=nobody-at-all"),
    Page("message activity list", "/admin/delivery/messageactivity/"),
    Page("message activity: bounced", "/admin/delivery/messageactivity/?metric=bounced"),
    Page("message activity: search", "/admin/delivery/messageactivity/?q={user_id}"),
    Page("message activity row", "/admin/delivery/messageactivity/{activity_row}/change/"),
    Page("destination list", "/admin/destinations/destination/"),
    Page("destination settings", "/admin/destinations/destination/{big_destination}/change/"),
    Page("source list", "/admin/destinations/source/"),
    Page("source page", "/admin/destinations/source/{source}/change/"),
    Page("live events page", "/admin/live/source/{source}/"),
    Page("live events: newest", "/admin/live/source/{source}/events.json"),
    Page("live events: older page", "/admin/live/source/{source}/events.json?before={middle_event}"),
    Page("live events: poll", "/admin/live/source/{source}/events.json?after={newest_event}"),
    Page("live events: quiet source", "/admin/live/source/{quiet_source}/events.json"),
    Page("live events: payload", "/admin/live/source/{source}/events/{newest_event}.json"),
    Page("live events: refused", "/admin/live/source/{source}/refused.json"),
    Page("live events: unknown source", "/admin/live/unknown-source/refused.json"),
]


@dataclass
class Fixtures:
    """Values the page paths refer to, read from the loaded rows."""

    small_destination: int
    big_destination: int
    source: int
    user_id: str
    anonymous_id: str
    email: str
    event_name: str
    rare_event_name: str
    message_id: str
    failed_delivery: int
    failed_event: int
    activity_row: int
    person_prefix: str
    email_other_case: str
    range_from: str
    range_to: str
    error_group: str
    error_group_query: str
    failed_with_later: int
    quiet_source: int
    newest_event: int
    middle_event: int
    # The log's Received header link, oldest first: read from the page itself.
    oldest_first: str = ""
    first_page_ids: list[str] = field(default_factory=list)


def configure(url: str) -> None:
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY")
        or "benchmark-only-secret-key-0123456789-abcdefghijklmnop",
        CIO_RELAY_DATA_DIR=str(ROOT / "var" / "bench"),
        DJANGO_SETTINGS_MODULE="cio_project.settings",
        LOG_LEVEL="WARNING",
    )


# --- Loading a month of traffic --------------------------------------------------------------

# One event per row of generate_series (the first 20 from a quiet source that sent nothing since, whose
# live events must not walk the others' to be found); its delivery goes to one of three destinations
# (80/19/1%), with a status drawn independently (90% delivered, 5% filtered, 3% failed, 1% retrying, 1%
# pending), and drawn again for each of a person's deliveries, so a failed one has delivered neighbours.
EVENTS_SQL = """
INSERT INTO delivery_event (id, source_id, message_id, type, user_id, anonymous_id, email, event_name,
                            payload, received_at, duplicates_dropped)
SELECT i, CASE WHEN i <= 20 THEN %(quiet)s WHEN i % 4 = 0 THEN %(web)s ELSE %(server)s END,
       'msg-' || i, t.type,
       CASE WHEN i % 10 = 0 THEN '' ELSE 'user-' || (i % %(people)s) END,
       'anon-' || (i % %(people)s),
       CASE WHEN t.type = 'identify' THEN 'person' || (i % %(people)s) || '@example.com' ELSE '' END,
       t.name,
       jsonb_build_object(
         'type', t.type, 'messageId', 'msg-' || i, 'userId', 'user-' || (i % %(people)s),
         'anonymousId', 'anon-' || (i % %(people)s), 'event', t.name,
         'properties', jsonb_build_object('order_id', 'ord-' || i, 'revenue', 42.5, 'currency', 'USD'),
         'context', jsonb_build_object('library', jsonb_build_object('name', 'analytics-python'))),
       %(start)s::timestamptz + (i::bigint * %(step)s) * interval '1 millisecond', 0
FROM generate_series(%(first)s, %(last)s) AS i,
LATERAL (SELECT
  CASE WHEN i % 1000 < 700 THEN 'track' WHEN i % 1000 < 900 THEN 'identify' WHEN i % 1000 < 970 THEN 'page'
       WHEN i % 1000 < 990 THEN 'screen' WHEN i % 1000 < 997 THEN 'group' ELSE 'alias' END AS type,
  CASE WHEN i % 1000 < 700 THEN CASE WHEN i % 100003 = 0 THEN 'Rare Event' ELSE 'Event ' || (i % 30) END
       WHEN i % 1000 < 990 THEN 'Screen ' || (i % 20) ELSE '' END AS name) AS t
"""

DELIVERIES_SQL = """
INSERT INTO delivery_delivery (id, event_id, destination_id, source_id, message_type, event_name, person,
  status, next_attempt_at, claimed_by, attempt_count, last_status_code, reason, requests, created_at,
  finished_at, replay_count)
SELECT e.id, e.id,
       CASE WHEN e.id % 100 < 80 THEN %(big)s WHEN e.id % 100 < 99 THEN %(middle)s ELSE %(small)s END,
       e.source_id, e.type, e.event_name, COALESCE(NULLIF(e.user_id, ''), e.anonymous_id), s.status,
       e.received_at, '', s.tries, s.code, s.reason,
       CASE WHEN s.tries > 0 THEN jsonb_build_array(jsonb_build_object('method', 'PUT',
         'endpoint', '/api/v1/customers/' || e.user_id, 'headers',
         jsonb_build_object('Authorization', '[redacted]'), 'body', e.payload -> 'properties')) END,
       e.received_at, CASE WHEN s.status IN ('pending', 'retrying') THEN NULL ELSE e.received_at END, 0
FROM delivery_event e,
LATERAL (SELECT
  CASE WHEN k0.draw < 90 THEN 'delivered' WHEN k0.draw < 95 THEN 'filtered'
       WHEN k0.draw < 98 THEN 'failed' WHEN k0.draw < 99 THEN 'retrying'
       ELSE 'pending' END AS status FROM (SELECT (e.id / 100 + e.id / %(people)s) % 100 AS draw) AS k0) AS k,
LATERAL (SELECT k.status,
  CASE k.status WHEN 'delivered' THEN 1 WHEN 'failed' THEN 3 WHEN 'retrying' THEN 1 ELSE 0 END AS tries,
  CASE k.status WHEN 'delivered' THEN 200 WHEN 'failed' THEN 400 WHEN 'retrying' THEN 503 END AS code,
  CASE k.status WHEN 'filtered' THEN 'event "' || e.event_name || '" is not in the allowlist'
       WHEN 'failed' THEN 'Customer.io answered 400: invalid attribute' ELSE '' END AS reason) AS s
WHERE e.id BETWEEN %(first)s AND %(last)s
"""

# One sent request and one attempt per try of each failed or retrying delivery (what people read).
SENT_REQUESTS_SQL = """
INSERT INTO delivery_sentrequest (id, destination_id, started_at, duration_ms, method, url, request_headers,
  request_body, status_code, response_body, error)
SELECT d.id * 4 + n, d.destination_id, d.created_at + n * interval '10 seconds', 120, 'PUT',
       'https://track.customer.io/api/v1/customers/' || d.person, '{"Authorization": "[redacted]"}',
       '{}', d.last_status_code, '{"meta":{"error":"invalid attribute"}}', ''
FROM delivery_delivery d, generate_series(1, 3) AS n
WHERE d.status IN ('failed', 'retrying') AND n <= d.attempt_count AND d.id BETWEEN %(first)s AND %(last)s
"""
ATTEMPTS_SQL = """
INSERT INTO delivery_deliveryattempt (delivery_id, sent_request_id, outcome, error)
SELECT d.id, d.id * 4 + n, CASE WHEN d.status = 'failed' AND n = 3 THEN 'failed' ELSE 'retry' END, ''
FROM delivery_delivery d, generate_series(1, 3) AS n
WHERE d.status IN ('failed', 'retrying') AND n <= d.attempt_count AND d.id BETWEEN %(first)s AND %(last)s
"""

# Four rows per message to one person (sent, delivered, then opened, or bounced with its reason), over
# the same 30 days and people as the events; 80% email, then push, SMS and in-app.
ACTIVITY_SQL = """
INSERT INTO delivery_messageactivity (id, destination_id, event_id, object_type, metric, occurred_at,
  received_at, customer_id, cio_id, email, recipient, cio_delivery_id, campaign_id, action_id, broadcast_id,
  newsletter_id, transactional_message_id, message_name, reason, raw_body)
SELECT i, CASE WHEN i / 4 % 100 < 80 THEN %(big)s ELSE %(middle)s END, 'evt-' || i, c.channel, m.metric,
       %(start)s::timestamptz + (i::bigint * %(step)s) * interval '1 millisecond',
       %(start)s::timestamptz + (i::bigint * %(step)s) * interval '1 millisecond',
       'user-' || (i / 4 % %(people)s), 'cio' || (i / 4 % %(people)s),
       'person' || (i / 4 % %(people)s) || '@example.com',
       CASE c.channel WHEN 'sms' THEN '+1555' || (i / 4 % %(people)s) ELSE 'person' || (i / 4 % %(people)s)
            || '@example.com' END,
       'del-' || (i / 4), (i / 4 % 40)::text, '36', '', '', '', 'Campaign ' || (i / 4 % 40),
       CASE WHEN m.metric = 'bounced' THEN '550 5.1.1 mailbox does not exist' ELSE '' END,
       jsonb_build_object('event_id', 'evt-' || i, 'object_type', c.channel, 'metric', m.metric,
         'data', jsonb_build_object('customer_id', 'user-' || (i / 4 % %(people)s), 'delivery_id',
         'del-' || (i / 4)))::text
FROM generate_series(%(first)s, %(last)s) AS i,
LATERAL (SELECT CASE WHEN i / 4 % 10 < 8 THEN 'email' WHEN i / 4 % 10 < 9 THEN 'push'
                     WHEN i / 4 % 20 = 18 THEN 'sms' ELSE 'in_app' END AS channel) AS c,
LATERAL (SELECT CASE i % 4 WHEN 0 THEN 'sent' WHEN 1 THEN 'delivered'
                     ELSE CASE WHEN i / 4 % 10 = 3 THEN 'bounced' ELSE 'opened' END END AS metric) AS m
"""

# A month of refusals: every hour, for each source and the unknown one, a count of each of five
# reasons; and as many examples as the ingestion API keeps (refused_requests.KEEP_PER_REASON each).
REFUSAL_CODES = (
    "('invalid_request', 400), ('invalid_write_key', 401), ('origin_not_allowed', 403), "
    "('payload_too_large', 413), ('rate_limited', 429)"
)
REFUSAL_COUNTS_SQL = f"""
INSERT INTO delivery_refusalcount (source_id, hour, status, code, count)
SELECT s.id, date_trunc('hour', now()) - h * interval '1 hour', c.status, c.code, 1 + h % 7
FROM generate_series(0, 30 * 24) AS h,
     (VALUES {REFUSAL_CODES}) AS c(code, status),
     (SELECT id FROM destinations_source UNION ALL SELECT NULL) AS s(id)
"""
REFUSED_REQUESTS_SQL = f"""
INSERT INTO delivery_refusedrequest (source_id, received_at, status, code, message, method, path,
  client_address, user_agent, body, body_bytes)
SELECT s.id, now() - n * interval '1 minute', c.status, c.code, 'batch[3].event: track requires a string',
       'POST', '/v1/batch', '203.0.113.7', 'analytics-python/2.4.0', repeat('x', 2048), 40000
FROM generate_series(1, 50) AS n,
     (VALUES {REFUSAL_CODES}) AS c(code, status),
     (SELECT id FROM destinations_source UNION ALL SELECT NULL) AS s(id)
"""
CHUNK = 200_000


def sql(text: str) -> str:
    """The modulo operator written for a query with %(name)s parameters."""
    return text.replace(" % ", " %% ")


def load(rows: int, activity_rows: int) -> Fixtures:
    from django.db import connection
    from django.utils import timezone

    from destinations.models import Destination, Source

    web, server = Source.objects.create(name="web"), Source.objects.create(name="server")
    quiet = Source.objects.create(name="quiet")
    big, middle, small = (
        Destination.objects.create(name=name, site_id="benchsite", api_key="0123456789abcdef0123")
        for name in ("Customer.io production", "Customer.io EU", "Customer.io sandbox")
    )
    for destination in (big, middle, small):
        destination.sources.add(web, server)
    start = timezone.now() - timedelta(days=30)
    step = 30 * 24 * 3600 * 1000 // rows
    ids = {
        "web": web.pk,
        "server": server.pk,
        "quiet": quiet.pk,
        "big": big.pk,
        "middle": middle.pk,
        "small": small.pk,
    }
    with connection.cursor() as cursor:
        for first in range(1, rows + 1, CHUNK):
            bounds = {"first": first, "last": min(rows, first + CHUNK - 1)}
            cursor.execute(sql(EVENTS_SQL), {**ids, **bounds, "people": PEOPLE, "start": start, "step": step})
            cursor.execute(sql(DELIVERIES_SQL), {**ids, **bounds, "people": PEOPLE})
            cursor.execute(sql(SENT_REQUESTS_SQL), bounds)
            cursor.execute(sql(ATTEMPTS_SQL), bounds)
            print(f"  loaded {bounds['last']:,} of {rows:,}", flush=True)
        activity_step = 30 * 24 * 3600 * 1000 // max(1, activity_rows)
        for first in range(1, activity_rows + 1, CHUNK):
            bounds = {"first": first, "last": min(activity_rows, first + CHUNK - 1)}
            values = {**ids, **bounds, "people": PEOPLE, "start": start, "step": activity_step}
            cursor.execute(sql(ACTIVITY_SQL), values)
            print(f"  loaded {bounds['last']:,} of {activity_rows:,} message activity rows", flush=True)
        cursor.execute(REFUSAL_COUNTS_SQL)
        cursor.execute(REFUSED_REQUESTS_SQL)
        for table in (
            "delivery_event",
            "delivery_delivery",
            "delivery_sentrequest",
            "delivery_messageactivity",
        ):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
            )
        cursor.execute("VACUUM ANALYZE")
    return fixtures(rows, ids)


def fixtures(rows: int, ids: dict[str, int]) -> Fixtures:
    from django.db.models import Exists, OuterRef

    from delivery.admin.error_groups import normalise
    from delivery.models import Delivery, Event, MessageActivity

    identify = Event.objects.filter(type="identify").exclude(email="").order_by("-id").first()
    failed = Delivery.objects.filter(status="failed").order_by("-id").first()
    # A failure in the middle of the month, whose person has later deliveries that were delivered.
    later_delivered = Delivery.objects.filter(
        destination_id=OuterRef("destination_id"), person=OuterRef("person"), id__gt=OuterRef("id")
    ).filter(status="delivered")
    failed_with_later = (
        Delivery.objects.filter(status="failed", destination_id=ids["big"], id__lt=failed.pk // 2)
        .exclude(person="")
        .filter(Exists(later_delivered))
        .order_by("-id")
        .first()
    )
    middle = Delivery.objects.filter(id__gte=failed.pk // 2).order_by("id").first().created_at
    return Fixtures(
        small_destination=ids["small"],
        big_destination=ids["big"],
        source=ids["web"],
        user_id=identify.user_id or "user-1",
        anonymous_id=f"anon-{(rows // 2) % PEOPLE}",
        email=identify.email,
        event_name="Event 7",
        rare_event_name="Rare Event",
        message_id=f"msg-{rows // 3}",
        failed_delivery=failed.pk,
        failed_event=failed.event_id,
        person_prefix=(identify.user_id or "user-1")[:-1],
        email_other_case=identify.email.upper(),
        range_from=quote_plus((middle - timedelta(hours=6)).strftime("%Y-%m-%d %H:%M")),
        range_to=quote_plus(middle.strftime("%Y-%m-%d %H:%M")),
        error_group=normalise(failed.reason),
        error_group_query=quote_plus(normalise(failed.reason)),
        failed_with_later=failed_with_later.pk,
        activity_row=MessageActivity.objects.filter(metric="bounced")
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
        or 0,
        quiet_source=ids["quiet"],
        newest_event=Event.objects.filter(source_id=ids["web"])
        .order_by("-id")
        .values_list("id", flat=True)[0],
        middle_event=rows // 2,
        first_page_ids=[
            str(pk) for pk in Delivery.objects.order_by("-id").values_list("id", flat=True)[:100]
        ],
    )


# --- Timing ----------------------------------------------------------------------------------


def formatted(value: str | list | dict, values: dict) -> str | list | dict:
    if isinstance(value, dict):
        return {key: formatted(item, values) for key, item in value.items()}
    if value.startswith("{") and value.endswith("}") and isinstance(values.get(value[1:-1]), list):
        return values[value[1:-1]]
    return value.format(**values)


def time_page(browser, page: Page, values: dict, runs: int) -> dict:
    path = formatted(page.path, values)
    data = formatted(page.data, values) if page.data is not None else None
    request = (lambda: browser.post(path, data)) if data is not None else (lambda: browser.get(path))
    first = request()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        response = request()
        timings.append(1000 * (time.perf_counter() - started))
    timings.sort()
    return {
        "status": first.status_code,
        "p50": statistics.median(timings),
        "p99": timings[min(len(timings) - 1, int(len(timings) * 0.99))],
        "ok": response.status_code == 200,
    }


def run_pages(runs: int, values: dict) -> list[tuple[Page, dict]]:
    from django.contrib.auth.models import User
    from django.test import Client

    browser = Client()
    browser.force_login(User.objects.create_superuser("bench", "bench@example.com", "bench-password-0123"))
    log = browser.get("/admin/delivery/delivery/").content.decode()
    header = re.search(r'column-received[^"]*">(.*?)</th>', log, re.S)[1]
    values = {**values, "oldest_first": html.unescape(re.search(r'<a href="(\?[^"]*)"', header)[1])}
    return [(page, time_page(browser, page, values, runs)) for page in PAGES]


def report(results: list[tuple[Page, dict]], rows: int, activity_rows: int, runs: int) -> bool:
    print(
        f"\ncio-relay admin benchmark: {rows:,} deliveries, {activity_rows:,} message activity rows, "
        f"PostgreSQL, {runs} runs per page"
    )
    header = f"{'page':<44}{'HTTP':>6}{'p50 ms':>9}{'p99 ms':>9}  under {BUDGET_MS:.0f} ms"
    print(header)
    print("-" * len(header))
    fine = True
    for page, result in results:
        under = result["ok"] and result["p99"] < BUDGET_MS
        fine = fine and under
        verdict = "yes" if under else ("NO" if result["ok"] else "NO (not a 200)")
        print(f"{page.name:<44}{result['status']:>6}{result['p50']:>9.1f}{result['p99']:>9.1f}  {verdict}")
    return fine


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="deliveries (and events) to store")
    parser.add_argument("--activity-rows", type=int, default=1_000_000, help="message activity rows to store")
    parser.add_argument("--runs", type=int, default=20, help="measured requests per page")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards (to EXPLAIN)")
    options = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    throwaway.split(url)
    configure(url)
    throwaway.create(url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django.test.utils import setup_test_environment

    # Lets the test Client's "testserver" host through ALLOWED_HOSTS.
    setup_test_environment()
    try:
        call_command("migrate", verbosity=0)
        started = time.monotonic()
        values = vars(load(options.rows, options.activity_rows))
        print(f"  loaded and analysed in {time.monotonic() - started:.0f} s")
        fine = report(run_pages(options.runs, values), options.rows, options.activity_rows, options.runs)
    finally:
        if not options.keep:
            connections.close_all()
            throwaway.drop(url)
    return 0 if fine else 1


if __name__ == "__main__":
    sys.exit(main())
