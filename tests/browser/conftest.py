"""The real admin in headless Chromium, served by gunicorn, with a Celery worker and a fake Customer.io.

Chromium is Debian's (`make test` installs it); Playwright drives it. Every step saves a screenshot
under tests/screenshots/<backend>/, so a person can see what the admin looked like in this run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from tests.conftest import BACKEND
from tests.engine.conftest import FAST_WORKER
from tests.support import processes
from tests.support.fake_customerio import FakeCustomerIO
from tests.support.services import free_port

SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots" / BACKEND
ADMIN_USER = "support"
ADMIN_PASSWORD = "a-long-password-for-the-browser-tests"
# The two widths every admin page is tried at: a laptop with the sidebar open, and a phone.
WIDE, NARROW = {"width": 1440, "height": 900}, {"width": 390, "height": 844}


def chromium_path() -> str:
    path = os.environ.get("CIO_TEST_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise RuntimeError(
            "Chromium is not installed: `make test` installs Debian's chromium package "
            "(or set CIO_TEST_CHROMIUM to a Chromium binary)."
        )
    return path


@dataclass
class Stack:
    """The running system: its base URL, the fake Customer.io it sends to, and its processes."""

    url: str
    fake: FakeCustomerIO
    web: processes.ChildProcess
    worker: processes.CeleryProcess


@pytest.fixture
def stack(tmp_path: Path, request) -> Iterator[Stack]:
    fake = FakeCustomerIO().start()
    env = processes.process_env(fake.url, **FAST_WORKER)
    port = free_port()
    # The admin's scripts and styles are served by WhiteNoise from STATIC_ROOT, as after `make run`.
    manage = [sys.executable, str(processes.ROOT / "manage.py")]
    subprocess.run([*manage, "collectstatic", "--noinput", "--verbosity", "0"], env=env, check=True)
    processes.purge_broker()
    web = processes.web(tmp_path, env, port, workers=1, threads=4)
    worker = processes.worker(tmp_path, env)
    started = []
    try:
        for process in (web, worker):
            started.append(process.start())
        yield Stack(f"http://127.0.0.1:{port}", fake, web, worker)
    finally:
        for process in started:
            process.stop()
        fake.stop()
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            for process in started:
                print(f"----- {process.name} log -----\n{process.log()[-5000:]}")


@pytest.fixture
def admin_login(transactional_db) -> tuple[str, str]:
    User.objects.create_superuser(ADMIN_USER, "support@example.com", ADMIN_PASSWORD)
    return ADMIN_USER, ADMIN_PASSWORD


@pytest.fixture
def page(stack: Stack, monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; the test's own ORM calls
    # (waiting for deliveries) are ordinary blocking calls, which Django otherwise refuses there.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        context = browser.new_context(base_url=stack.url, viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(15_000)
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


def log_in(page, username: str, password: str) -> None:
    """Log in through the admin's login form, as a person does."""
    page.goto("/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
