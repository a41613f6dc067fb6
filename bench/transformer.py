"""How many messages one core turns into Customer.io requests per second (target: 20,000 or more).

Run: python bench/transformer.py. The mix is what a product's analytics sends: mostly track calls,
then identify, page and screen, a few groups, aliases and mobile device events, each with an
analytics.js- or mobile-SDK-sized context (about 1.5 KB of JSON per message).
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from destinations.customerio import TransformError, combine, transform, transform_stream
from destinations.customerio.message import person_key

MIX = {"track": 60, "identify": 14, "page": 12, "screen": 6, "group": 3, "alias": 1, "device": 4}
MESSAGES = 5000
# The best of several rounds of CPU time: other processes on the machine slow a round down, never up.
ROUNDS = 15
CONFIG = {"siteID": "a1b2c3d4e5f6a7b8c9d0", "apiKey": "0f9e8d7c6b5a4f3e2d1c", "datacenter": "US"}


def main() -> None:
    rng = random.Random(20240501)
    messages = [build(rng.choices(list(MIX), weights=list(MIX.values()))[0], rng) for _ in range(MESSAGES)]
    size = sum(len(json.dumps(message)) for message in messages) / len(messages)
    print(f"{MESSAGES} messages, mix {MIX}, {size:.0f} bytes of JSON on average")
    print(f"one core, best of {ROUNDS} rounds of CPU time; config passed as a dict, as the engine does")
    for name, settings in [
        ("v1", CONFIG),
        ("v2", {**CONFIG, "apiVersion": "v2"}),
        ("v1, every option on", {**CONFIG, **dict.fromkeys(OPTIONS, True)}),
        ("v2, every option on", {**CONFIG, "apiVersion": "v2", **dict.fromkeys(OPTIONS, True)}),
    ]:
        rate = best_rate(lambda settings=settings: transform_all(messages, settings), len(messages))
        failed = sum(1 for requests in transform_all(messages, settings) if requests is None)
        print(f"transform {name:<22} {rate:>9,.0f} messages/s ({failed} refused, as they should be)")
    v2 = {**CONFIG, "apiVersion": "v2"}
    transformed = zip(messages, transform_all(messages, v2), strict=True)
    entries = [(n, person_key(m), r) for n, (m, requests) in enumerate(transformed) for r in requests or []]
    rate = best_rate(lambda: combine(entries), len(entries))
    print(f"combine (v2 stream)          {rate:>9,.0f} messages/s")
    # The engine's own path: transform and combine a claim's messages in one call.
    for name, settings in [("v1", CONFIG), ("v2", v2)]:
        claim = dict(enumerate(messages))
        rate = best_rate(
            lambda settings=settings, claim=claim: transform_stream(claim, settings), len(messages)
        )
        print(f"transform_stream {name:<16} {rate:>9,.0f} messages/s")


def transform_all(messages: list[dict[str, Any]], settings: dict[str, Any]) -> list[Any]:
    """Each message's requests, or None where it is refused (anonymous uninstalls, in this mix)."""
    results: list[Any] = []
    for message in messages:
        try:
            results.append(transform(message, settings))
        except TransformError:
            results.append(None)
    return results


OPTIONS = ("convertToUnixTime", "cioIdentifiers", "deduplicationIds", "checkLimits")


def best_rate(work: Any, count: int) -> float:
    work()  # warm up
    best = min(_timed(work) for _ in range(ROUNDS))
    return count / best


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
