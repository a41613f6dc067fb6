"""gunicorn's settings for the web process: `make run` (cio_project/supervisord.conf) and the tests
start it with --config this file.

Access log lines never carry a credential: gunicorn's default format prints the HTTP Basic user name
(%(u)s), which is a source's write key, and the request line (%(r)s), whose query string may hold
`?writeKey=` (sendBeacon cannot set headers). This format has the path without its query instead.
"""

import os
from pathlib import Path

# The last field is the answer's X-Request-ID (cio_project/request_id.py): the same id as on the
# application's log lines for the request, and on the events it stored.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s" %({x-request-id}o)s'

# And whatever an atom holds (the path of Segment's settings document is /v1/projects/<writeKey>/...),
# redacted as every other log line is.
logger_class = "cio_project.access_log.RedactingAccessLogger"

# gunicorn's asyncio worker reads every request on its event loop, and cio_project/asgi.py hands Django
# only whole requests, in WEB_THREADS threads per worker: a slow client cannot hold a thread.
wsgi_app = "cio_project.asgi:application"
worker_class = "asgi"

# gunicorn's control socket (for `gunicornc`) would go to $HOME/.gunicorn/: keep it with this server's
# other runtime files instead, in the run directory `make run` gives (CIO_RELAY_RUN_DIR), else the data
# directory as settings.py finds it.
_run_dir = Path(
    os.environ.get("CIO_RELAY_RUN_DIR")
    or os.environ.get("CIO_RELAY_DATA_DIR")
    or Path(__file__).resolve().parent.parent / "var"
)
control_socket = str(_run_dir.resolve() / "gunicorn.ctl")
