"""The local Neo4j Community server, from its Maven Central jars.

``start`` fetches the jars once into the cache (``mvn dependency:copy-dependencies`` on the
bundled pom.xml), lays out a Neo4j home per instance (``.kg/<instance>/``: conf, data, logs,
run), starts the server through Neo4j's own launcher (``org.neo4j.server.startup.Neo4jCommand``,
which forks the server JVM and writes ``run/neo4j.pid``) bound to 127.0.0.1, and waits until
Bolt answers. ``stop`` asks the launcher to stop, waits, and kills what is left, so no JVM stays.

Authentication is on and the HTTP connector off (Bolt only). The password is ``NEO4J_PASSWORD``
when set, else one generated on first start into ``Settings.password_file`` (0600); a new store gets
it through ``neo4j-admin dbms set-initial-password`` before its first start, and a store made
before authentication was on (its ``neo4j`` user still has the default password) is given it on
the next start.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from kg.config import Settings

LAUNCHER = "org.neo4j.server.startup.Neo4jCommand"
ADMIN = "org.neo4j.server.startup.Neo4jAdminCommand"
DEFAULT_PASSWORD = "neo4j"  # what Neo4j gives the neo4j user of a store made without an initial password
_NO_AUTH = ("", "")  # no credentials: ``None`` would mean "the settings' own"


class ServerError(RuntimeError):
    """The local server could not be fetched, started or stopped; the message says why."""


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    pid: int | None
    uri: str
    home: Path
    version: str


def lib_dir(settings: Settings) -> Path:
    return settings.cache_dir / "jars" / f"neo4j-{settings.neo4j_version}"


def home_dir(settings: Settings) -> Path:
    return settings.cache_dir / settings.instance


def java_executable() -> str:
    """Java 17+ from JAVA_HOME or PATH (Neo4j 5.26 targets Java 17)."""
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java or not Path(java).exists():
        raise ServerError("Java 17 or newer is needed to run Neo4j 5.26: set JAVA_HOME or put java on PATH")
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)', out)
    if not match or int(match.group(1)) < 17:
        raise ServerError(f"Neo4j 5.26 needs Java 17 or newer; {java} reports: {out.strip()}")
    return java


def fetch_jars(settings: Settings) -> Path:
    """Resolve the server's jars into the cache once; later calls return the cached folder."""
    target = lib_dir(settings)
    if target.is_dir() and any(target.glob("org.neo4j.neo4j-*.jar")):
        return target
    mvn = shutil.which("mvn")
    if not mvn:
        raise ServerError("Maven (mvn) is needed once to fetch the Neo4j jars from Maven Central")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="lib-", dir=target.parent))
    pom = resources.files("kg.neo4j_server") / "pom.xml"
    with resources.as_file(pom) as pom_path:
        cmd = [
            mvn,
            "-q",
            "-B",
            "-f",
            str(pom_path),
            f"-Dneo4j.version={settings.neo4j_version}",
            "dependency:copy-dependencies",
            f"-DoutputDirectory={staging}",
        ]
        done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise ServerError(
            f"fetching Neo4j {settings.neo4j_version} jars failed:\n{done.stdout[-3000:]}{done.stderr[-2000:]}"
        )
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)
    return target


