"""Customer.io Track API limits, in bytes of UTF-8 unless said otherwise.

See https://docs.customer.io/integrations/api/track/ ("Limits") and the v2 batch reference
(https://docs.customer.io/integrations/api/track/#operation/batch).
"""

from __future__ import annotations

# Events sent without a known person (POST /api/v1/events) are refused past this length, so the name
# is cut to fit, as RudderStack does.
MAX_EVENT_NAME_BYTES = 100

# An anonymous screen is named "Viewed {name} Screen"; the name gets what the frame leaves.
SCREEN_NAME_FRAME = "Viewed {} Screen"
MAX_SCREEN_NAME_BYTES = MAX_EVENT_NAME_BYTES - len(SCREEN_NAME_FRAME.format(""))

MAX_ID_BYTES = 150
MAX_ATTRIBUTE_NAME_BYTES = 150
MAX_ATTRIBUTE_VALUE_BYTES = 1000
MAX_ATTRIBUTES = 300

# One v1 request body, or one item of a v2 batch.
MAX_ITEM_BYTES = 32 * 1024

# A whole /api/v2/batch body; RudderStack counts 500 KB as 500,000 bytes, and so do we.
MAX_BATCH_BYTES = 500_000
MAX_BATCH_ITEMS = 1000
