"""Real servers the deploy tests build: a PgBouncer in front of the test server,
and PostgreSQL 15 clusters (a primary with a streaming standby, a second server
for targets). One instance of each per pytest process, started on first use
and stopped at exit; a crashed earlier run's leftovers (directories named
``ddlkit-fixt-<pid>-*`` whose pid is gone) are stopped and removed first.

Everything runs as an unprivileged OS user when the tests run as root.
"""

from __future__ import annotations

import atexit
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

PG15 = Path("/usr/lib/postgresql/15/bin")
PREFIX = "ddlkit-fixt-"
_cleanups: list = []


def _run_as() -> str | None:
    """The unprivileged user for servers when we are root, else None (ourselves)."""
    return "postgres" if os.geteuid() == 0 else None


def _cmd(argv: list[str], user: str | None) -> list[str]:
    return ["runuser", "-u", user, "--", *argv] if user else argv


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _workdir(user: str | None) -> Path:
    d = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
    if user:
        shutil.chown(d, user, user)
    return d


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_leftovers() -> None:
    """Stop servers and poolers left by a pytest process that died without cleaning up."""
    for d in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        try:
            owner = int(d.name[len(PREFIX):].split("-", 1)[0])
        except ValueError:
            continue
        if _pid_alive(owner):
            continue
        for pidfile in d.glob("**/postmaster.pid"):
            _stop_pid_file(pidfile)
        for pidfile in d.glob("**/pgbouncer.pid"):
            _stop_pid_file(pidfile)
        shutil.rmtree(d, ignore_errors=True)


def _stop_pid_file(pidfile: Path) -> None:
    try:
        pid = int(pidfile.read_text().split()[0])
        os.kill(pid, signal.SIGQUIT if pidfile.name == "postmaster.pid" else signal.SIGTERM)
    except (OSError, ValueError, IndexError):
        pass


@atexit.register
def _cleanup_all() -> None:
    while _cleanups:
        fn = _cleanups.pop()
        try:
            fn()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


# --------------------------------------------------------------------------- PostgreSQL 15

def pg15_missing() -> str | None:
    """Why PostgreSQL 15 clusters cannot be built here, or None."""
    for tool in ("initdb", "pg_ctl", "pg_basebackup", "postgres"):
        if not (PG15 / tool).exists():
            return f"PostgreSQL 15 binaries not found ({PG15 / tool} is missing; apt-get install postgresql-15)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root but there is no unprivileged OS user 'postgres' to run PostgreSQL 15"
    return None


