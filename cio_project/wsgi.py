"""Django's WSGI application. gunicorn serves it through cio_project/asgi.py, which hands it only whole
requests; WSGI_APPLICATION names it for Django's own tools."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cio_project.settings")

application = get_wsgi_application()
