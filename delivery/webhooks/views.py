"""POST /webhooks/customerio/<token>: one reporting webhook event, verified, stored, then answered.

Customer.io waits 4 seconds and retries what is not answered 2xx, so the answer is quick and means
the row is committed: 200 stored (or already stored: a retry carries the same event_id), 401 not
signed by Customer.io with this destination's key (nothing stored), 400 not an event (the answer
names the field), 404 no destination has this address.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from cio_project import metrics
from delivery.models import MessageActivity
from delivery.webhooks import addresses
from delivery.webhooks.payload import PayloadError, activity_fields
from delivery.webhooks.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureError, verify

logger = logging.getLogger(__name__)


def refusal(status: int, message: str, destination: str = "unknown", answer: str = "") -> JsonResponse:
    metrics.WEBHOOK_POSTS.labels(destination, answer or str(status)).inc()
    return JsonResponse({"error": message}, status=status)


@csrf_exempt
@require_POST
def reporting_webhook(request: HttpRequest, token: str) -> JsonResponse:
    destination = addresses.find(token)
    if destination is None:
        return refusal(404, "no destination has this reporting webhook address", answer="unknown address")
    try:
        body = request.body
    except RequestDataTooBig:
        return refusal(
            413,
            f"the body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes",
            str(destination.destination_id),
            "too large",
        )
    try:
        verify(
            destination.signing_key,
            request.headers.get(SIGNATURE_HEADER),
            request.headers.get(TIMESTAMP_HEADER),
            body,
            now=time.time(),
            tolerance_seconds=settings.CIO_WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS,
        )
    except SignatureError as error:
        logger.warning("reporting webhook for destination %s refused: %s", destination.destination_id, error)
        return refusal(401, str(error), str(destination.destination_id), "bad signature")
    try:
        fields = activity_fields(body)
    except PayloadError as error:
        return refusal(400, str(error), str(destination.destination_id), "malformed")
    store(MessageActivity(destination_id=destination.destination_id, received_at=timezone.now(), **fields))
    metrics.WEBHOOK_POSTS.labels(str(destination.destination_id), "stored").inc()
    return JsonResponse({"stored": fields["event_id"]})


def store(activity: MessageActivity) -> None:
    """Commit the row before the answer, in one round trip: a lone INSERT in autocommit mode.

    Django's bulk_create(ignore_conflicts=True) says the same but wraps it in BEGIN and COMMIT, three
    round trips where one does; at hundreds of posts a second that is most of the time spent. ON
    CONFLICT DO NOTHING on (destination, event_id): Customer.io retrying a post whose answer it
    missed is answered 200 again, and stored once.
    """
    fields = [field for field in MessageActivity._meta.concrete_fields if not field.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    values = [field.get_db_prep_save(getattr(activity, field.attname), connection) for field in fields]
    placeholders = ", ".join(["%s"] * len(fields))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(MessageActivity._meta.db_table)} ({columns}) VALUES ({placeholders}) "
            f"ON CONFLICT ({quote('destination_id')}, {quote('event_id')}) DO NOTHING",
            values,
        )