def layout_home(settings: Settings) -> Path:
    """Create (or refresh the config of) the instance's Neo4j home."""
    home = home_dir(settings)
    for sub in ("conf", "data", "logs", "plugins", "import", "run"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    template = (resources.files("kg.neo4j_server") / "neo4j.conf").read_text()
    conf = template.format(
        bolt_port=settings.bolt_port,
        heap=settings.heap,
        pagecache=settings.pagecache,
        tx_memory=settings.tx_memory,
    ).replace("server.directories.lib=lib", f"server.directories.lib={lib_dir(settings)}")
    (home / "conf" / "neo4j.conf").write_text(conf)
    return home


def _pid(settings: Settings) -> int | None:
    pid_file = home_dir(settings) / "run" / "neo4j.pid"
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return pid


def _probe(settings: Settings, auth: tuple[str, str] | None = None) -> str:
    """``up`` (Bolt answers and the credentials work), ``auth`` (it answers but refuses them) or ``down``."""
    from neo4j import GraphDatabase
    from neo4j.exceptions import AuthError

    try:
        credentials = None if auth == _NO_AUTH else auth or settings.auth
        with GraphDatabase.driver(settings.bolt_uri, auth=credentials, connection_timeout=2) as driver:
            driver.verify_connectivity()
        return "up"
    except AuthError:
        return "auth"
    except Exception:
        return "down"


def status(settings: Settings) -> ServerStatus:
    """``running``: the pid file names a live process and Bolt answers (whether or not it accepts our password)."""
    pid = _pid(settings)
    return ServerStatus(
        pid is not None and _probe(settings) != "down",
        pid,
        settings.bolt_uri,
        home_dir(settings),
        settings.neo4j_version,
    )


def ensure_password(settings: Settings) -> str:
    """The local server's password: ``NEO4J_PASSWORD``, else the generated one (made now on first use,
    written owner-only so no other local user can read it)."""
    if settings.password:
        return settings.password
    path = settings.password_file
    existing = settings.effective_password
    if existing:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
        return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(password + "\n")
    path.chmod(0o600)  # also when the file existed empty with other bits
    return password


def _store_exists(settings: Settings) -> bool:
    """True once the server has created its system database (the users live there)."""
    return (home_dir(settings) / "data" / "databases" / "system").is_dir()


def _set_initial_password(settings: Settings, password: str) -> None:
    """``neo4j-admin dbms set-initial-password``: a new store's neo4j user starts with ``password``.

    ``--`` ends the options: a generated password (``secrets.token_urlsafe``) begins with ``-`` one time in
    64, which picocli would otherwise take for an unknown option ("Missing required parameter")."""
    done = _launcher(settings, "dbms", "set-initial-password", "--", password, main=ADMIN)
    if done.returncode != 0:
        raise ServerError(
            f"neo4j-admin dbms set-initial-password failed (exit {done.returncode}):\n{done.stderr[-2000:]}"
        )


def _adopt_password(settings: Settings, password: str) -> None:
    """A store made while authentication was off still has the default password (which must be changed
    before anything else is allowed): change it to ``password``. Anything else is the user's to resolve."""
    from neo4j import GraphDatabase
    from neo4j.exceptions import AuthError, ClientError

    try:
        with GraphDatabase.driver(
            settings.bolt_uri, auth=(settings.user, DEFAULT_PASSWORD), connection_timeout=5
        ) as driver:
            driver.execute_query(
                "ALTER CURRENT USER SET PASSWORD FROM $old TO $new",
                old=DEFAULT_PASSWORD,
                new=password,
                database_="system",
            )
    except (AuthError, ClientError) as err:
        source = "NEO4J_PASSWORD" if settings.password else f"the password in {settings.password_file}"
        raise ServerError(
            f"Neo4j at {settings.bolt_uri} (home {home_dir(settings)}) refuses {source} for user "
            f"{settings.user!r}, and its password is not the default one either ({err.__class__.__name__}). "
            "Set NEO4J_PASSWORD to the password this store has, or, if its data can go, "
            "`kg db stop && kg db wipe && kg db start` to make a new store with the generated password."
        ) from err


def _launcher(settings: Settings, *args: str, main: str = LAUNCHER) -> subprocess.CompletedProcess[str]:
    home = home_dir(settings)
    env = dict(os.environ, NEO4J_HOME=str(home), NEO4J_CONF=str(home / "conf"))
    cmd = [java_executable(), "-Xmx128m", "-cp", f"{lib_dir(settings)}/*", main, *args]
    return subprocess.run(cmd, env=env, cwd=home, capture_output=True, text=True)


def start(settings: Settings, timeout: float = 180.0) -> ServerStatus:
    """Start the local server if it is not running, and wait until Bolt answers with our password."""
    if not settings.is_local:
        raise ServerError(f"NEO4J_URI is set ({settings.uri}); the local server is not used")
    password = ensure_password(settings)
    current = status(settings)
    if current.running and _probe(settings, _NO_AUTH) == "up":
        stop(settings)  # started before authentication was on (it takes anyone): restart it with auth
        current = status(settings)
    if current.running:
        _check_password(settings, password)
        return current
    fetch_jars(settings)
    home = layout_home(settings)
    if current.pid is None:
        if not _store_exists(settings):
            _set_initial_password(settings, password)
        done = _launcher(settings, "start")
        if done.returncode != 0:
            raise ServerError(
                f"Neo4j did not start (exit {done.returncode}):\n{done.stdout}{done.stderr}\n"
                f"see {home / 'logs' / 'neo4j.log'}"
            )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _probe(settings) != "down":
            _check_password(settings, password)
            return status(settings)
        if _pid(settings) is None:
            raise ServerError(
                f"Neo4j exited during start-up; see {home / 'logs' / 'neo4j.log'}:\n"
                + _tail(home / "logs" / "neo4j.log")
            )
        time.sleep(0.5)
    raise ServerError(f"Neo4j did not answer on {settings.bolt_uri} within {timeout:.0f} s; see {home / 'logs'}")


def _check_password(settings: Settings, password: str) -> None:
    """The server answers: make sure it takes ``password`` (adopting it on a store made without auth)."""
    auth = (settings.user, password)
    if _probe(settings, auth) == "auth":
        _adopt_password(settings, password)
        if _probe(settings, auth) != "up":
            raise ServerError(f"Neo4j at {settings.bolt_uri} still refuses the password after setting it")


def stop(settings: Settings, timeout: float = 120.0) -> bool:
    """Stop the local server; returns False if it was not running. Leaves no JVM behind."""
    pid = _pid(settings)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)  # the server's shutdown hook closes the store cleanly
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _pid(settings) is None:
            break
        time.sleep(0.3)
    else:
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reap if it was our child
    (home_dir(settings) / "run" / "neo4j.pid").unlink(missing_ok=True)
    return True


def wipe(settings: Settings) -> None:
    """Delete the instance's data (the server must be stopped)."""
    if _pid(settings) is not None:
        raise ServerError("stop the server before wiping its data")
    shutil.rmtree(home_dir(settings) / "data", ignore_errors=True)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
