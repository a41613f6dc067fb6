"""The WSGI application, as gunicorn serves it (cio_project/Procfile)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cio_project.settings")

django_application = get_wsgi_application()

from delivery.ingestion.chunked import ChunkedBodies  # noqa: E402  (needs the settings loaded)

application = ChunkedBodies(django_application)
