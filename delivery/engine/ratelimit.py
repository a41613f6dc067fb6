"""A requests-per-second limit per destination, shared by every worker process on every machine.

Each request reserves the destination's next free slot; slots are 1/rate seconds apart, so
however many workers send, Customer.io sees at most `rate` requests a second (the generic cell
rate algorithm with no burst). A 429 pushes the next free slot back (hold), which slows every
worker down. With Redis (when it is the broker) one Lua script does each step atomically on
Redis's clock; without it, a RateLimitState row under a row lock does the same.
"""

from __future__ import annotations

import time
from typing import Protocol

from django.db import transaction

from delivery.models import RateLimitState
from delivery.redis_client import redis_client

# A slot key outlives its last reservation by this long, then Redis forgets it.
KEY_GRACE_MS = 60_000


class RateLimiter(Protocol):
    def reserve(self, destination_id: int, per_second: float, max_wait: float) -> float | None:
        """Seconds to wait before sending one request, or None (nothing reserved) if over max_wait."""

    def hold(self, destination_id: int, seconds: float) -> None:
        """Send nothing for this destination for `seconds` (Customer.io asked us to slow down)."""

    def delay(self, destination_id: int) -> float:
        """Seconds until the destination's next free slot, without reserving it."""


def limiter() -> RateLimiter:
    client = redis_client()
    return DatabaseRateLimiter() if client is None else RedisRateLimiter(client)


# KEYS[1]: the slot key. ARGV: mode ("reserve", "hold" or "peek"), then for reserve the interval
# and the longest acceptable wait, for hold the seconds. Returns the wait in seconds as a string
# (Lua numbers become integers in replies), or "" when a reservation would wait too long.
_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local next_slot = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
local mode = ARGV[1]
if mode == 'peek' then
  return tostring(next_slot - now)
end
if mode == 'reserve' then
  if next_slot - now > tonumber(ARGV[3]) then
    return ''
  end
  local after = next_slot + tonumber(ARGV[2])
  local ttl = math.ceil((after - now) * 1000) + tonumber(ARGV[4])
  redis.call('SET', KEYS[1], string.format('%.6f', after), 'PX', ttl)
  return tostring(next_slot - now)
end
local after = math.max(next_slot, now + tonumber(ARGV[2]))
local ttl = math.ceil((after - now) * 1000) + tonumber(ARGV[3])
redis.call('SET', KEYS[1], string.format('%.6f', after), 'PX', ttl)
return '0'
"""


class RedisRateLimiter:
    def __init__(self, client) -> None:
        self._script = client.register_script(_SCRIPT)

    @staticmethod
    def _key(destination_id: int) -> str:
        return f"cio-relay:rate:{destination_id}"

    def reserve(self, destination_id: int, per_second: float, max_wait: float) -> float | None:
        reply = self._script(
            keys=[self._key(destination_id)], args=["reserve", 1.0 / per_second, max_wait, KEY_GRACE_MS]
        )
        return float(reply) if reply else None

    def hold(self, destination_id: int, seconds: float) -> None:
        self._script(keys=[self._key(destination_id)], args=["hold", seconds, KEY_GRACE_MS])

    def delay(self, destination_id: int) -> float:
        return max(0.0, float(self._script(keys=[self._key(destination_id)], args=["peek"])))


class DatabaseRateLimiter:
    """The same algorithm on a row; the embedded setup is one machine, so time.time() is shared."""

    def reserve(self, destination_id: int, per_second: float, max_wait: float) -> float | None:
        with transaction.atomic():
            state = self._locked_state(destination_id)
            now = time.time()
            next_slot = max(now, state.next_slot_at)
            if next_slot - now > max_wait:
                return None
            state.next_slot_at = next_slot + 1.0 / per_second
            state.save(update_fields=["next_slot_at"])
        return next_slot - now

    def hold(self, destination_id: int, seconds: float) -> None:
        with transaction.atomic():
            state = self._locked_state(destination_id)
            state.next_slot_at = max(state.next_slot_at, time.time() + seconds)
            state.save(update_fields=["next_slot_at"])

    def delay(self, destination_id: int) -> float:
        state = RateLimitState.objects.filter(destination_id=destination_id).first()
        return 0.0 if state is None else max(0.0, state.next_slot_at - time.time())

    @staticmethod
    def _locked_state(destination_id: int) -> RateLimitState:
        state, _ = RateLimitState.objects.select_for_update().get_or_create(destination_id=destination_id)
        return state
