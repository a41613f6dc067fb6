"""The Celery application: `celery -A cio_project worker` and `celery -A cio_project beat`.

Configured for at-least-once work (settings.py, CELERY_*): tasks are acknowledged after they run,
rejected back to the queue if the worker dies, and each worker process holds one task at a time.
A lost message only delays work: the database is the truth and the sweeper re-dispatches it.
"""

import os

from celery import Celery

import cio_project.broker  # noqa: F401  (the embedded broker's transport, registered on import)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cio_project.settings")

app = Celery("cio_project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
