"""The embedded broker: kombu's filesystem transport, made to survive a message it cannot read.

A message is a file; on a full disk its write can leave an empty or cut file behind. Kombu's own
transport then raises while decoding it, and the worker stops ("Unrecoverable error") and stops again
after every restart, since the file is still first in the queue. Here such a message is dropped with a
warning: a broker message only says "there is work" (DESIGN.md invariant 2), and the sweeper finds the
work in the database.
"""

from __future__ import annotations

import logging

from kombu.transport import TRANSPORT_ALIASES, filesystem

logger = logging.getLogger(__name__)


class Channel(filesystem.Channel):
    def _get(self, queue):
        while True:  # until a readable message, or kombu's Empty when there is none
            try:
                return super()._get(queue)
            except (ValueError, UnicodeDecodeError) as error:  # json.JSONDecodeError is a ValueError
                logger.warning(
                    "dropped a message of queue %s that cannot be read (%s); the sweeper finds its work "
                    "in the database",
                    queue,
                    type(error).__name__,
                )


class Transport(filesystem.Transport):
    Channel = Channel


# filesystem:// (the embedded default, CELERY_BROKER_URL unset) now means this transport, in every
# process that loads the Celery app: web (which sends), worker and beat.
TRANSPORT_ALIASES["filesystem"] = f"{__name__}:Transport"
