"""How many messages one core turns into Customer.io requests per second (target: 20,000 or more).

Run: python bench/transformer.py [--baseline REVISION]. The mix is what a product's analytics sends:
mostly track calls, then identify, page and screen, a few groups, aliases and mobile device events, each
with an analytics.js- or mobile-SDK-sized context (about 1.5 KB of JSON per message); then a stream of
warehouse rows (record messages).

Each figure is printed beside the same figure for the transformer of BASELINE (a git revision), measured
in the same run: this script runs again in a subprocess against that revision's transformer (from
`git archive`), so a change that makes the transformer slower shows as a ratio under 1.
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import random
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import destinations.customerio as current_transformer  # noqa: E402

MIX = {"track": 60, "identify": 14, "page": 12, "screen": 6, "group": 3, "alias": 1, "device": 4}
MESSAGES = 5000
# The best of several rounds of CPU time: other processes on the machine slow a round down, never up.
ROUNDS = 15
CONFIG = {"siteID": "a1b2c3d4e5f6a7b8c9d0", "apiKey": "0f9e8d7c6b5a4f3e2d1c", "datacenter": "US"}
# The transformer before record messages and lenient dates, whose figures the README recorded last.
BASELINE = "ec2f436"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--baseline", default=BASELINE, help="git revision to compare with ('' for none)")
    options = parser.parse_args()
    rng = random.Random(20240501)
    messages = [build(rng.choices(list(MIX), weights=list(MIX.values()))[0], rng) for _ in range(MESSAGES)]
    size = sum(len(json.dumps(message)) for message in messages) / len(messages)
    print(f"{MESSAGES} messages, mix {MIX}, {size:.0f} bytes of JSON on average")
    print(f"one core, best of {ROUNDS} rounds of CPU time; config passed as a dict, as the engine does")
    with tempfile.TemporaryDirectory() as folder:
        old = load_baseline(options.baseline, folder) if options.baseline else None
        # Rounds of the two alternate, so a busy moment on the machine slows both alike.
        current, baseline, counts = measure(current_transformer, old)
    header = f"{'':<34}{'messages/s':>12}"
    if baseline:
        header += f"{'at ' + options.baseline:>14}{'ratio':>8}"
    print(header)
    for name, (rate, refused) in current.items():
        line = f"{name:<34}{rate:>12,.0f}"
        then = baseline.get(name)
        if then is not None and then[1] < counts[name]:
            line += f"{then[0]:>14,.0f}{rate / then[0]:>7.2f}x"
        elif then is not None:
            line += f"{'not taken':>14}"
        line += f"  refused: {refused}" + (f" (then {then[1]})" if then is not None else "")
        print(line)
    print("(the mix's refusals are its anonymous uninstalls, as they should be)")


def measure(new: ModuleType, old: ModuleType | None) -> tuple[dict, dict, dict]:
    """Every figure of this benchmark for both transformers: name -> (messages per second, refused),
    and how many messages each figure is over."""
    rng = random.Random(20240501)
    messages = [build(rng.choices(list(MIX), weights=list(MIX.values()))[0], rng) for _ in range(MESSAGES)]
    rows = dict(enumerate(record_rows(random.Random(7), MESSAGES)))
    claim = dict(enumerate(messages))
    v2 = {**CONFIG, "apiVersion": "v2"}
    every_option = dict.fromkeys(OPTIONS, True)

    def work(transformer: ModuleType) -> dict[str, tuple[Any, int, int]]:
        """name -> (a call doing the work, how many messages it handles, how many it refuses)."""
        figures = {}
        for name, settings in [
            ("v1", CONFIG),
            ("v2", v2),
            ("v1, every option on", {**CONFIG, **every_option}),
            ("v2, every option on", {**v2, **every_option}),
        ]:
            refused = sum(1 for found in transform_all(transformer, messages, settings) if found is None)
            call = lambda settings=settings: transform_all(transformer, messages, settings)  # noqa: E731
            figures[f"transform {name}"] = (call, len(messages), refused)
        transformed = zip(messages, transform_all(transformer, messages, v2), strict=True)
        key = transformer.person_key
        entries = [(n, key(m), r) for n, (m, requests) in enumerate(transformed) for r in requests or []]
        figures["combine (v2 stream)"] = (lambda: transformer.combine(entries), len(entries), 0)
        # The engine's own path: transform and combine a claim's messages in one call.
        for name, settings in [("v1", CONFIG), ("v2", v2)]:
            call = lambda settings=settings: transformer.transform_stream(claim, settings)  # noqa: E731
            figures[f"transform_stream {name}"] = (call, len(claim), 0)
            refused = len(transformer.transform_stream(rows, settings).failed)
            call = lambda settings=settings: transformer.transform_stream(rows, settings)  # noqa: E731
            figures[f"transform_stream {name}, records"] = (call, len(rows), refused)
        return figures

    ours, theirs = work(new), work(old) if old else {}
    current, baseline, counts = {}, {}, {}
    for name, (call, count, refused) in ours.items():
        counts[name] = count
        pair = theirs.get(name)
        if pair is None:
            current[name] = (count / best_time(call), refused)
            continue
        mine, other = best_times(call, pair[0])
        current[name], baseline[name] = (count / mine, refused), (pair[1] / other, pair[2])
    return current, baseline, counts


def load_baseline(revision: str, folder: str) -> Any:
    """The transformer at `revision` as the package `baseline_customerio`, importable beside ours."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision, "destinations/customerio"], cwd=ROOT, capture_output=True
    )
    if archive.returncode != 0:
        print(f"no baseline: git archive {revision} failed ({archive.stderr.decode().strip()[:120]})")
        return None
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data")
    package = Path(folder) / "baseline_customerio"
    (Path(folder) / "destinations" / "customerio").rename(package)
    for module in package.glob("*.py"):
        module.write_text(module.read_text().replace("destinations.customerio", "baseline_customerio"))
    sys.path.insert(0, folder)
    return importlib.import_module("baseline_customerio")


