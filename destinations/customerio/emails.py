"""Whether an identifier is an email address, by the rule RudderStack's transformer uses.

The answer decides between Customer.io's "id" and "email" identifiers (in merges, relationships and
cioIdentifiers), so it must be the reference's: validator.js `isEmail` with its default options.
Customer.io validates the address itself; this only has to agree on which identifier a value is.
In short: at most 254 characters; a local part of at most 64 bytes made of dot-separated atoms (or one
quoted string); a domain of at most 254 bytes that is a fully qualified name: labels of letters, digits,
hyphens and non-ASCII letters, none empty, none over 63, none starting or ending with "-", no "_", and a
top-level label of two or more letters (or an "xn--" label). No IP-literal domains ("[1.2.3.4]"), no
trailing dot.
"""

from __future__ import annotations

import re
from typing import Any

_MAX_LENGTH = 254  # counted in UTF-16 code units, as JavaScript's String.length does
_MAX_LOCAL_BYTES = 64
_MAX_DOMAIN_BYTES = 254
_MAX_LABEL_LENGTH = 63

# JavaScript's \u ranges are UTF-16 code units: a character beyond U+FFFF is a surrogate pair, which the
# local-part ranges leave out and the domain label range (up to \uffff) takes in.
_LOCAL_ATOM = re.compile(
    r"[a-z\d!#$%&'*+\-/=?^_`{|}~\u00A1-\uD7FF\uF900-\uFDCF\uFDF0-\uFFEF]+", re.IGNORECASE
)
_QUOTED_LOCAL = re.compile(
    r"(?:[\s\x01-\x08\x0b\x0c\x0e-\x1f\x7f\x21\x23-\x5b\x5d-\x7e\u00A1-\uD7FF\uF900-\uFDCF\uFDF0-\uFFEF]"
    r"|\\[\x01-\x09\x0b\x0c\x0d-\x7f\u00A1-\uD7FF\uF900-\uFDCF\uFDF0-\uFFEF])*",
    re.IGNORECASE,
)
_TOP_LABEL = re.compile(
    r"(?:[a-z\u00A1-\u00A8\u00AA-\uD7FF\uF900-\uFDCF\uFDF0-\uFFEF]{2,}|xn[a-z0-9-]{2,})", re.IGNORECASE
)
_LABEL = re.compile(r"[a-z\u00a1-\U0010ffff0-9-]+", re.IGNORECASE)
_FULLWIDTH = re.compile(r"[\uff01-\uff5e]")


def is_email(value: Any) -> bool:
    if not isinstance(value, str) or _utf16_length(value) > _MAX_LENGTH:
        return False
    local, _, domain = value.rpartition("@")
    if _utf8_length(local) > _MAX_LOCAL_BYTES or _utf8_length(domain) > _MAX_DOMAIN_BYTES:
        return False
    if not _is_domain_name(domain):
        return False
    if local.startswith('"'):
        return _QUOTED_LOCAL.fullmatch(local[1:-1]) is not None
    return all(_LOCAL_ATOM.fullmatch(atom) for atom in local.split("."))


def _is_domain_name(domain: str) -> bool:
    labels = domain.split(".")
    if len(labels) < 2:
        return False
    top = labels[-1]
    if not _TOP_LABEL.fullmatch(top) or any(character.isspace() for character in top):
        return False
    return all(_is_label(label) for label in labels)


def _is_label(label: str) -> bool:
    return (
        _utf16_length(label) <= _MAX_LABEL_LENGTH
        and _LABEL.fullmatch(label) is not None
        and _FULLWIDTH.search(label) is None
        and not label.startswith("-")
        and not label.endswith("-")
        and "_" not in label
    )


def _utf16_length(text: str) -> int:
    return len(text) + sum(1 for character in text if ord(character) > 0xFFFF)


def _utf8_length(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))
