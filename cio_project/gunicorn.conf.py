"""gunicorn's settings for the web process (the Procfile and the tests start it with -c this file).

Access log lines never carry a credential: gunicorn's default format prints the HTTP Basic user name
(%(u)s), which is a source's write key, and the request line (%(r)s), whose query string may hold
`?writeKey=` (sendBeacon cannot set headers). This format has the path without its query instead.
"""

access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'
