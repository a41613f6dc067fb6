"""Private PostgreSQL and Redis servers that a fault test may kill and restart at will.

The shared servers on 127.0.0.1:5432/6379 serve every other test run on this machine, so a fault
test never touches them: it starts its own on free ports, in a temporary folder, and removes both
when done (also when the test fails). PostgreSQL refuses to run as root, so it runs as the
`postgres` user, in a folder that user owns.
"""

from __future__ import annotations

import glob
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import redis

from tests.support.processes import wait_until

POSTGRES_USER = "postgres"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def postgres_bin(program: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{program}"))
    if not found:
        raise RuntimeError(f"{program} not found under /usr/lib/postgresql/*/bin/")
    return found[-1]


class PrivatePostgres:
    """One PostgreSQL cluster in `folder`, listening on 127.0.0.1:`port`, trusting local clients."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"postgres://{POSTGRES_USER}@127.0.0.1:{self.port}"

    def _as_postgres(self, *command: str) -> None:
        subprocess.run(
            ["runuser", "-u", POSTGRES_USER, "--", *command], check=True, capture_output=True, timeout=120
        )

    def create(self) -> PrivatePostgres:
        shutil.chown(self.folder, POSTGRES_USER, POSTGRES_USER)
        self._as_postgres(
            *(postgres_bin("initdb"), "-D", str(self.data), "-U", POSTGRES_USER),
            *("--auth=trust", "--encoding=UTF8", "--no-sync"),
        )
        return self.start()

    def start(self) -> PrivatePostgres:
        # fsync off: a killed server keeps what it wrote to the OS, which is the crash this simulates.
        # synchronous_commit stays on, so a commit is in the OS's hands before the client hears of it.
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        options += " -c full_page_writes=off -c max_connections=200"
        self._as_postgres(
            postgres_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "server.log"),
            "-o", options, "-w", "-t", "60", "start",
        )  # fmt: skip
        wait_until(self.accepts_connections, timeout=60, message="private PostgreSQL did not start")
        return self

    def kill(self) -> None:
        """Stop at once, without a checkpoint: clients see their connections drop, as in a crash."""
        self._as_postgres(postgres_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._as_postgres(postgres_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def accepts_connections(self) -> bool:
        try:
            with psycopg.connect(f"{self.url}/postgres", connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    def create_database(self, name: str, template: str | None = None) -> str:
        with psycopg.connect(f"{self.url}/postgres", autocommit=True) as connection:
            suffix = f" TEMPLATE {template}" if template else ""
            connection.execute(f"CREATE DATABASE {name}{suffix}")
        return f"{self.url}/{name}"


class PrivateRedis:
    """One redis-server on 127.0.0.1:`port` that keeps nothing on disk: a restart starts it empty."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            cwd=self.folder,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        wait_until(self.answers, timeout=30, message="private Redis did not start")
        return self

    def answers(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def flush(self) -> None:
        redis.Redis.from_url(self.url, socket_timeout=5).flushall()


@contextmanager
def private_servers() -> Iterator[tuple[PrivatePostgres, PrivateRedis]]:
    """A private PostgreSQL and Redis for the block; stopped and their folder removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="cio-private-servers-"))
    folder.chmod(0o755)  # the postgres user must reach its own folder inside
    postgres, redis_server = PrivatePostgres(folder / "postgres"), PrivateRedis(folder / "redis")
    postgres.folder.mkdir()
    redis_server.folder.mkdir()
    try:
        yield postgres.create(), redis_server.start()
    finally:
        try:
            postgres.stop()
        finally:
            redis_server.stop()
            shutil.rmtree(folder, ignore_errors=True)