class Cluster:
    """A PostgreSQL 15 cluster on a Unix socket in its own directory."""

    def __init__(self, data: Path, sockdir: Path, port: int, user: str | None):
        self.data, self.sockdir, self.port, self.user = data, sockdir, port, user

    def conninfo(self, dbname: str = "postgres", user: str = "postgres") -> str:
        return make_conninfo(host=str(self.sockdir), port=self.port, user=user, dbname=dbname)

    def url(self, dbname: str = "postgres", user: str = "postgres") -> str:
        return f"postgresql://{user}@/{dbname}?host={self.sockdir}&port={self.port}"

    def connect(self, dbname: str = "postgres", **kw) -> psycopg.Connection:
        return psycopg.connect(self.conninfo(dbname), autocommit=True, **kw)

    def pg_ctl(self, *args: str) -> None:
        subprocess.run(_cmd([str(PG15 / "pg_ctl"), "-D", str(self.data), *args], self.user),
                       check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self.pg_ctl("-w", "-l", str(self.data.parent / f"{self.data.name}.log"),
                    "-o", f"-p {self.port} -k {self.sockdir} -c listen_addresses=''", "start")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            try:
                self.pg_ctl("-w", "-m", "immediate", "stop")
            except (subprocess.SubprocessError, OSError):
                _stop_pid_file(self.data / "postmaster.pid")


def _initdb(workdir: Path, name: str, user: str | None, extra_conf: str = "", password: str | None = None) -> Cluster:
    """A new cluster; with ``password``, local connections need it (scram-sha-256)."""
    data = workdir / name
    auth = ["--auth-local=trust"]
    if password is not None:
        pwfile = workdir / f"{name}.pw"
        pwfile.write_text(password + "\n")
        if user:
            shutil.chown(pwfile, user, user)
        auth = ["--auth-local=scram-sha-256", f"--pwfile={pwfile}"]
    subprocess.run(_cmd([str(PG15 / "initdb"), "-D", str(data), "-U", "postgres", *auth,
                         "--auth-host=reject", "-N"], user), check=True, capture_output=True, timeout=120)
    with open(data / "postgresql.conf", "a") as conf:
        conf.write("\nfsync = off\nwal_level = replica\nmax_wal_senders = 5\nshared_buffers = 16MB\n" + extra_conf)
    cluster = Cluster(data, workdir, _free_port(), user)
    return cluster


def _new_cluster(name: str) -> Cluster:
    """initdb and start a cluster in a fresh directory; stopped and removed at exit."""
    reap_leftovers()
    user = _run_as()
    workdir = _workdir(user)
    _cleanups.append(lambda: shutil.rmtree(workdir, ignore_errors=True))
    cluster = _initdb(workdir, name, user)
    _cleanups.append(cluster.stop)
    cluster.start()
    return cluster


def stopped_cluster(name: str, password: str | None = None) -> Cluster:
    """initdb a cluster in a fresh directory without starting it (the caller
    starts it: ``cluster.start()``); stopped and removed at exit."""
    reap_leftovers()
    user = _run_as()
    workdir = _workdir(user)
    _cleanups.append(lambda: shutil.rmtree(workdir, ignore_errors=True))
    cluster = _initdb(workdir, name, user, password=password)
    _cleanups.append(cluster.stop)
    return cluster


_primary: tuple[Cluster, Cluster] | None = None
_second: Cluster | None = None


def _standby(primary: Cluster, name: str, conf: str, *basebackup: str) -> Cluster:
    """A standby of ``primary`` made with ``pg_basebackup -R`` (and ``basebackup``'s
    options) in ``<workdir>/<name>``, ``conf`` appended to its postgresql.conf; started,
    and stopped at exit."""
    data = primary.sockdir / name
    subprocess.run(_cmd([str(PG15 / "pg_basebackup"), "-D", str(data), "-h", str(primary.sockdir),
                         "-p", str(primary.port), "-U", "postgres", "-R", *basebackup, "-X", "stream", "-c", "fast"],
                        primary.user), check=True, capture_output=True, timeout=120)
    with open(data / "postgresql.conf", "a") as fh:
        fh.write("\nhot_standby = on\n" + conf)
    standby = Cluster(data, primary.sockdir, _free_port(), primary.user)
    _cleanups.append(standby.stop)
    standby.start()
    return standby


def _wait_streaming(primary: Cluster, count: int) -> None:
    """Until ``count`` standbys stream from ``primary`` (60 s at most)."""
    with primary.connect() as conn:
        deadline = time.monotonic() + 60
        while conn.execute("select count(*) from pg_stat_replication where state = 'streaming'").fetchone()[0] \
                < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{count} standby(s) did not start streaming within 60s")
            time.sleep(0.1)


def primary_and_standby() -> tuple[Cluster, Cluster]:
    """A PG15 primary (wal_level=replica) and a streaming standby made with
    ``pg_basebackup -R``; the standby reports itself as ``ddlkit_standby``."""
    global _primary
    if _primary is None:
        primary = _new_cluster("primary")
        standby = _standby(primary, "standby", "cluster_name = 'ddlkit_standby'\n")
        _wait_streaming(primary, 1)  # the standby is streaming before any test uses it
        _primary = (primary, standby)
    return _primary


def primary_and_slot_standbys(slots: tuple[str, ...]) -> tuple[Cluster, list[Cluster]]:
    """A private PG15 primary and one streaming standby per name in ``slots``, each
    on its own physical replication slot (``pg_basebackup -R -C -S``), all with the
    default ``application_name`` (``walreceiver``: no ``cluster_name``), reconnecting
    100 ms after a lost connection; stopped and removed at exit."""
    primary = _new_cluster("slotted")
    standbys = [_standby(primary, f"standby_{slot}", "wal_retrieve_retry_interval = 100ms\n", "-C", "-S", slot)
                for slot in slots]
    _wait_streaming(primary, len(slots))
    return primary, standbys


def second_server() -> Cluster:
    """A plain PG15 server (the second server for multi-target tests)."""
    global _second
    if _second is None:
        _second = _new_cluster("second")
    return _second


# --------------------------------------------------------------------------- PgBouncer

def pgbouncer_binary() -> str | None:
    return shutil.which("pgbouncer") or next((p for p in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer")
                                              if os.path.exists(p)), None)


class Bouncer:
    def __init__(self, port: int, mode: str, process: subprocess.Popen, workdir: Path):
        self.port, self.mode, self.process, self.workdir = port, mode, process, workdir

    def url(self, dbname: str, user: str) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"

    def stop(self) -> None:
        _stop_pid_file(self.workdir / "pgbouncer.pid")
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


_bouncers: dict[str, Bouncer] = {}


def pgbouncer(mode: str, server: dict) -> Bouncer:
    """A PgBouncer with ``pool_mode = mode`` on 127.0.0.1, in front of ``server``
    (conftest.SERVER: host, port, user, password)."""
    if mode in _bouncers:
        return _bouncers[mode]
    reap_leftovers()
    binary = pgbouncer_binary()
    host = server["host"]
    # The embedded server's socket directory is private to its owner: run as that owner.
    if os.geteuid() == 0:
        user = pwd.getpwuid(os.stat(host).st_uid).pw_name if host.startswith("/") else "postgres"
    else:
        user = None
    workdir = _workdir(user)
    _cleanups.append(lambda: shutil.rmtree(workdir, ignore_errors=True))
    port = _free_port()
    target = make_conninfo(host=host, port=server["port"], user=server["user"],
                           **({"password": server["password"]} if server["password"] else {}))
    (workdir / "users.txt").write_text(f'"{server["user"]}" ""\n')
    (workdir / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = {target}\n"
        "[pgbouncer]\n"
        "listen_addr = 127.0.0.1\n"
        f"listen_port = {port}\n"
        "unix_socket_dir =\n"
        "auth_type = trust\n"
        f"auth_file = {workdir / 'users.txt'}\n"
        f"pool_mode = {mode}\n"
        "max_client_conn = 200\n"
        "default_pool_size = 20\n"
        f"pidfile = {workdir / 'pgbouncer.pid'}\n"
        f"logfile = {workdir / 'pgbouncer.log'}\n"
        "ignore_startup_parameters = extra_float_digits,options\n"
    )
    if user:
        for f in workdir.iterdir():
            shutil.chown(f, user, user)
    process = subprocess.Popen(_cmd([binary, str(workdir / "pgbouncer.ini")], user),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bouncer = Bouncer(port, mode, process, workdir)
    _cleanups.append(bouncer.stop)
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                log = workdir / "pgbouncer.log"
                raise RuntimeError(f"pgbouncer did not start: {log.read_text() if log.exists() else ''}")
            time.sleep(0.05)
    _bouncers[mode] = bouncer
    return bouncer
