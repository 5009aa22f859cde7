"""A throwaway PostgreSQL server for tests: its own cluster in a temp folder, on loopback.

`PostgresServer.start()` runs initdb and pg_ctl from the Debian package (postgresql-15, or any
/usr/lib/postgresql/*/bin) on a free 127.0.0.1 port with its socket in the temp folder, and
`stop()` shuts it down and removes the folder. PostgreSQL refuses to run as root, so as root the
binaries run as the `postgres` user through runuser.

`NARROWTUNE_TEST_POSTGRES_URL` points the tests at an existing server instead (one database is
created per test, so the user needs CREATEDB). Without binaries or that variable the tests skip,
unless `NARROWTUNE_REQUIRE_POSTGRES=1` (set it in CI), which turns the skip into a failure.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

UNPRIVILEGED_USER = "postgres"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL binaries (or no unprivileged user to run them as): the tests skip."""


def find_bin_dir() -> Path:
    """The newest /usr/lib/postgresql/<version>/bin holding initdb and pg_ctl, else PATH."""
    candidates = sorted(
        (Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")),
        key=lambda bin_dir: _version(bin_dir.parent.name),
        reverse=True,
    )
    for bin_dir in candidates:
        if (bin_dir / "initdb").exists():
            return bin_dir
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl:
        return Path(os.path.realpath(pg_ctl)).parent
    raise PostgresUnavailable(
        "PostgreSQL server binaries not found (initdb/pg_ctl under /usr/lib/postgresql/*/bin "
        "or on PATH); install them with `apt-get install -y postgresql-15`"
    )


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class PostgresServer:
    """One cluster: `start()`, then `create_database(name)` -> URL, then `stop()`."""

    bin_dir: Path
    folder: Path = field(init=False)
    port: int = field(init=False)
    _prefix: list[str] = field(init=False, default_factory=list)
    _running: bool = field(init=False, default=False)

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    @property
    def log_file(self) -> Path:
        return self.folder / "server.log"

    def start(self) -> PostgresServer:
        self.folder = Path(tempfile.mkdtemp(prefix="narrowtune-pg-"))
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam(UNPRIVILEGED_USER)
            except KeyError:
                shutil.rmtree(self.folder, ignore_errors=True)
                raise PostgresUnavailable(
                    f"running as root and there is no '{UNPRIVILEGED_USER}' user to run "
                    "PostgreSQL as (the Debian package creates it)"
                ) from None
            os.chown(self.folder, user.pw_uid, user.pw_gid)
            self._prefix = ["runuser", "-u", UNPRIVILEGED_USER, "--"]
        try:
            self._run(
                "initdb", "-D", str(self.data_dir), "-A", "trust", "-U", "postgres",
                "-E", "UTF8", "--locale=C", "--no-sync",
            )  # fmt: skip
            self.port = free_port()
            # Durability off: a test cluster is thrown away, and fsync would dominate the run.
            options = (
                f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            self._run(
                "pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file),
                "-o", options, "-w", "-t", "60", "start",
            )  # fmt: skip
            self._running = True
        except BaseException:
            self.stop()
            raise
        return self

    def _run(self, program: str, *args: str) -> None:
        command = [*self._prefix, str(self.bin_dir / program), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = ""
            if self.log_file.exists():
                log = self.log_file.read_text(errors="replace")[-2000:]
            raise RuntimeError(
                f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}\n"
                f"{log}"
            )

    def admin_url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create database `name` and return its URL (plain `postgresql://`, no driver)."""
        return create_database(self.admin_url(), name)

    def stop(self) -> None:
        if self._running:
            self._running = False
            try:
                self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")
            finally:
                shutil.rmtree(self.folder, ignore_errors=True)
        else:
            shutil.rmtree(self.folder, ignore_errors=True)


def create_database(admin_url: str, name: str) -> str:
    """Create database `name` on the server behind `admin_url`; return the new database's URL."""
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)
