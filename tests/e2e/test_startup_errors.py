"""Start-up failures in one line, exit 2, and the wait for a database not up yet
(gateway/cli/startup.py), on real `cleverinvo` processes: a read-only data directory, a
database port with nothing listening, one that appears during the wait, one that never
answers, a fatal refusal, and the API processes of `serve --workers N`."""

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from gateway.cli.startup import StartupError, not_yet_up, wait_for_database
from gateway.settings import Settings
from tests.backends import postgres_env
from tests.db_proxy import DbProxy
from tests.e2e.test_operations import until

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 180  # seconds a process gets to end: generous, never a measure of speed


def environment(data: Path, **env: str) -> dict[str, str]:
    """This environment without any CLEVERINVO_ setting, plus ``env``."""
    kept = {name: value for name, value in os.environ.items() if not name.startswith("CLEVERINVO_")}
    return {**kept, "CLEVERINVO_DATA_DIR": str(data), **env}


def run(command: list[str], env: dict[str, str], prefix: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*(prefix or []), sys.executable, "-m", "gateway.cli.main", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def dead_port() -> int:
    """A loopback port with nothing listening (bound a moment ago, then let go)."""
    return free_port()


def one_line_exit_2(result: subprocess.CompletedProcess[str], *wanted: str) -> str:
    """The process exited 2 and its last stderr line says what is wrong; no traceback."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    line = result.stderr.splitlines()[-1]
    assert line.startswith("cleverinvo: "), result.stderr
    for word in wanted:
        assert word in line, line
    return line


def read_only(folder: Path) -> list[str]:
    """A command prefix under which ``folder`` is read-only: its permission bits for an
    ordinary user; for root, whom permission bits do not stop, a read-only bind mount in a
    mount namespace of the process's own (unshare(1); nothing outside it sees the mount)."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return []
    prefix = ["unshare", "--mount", "--propagation", "private", "sh", "-c", 'mount --bind -o ro "$0" "$0" && exec "$@"']
    try:
        mounted = subprocess.run([*prefix, str(folder), "true"], capture_output=True, timeout=60).returncode == 0
    except OSError:  # no unshare(1)
        mounted = False
    if not mounted:
        pytest.skip(f"cannot make {folder} read-only for root here: run as another user, or with CAP_SYS_ADMIN")
    return [*prefix, str(folder)]


# --- the data directory -------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["workers"], ["accounts", "create", "Acme"]])
def test_a_read_only_data_directory_is_one_line_naming_it_and_exit_2(tmp_path: Path, command: list[str]) -> None:
    data = tmp_path / "data"
    result = run(command, environment(data), read_only(data))
    one_line_exit_2(result, str(data), "read-only" if os.geteuid() == 0 else "not writable")
    assert result.stderr.count("\n") == 1  # exactly one line
    assert result.stdout == ""  # no key printed: nothing was made


def test_a_data_directory_that_cannot_be_made_is_one_line_and_exit_2(tmp_path: Path) -> None:
    parent = tmp_path / "locked"
    data = parent / "data"
    result = run(["serve", "--port", "0"], environment(data), read_only(parent))
    one_line_exit_2(result, str(data), "cannot be made")
    assert result.stderr.count("\n") == 1


def test_a_data_directory_that_is_a_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.write_text("not a folder")
    result = run(["accounts", "list"], environment(data))
    one_line_exit_2(result, str(data), "not a directory")
    assert result.stderr.count("\n") == 1


# --- a database not answering -----------------------------------------------------------------


def test_serve_retries_a_database_port_with_nothing_listening_then_exits_2_in_one_line(tmp_path: Path) -> None:
    port = dead_port()
    env = environment(
        tmp_path,
        CLEVERINVO_DATABASE_URL=f"postgresql://127.0.0.1:{port}/test",
        CLEVERINVO_DATABASE_WAIT="1",
    )
    result = run(["serve", "--port", "0"], env)
    one_line_exit_2(result, f"127.0.0.1:{port}", "not answering", "CLEVERINVO_DATABASE_WAIT", "connection refused")
    *tries, _last = result.stderr.splitlines()
    assert tries, result.stderr  # each try logged, as a JSON line of the server's log
    for line in tries:
        record = json.loads(line)
        assert record["logger"] == "cleverinvo.startup" and record["level"] == "WARNING"
        assert record["message"].startswith(
            f"database at 127.0.0.1:{port} not answering (connection refused); retrying in "
        )
    assert result.stdout == ""


@pytest.mark.parametrize(
    "command",
    [
        ["accounts", "create", "Acme"],
        ["keys", "list", "6f1c9d0e-4a44-4c57-9a0e-2b1f4f6f0a11"],
        ["ledger", "verify"],
        ["workers"],
        ["db", "upgrade"],
    ],
)
def test_a_command_against_a_dead_database_is_one_line_and_exit_2(tmp_path: Path, command: list[str]) -> None:
    port = dead_port()
    env = environment(
        tmp_path / "data",
        CLEVERINVO_DATABASE_URL=f"postgresql://127.0.0.1:{port}/test",
        CLEVERINVO_DATABASE_WAIT="0",
    )
    result = run(command, env)
    one_line_exit_2(result, f"127.0.0.1:{port}", "connection refused")
    assert result.stderr.count("\n") == 1 and result.stdout == ""


def test_the_cli_logs_each_try_as_a_plain_line_while_it_waits(tmp_path: Path) -> None:
    port = dead_port()
    env = environment(
        tmp_path / "data",
        CLEVERINVO_DATABASE_URL=f"postgresql://127.0.0.1:{port}/test",
        CLEVERINVO_DATABASE_WAIT="1",
    )
    result = run(["accounts", "create", "Acme"], env)
    one_line_exit_2(result, "within 1 s")
    *tries, _last = result.stderr.splitlines()
    assert tries and all(line.startswith(f"cleverinvo: database at 127.0.0.1:{port} not answering") for line in tries)


def test_a_database_that_accepts_and_never_answers_ends_the_wait_too(tmp_path: Path) -> None:
    """A connect that hangs is bounded by the connect timeout: the wait still ends."""
    with DbProxy() as proxy:
        proxy.cut(mode="blackhole")
        env = environment(tmp_path, CLEVERINVO_DATABASE_URL=proxy.url(), CLEVERINVO_DATABASE_WAIT="1")
        result = run(["accounts", "list"], env)
    one_line_exit_2(result, f"127.0.0.1:{proxy.port}", "no answer within the connect timeout")


def test_a_fatal_refusal_is_not_waited_for(tmp_path: Path) -> None:
    """An unknown role is no outage: one line at once, no retry logged, even with a long wait."""
    with postgres_env() as env:
        url = env["CLEVERINVO_DATABASE_URL"].replace("postgresql://", "postgresql://no_such_role_here@")
        result = run(
            ["accounts", "list"], environment(tmp_path, CLEVERINVO_DATABASE_URL=url, CLEVERINVO_DATABASE_WAIT="600")
        )
    one_line_exit_2(result, "127.0.0.1:5432", "no_such_role_here")
    assert result.stderr.count("\n") == 1


def test_an_api_process_of_serve_workers_n_that_cannot_open_the_store_exits_2_in_one_line(tmp_path: Path) -> None:
    """What uvicorn's spawned API processes import (gateway.cli.processes's app factory)."""
    port = dead_port()
    env = environment(
        tmp_path, CLEVERINVO_DATABASE_URL=f"postgresql://127.0.0.1:{port}/test", CLEVERINVO_DATABASE_WAIT="0"
    )
    result = subprocess.run(
        [sys.executable, "-c", "from gateway.cli.processes import create_process_app; create_process_app()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )
    one_line_exit_2(result, f"127.0.0.1:{port}", "connection refused")
    assert result.stderr.count("\n") == 1


# --- a database that comes up during the wait -----------------------------------------------------


@contextmanager
def serve(env: dict[str, str], log: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = free_port()
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli.main", "serve", "--no-workers", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process, port
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_serve_proceeds_and_serves_once_the_database_comes_up_during_its_wait(tmp_path: Path) -> None:
    with postgres_env() as pg, DbProxy() as proxy:
        proxy.cut()  # nothing listens on the proxy's port yet
        url = pg["CLEVERINVO_DATABASE_URL"].replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
        env = environment(tmp_path, **{**pg, "CLEVERINVO_DATABASE_URL": url, "CLEVERINVO_DATABASE_WAIT": "600"})
        log = tmp_path / "serve.log"
        with serve(env, log) as (process, port):

            def text() -> str:
                return log.read_text(encoding="utf-8", errors="replace")

            def retried() -> bool:
                assert process.poll() is None, text()
                return "not answering (connection refused); retrying in" in text()

            until(retried, DEADLINE, "serve to log its first retry")
            proxy.restore()  # the database comes up

            def ready() -> bool:
                assert process.poll() is None, text()
                try:
                    return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200
                except httpx.HTTPError:
                    return False

            until(ready, DEADLINE, "serve to become ready")
            assert "Traceback" not in text()


# --- the wait's schedule --------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_the_wait_backs_off_from_a_quarter_second_doubling_to_five_and_stops_at_the_deadline() -> None:
    port = dead_port()
    settings = Settings.from_env(
        {"CLEVERINVO_DATABASE_URL": f"postgresql://127.0.0.1:{port}/test", "CLEVERINVO_DATABASE_WAIT": "30"}
    )
    clock, said = FakeClock(), list[str]()
    with pytest.raises(StartupError, match=f"127.0.0.1:{port} is not answering within 30 s"):
        wait_for_database(settings, said.append, clock=clock, sleep=clock.sleep)  # real connects, refused
    pauses = [line.split("retrying in ")[1].split(" s,")[0] for line in said]
    assert pauses == ["0.25", "0.5", "1", "2", "4", "5", "5", "5", "5", "2.25"]
    assert said[0].endswith("29.8 s left") and said[-1].endswith("0.0 s left")
    assert clock.now == 30


def test_the_wait_setting_is_checked() -> None:
    assert Settings.from_env({}).database_wait_seconds == 30
    assert Settings.from_env({"CLEVERINVO_DATABASE_WAIT": "0"}).database_wait_seconds == 0


@pytest.mark.parametrize(
    ("message", "retried"),
    [
        ('connection to server at "db", port 5432 failed: FATAL:  the database system is starting up', True),
        ('connection to server at "db", port 5432 failed: FATAL:  the database system is shutting down', True),
        ("FATAL:  sorry, too many clients already", True),
        ("failed to resolve host 'db': [Errno -2] Name or service not known", True),
        ("connection timeout expired", True),
        (
            'connection to server at "db", port 5432 failed: FATAL:  password authentication failed for user "app"',
            False,
        ),
        ('connection to server at "db", port 5432 failed: FATAL:  database "cleverinvo" does not exist', False),
        ('FATAL:  no pg_hba.conf entry for host "10.0.0.5", user "app", database "cleverinvo"', False),
        ("invalid connection option", False),
    ],
)
def test_what_is_waited_for_and_what_is_fatal_at_once(message: str, retried: bool) -> None:
    """PostgreSQL's own messages (libpq through psycopg): an outage is waited for, a wrong
    name or credential is not (gateway/cli/startup.py's docstring)."""
    assert (not_yet_up(message) is not None) is retried
