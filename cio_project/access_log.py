"""gunicorn's access log without secrets: `make run`'s web server logs every request, and SDKs put
write keys in them (the HTTP Basic user name, `?writeKey=` on RudderStack's beacon and sourceConfig,
the path of Segment's project settings). The user name is left out and the rest redacted, as every
other log line is (log_redaction.py).
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from cio_project.log_redaction import redact


class RedactingAccessLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: dict, request_time: Any) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["u"] = "-"
        for name, value in atoms.items():
            if isinstance(value, str):
                atoms[name] = redact(value)
        return atoms