def record_rows(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """A warehouse sync's messages: people inserted and updated, a few removed, and order events."""
    rows = []
    for index in range(count):
        person = {"id": f"user-{rng.randrange(50_000)}"}
        if index % 10 == 9:
            rows.append(
                {
                    "type": "record",
                    "action": "insert",
                    "object": "event",
                    "event": "Order Placed",
                    "identifiers": person,
                    "fields": {"total": 42.5, "created_at": "2024-05-01 12:30:15"},
                }
            )
        else:
            action = "delete" if index % 50 == 0 else rng.choice(["insert", "update"])
            fields = {
                "email": f"{person['id']}@example.com",
                "plan": rng.choice(["free", "pro"]),
                "seats": 3,
                "created_at": 1714566615,
                "country": "GB",
                "company": "Analytical Engines",
            }
            rows.append({"type": "record", "action": action, "identifiers": person, "fields": fields})
    return rows  # fmt: skip


def transform_all(transformer: ModuleType, messages: list[dict[str, Any]], settings: dict[str, Any]) -> list:
    """Each message's requests, or None where it is refused (anonymous uninstalls, in this mix)."""
    results: list[Any] = []
    for message in messages:
        try:
            results.append(transformer.transform(message, settings))
        except transformer.TransformError:
            results.append(None)
    return results


OPTIONS = ("convertToUnixTime", "cioIdentifiers", "deduplicationIds", "checkLimits")


def best_time(work: Any) -> float:
    work()  # warm up
    return min(_timed(work) for _ in range(ROUNDS))


def best_times(first: Any, second: Any) -> tuple[float, float]:
    """The best CPU time of each of two calls, their rounds alternating."""
    first(), second()  # warm up
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(ROUNDS):
        times[0].append(_timed(first))
        times[1].append(_timed(second))
    return min(times[0]), min(times[1])


def _timed(work: Any) -> float:
    start = time.process_time()
    work()
    return time.process_time() - start


def build(kind: str, rng: random.Random) -> dict[str, Any]:
    user = f"user-{rng.randrange(50_000)}"
    known = rng.random() < 0.8
    base: dict[str, Any] = {
        "anonymousId": f"{rng.getrandbits(128):032x}",
        "messageId": f"{rng.getrandbits(128):032x}",
        "originalTimestamp": "2024-05-01T12:34:56.789Z",
        "timestamp": "2024-05-01T12:34:57.123+02:00",
        "sentAt": "2024-05-01T12:34:57.001Z",
        "context": web_context(rng) if kind not in ("screen", "device") else mobile_context(rng),
        "integrations": {"All": True},
    }
    if known or kind in ("identify", "group", "alias"):
        base["userId"] = user
    return {**base, **KINDS[kind](rng, user)}


def web_context(rng: random.Random) -> dict[str, Any]:
    return {
        "library": {"name": "analytics.js", "version": "5.2.0"},
        "page": {
            "path": "/pricing",
            "referrer": "https://www.google.com/",
            "title": "Pricing",
            "url": "https://x.io/p",
        },
        "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 Chrome/124.0",
        "locale": "en-US",
        "ip": f"203.0.113.{rng.randrange(255)}",
        "traits": {"email": f"person{rng.randrange(10**6)}@example.com"},
        "campaign": {"source": "newsletter", "medium": "email", "name": "may-2024"},
    }


def mobile_context(rng: random.Random) -> dict[str, Any]:
    return {
        "app": {"name": "Shop", "version": "3.4.1", "build": "341", "namespace": "io.x.shop"},
        "device": {
            "id": f"{rng.getrandbits(64):016x}",
            "model": "iPhone15,2",
            "type": "ios",
            "token": "f" * 64,
        },
        "os": {"name": "iOS", "version": "17.4"},
        "library": {"name": "rudder-ios-library", "version": "1.25.0"},
        "locale": "en-GB",
        "network": {"wifi": True, "cellular": False, "carrier": "unavailable"},
        "screen": {"width": 390, "height": 844, "density": 3},
        "timezone": "Europe/London",
        "traits": {"anonymousId": "a"},
    }


def products(rng: random.Random) -> list[dict[str, Any]]:
    return [
        {"product_id": f"sku-{rng.randrange(10**5)}", "name": "Wool Socks", "price": 12.5, "quantity": 2}
        for _ in range(rng.randrange(1, 4))
    ]


KINDS = {
    "track": lambda rng, user: {
        "type": "track",
        "event": rng.choice(["Product Viewed", "Product Added", "Checkout Started", "Order Completed"]),
        "properties": {
            "order_id": f"o-{rng.randrange(10**6)}",
            "total": round(rng.random() * 200, 2),
            "currency": "EUR",
            "coupon": "MAY10",
            "products": products(rng),
            "shipped_at": "2024-05-02T09:00:00Z",
        },
    },
    "identify": lambda rng, user: {
        "type": "identify",
        "traits": {
            "email": f"{user}@example.com",
            "name": "Ada Lovelace",
            "plan": rng.choice(["free", "pro", "team"]),
            "createdAt": "2023-11-02T08:15:00Z",
            "address": {"city": "London", "country": "GB", "postalCode": "N1 9GU", "street": "1 Main St"},
            "company": {"name": "Analytical Engines", "employees": 12},
            "logins": rng.randrange(300),
            "unsubscribed": False,
        },
    },
    "page": lambda rng, user: {
        "type": "page",
        "name": rng.choice(["Pricing", "Home", "Docs", None]),
        "properties": {"path": "/pricing", "url": "https://x.io/pricing", "title": "Pricing", "referrer": ""},
    },
    "screen": lambda rng, user: {
        "type": "screen",
        "event": rng.choice(["Home", "Cart", "Product Detail"]),
        "properties": {"from": "push", "variant": "b"},
    },
    "group": lambda rng, user: {
        "type": "group",
        "groupId": f"company-{rng.randrange(2000)}",
        "traits": {
            "name": "Analytical Engines",
            "plan": "enterprise",
            "employees": 120,
            "industry": "Software",
        },
    },
    "alias": lambda rng, user: {"type": "alias", "previousId": f"anon-{rng.randrange(10**6)}"},
    "device": lambda rng, user: {
        "type": "track",
        "event": rng.choice(["Application Installed", "Application Opened", "Application Uninstalled"]),
        "properties": {"from_background": False},
    },
}

if __name__ == "__main__":
    main()
