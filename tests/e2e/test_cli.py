"""The `cleverinvo` command line, run in-process on a real data directory."""

import os
import re
import subprocess
import sys
from pathlib import Path
from uuid import UUID

import pytest

from gateway.app import create_app
from gateway.services import Services
from gateway.settings import Settings
from tests.conftest import TestClient, assert_error, dump_read_model

KEY_SHAPE = re.compile(r"cinv_[A-Za-z0-9_-]{32,}")
ROOT = Path(__file__).resolve().parents[2]


def created_account(cli, *args: str) -> str:
    code, lines, err = cli("accounts", "create", "My Company", *args)
    assert code == 0, err
    return lines[-1]


def created_key(cli, account_id: str, *args: str) -> str:
    code, lines, err = cli("keys", "create", account_id, *args)
    assert code == 0, err
    return lines[-1]


def key_id_of(cli, account_id: str, name: str) -> str:
    _, lines, _ = cli("keys", "list", account_id)
    return next(line.split()[0] for line in lines if line.endswith(name))


def status_with(settings: Settings, key: str) -> int:
    services = Services(settings)
    try:
        with TestClient(create_app(settings, services), raise_server_exceptions=False) as http:
            return http.get("/api/v1/clients", headers={"Authorization": f"Bearer {key}"}).status_code
    finally:
        services.close()


def test_accounts_create_prints_the_new_id_last_and_list_shows_it(cli):
    account_id = created_account(cli, "--plan", "pro", "--locale", "es")
    UUID(account_id)
    code, lines, _ = cli("accounts", "list")
    assert code == 0
    assert any(
        line.startswith(account_id) and "pro" in line and "es" in line and "My Company" in line for line in lines
    )


def test_accounts_default_to_the_free_plan(cli):
    account_id = created_account(cli)
    _, lines, _ = cli("accounts", "list")
    assert any(line.startswith(account_id) and " free " in line for line in lines)


@pytest.mark.parametrize(("args", "message"), [(("--locale", "fr"), "locale"), ((), "name")])
def test_accounts_create_with_bad_values_fails_with_a_message(cli, args, message):
    name = "" if message == "name" else "My Company"
    code, lines, err = cli("accounts", "create", name, *args)
    assert code == 1 and lines == []
    assert err.startswith("cleverinvo: ") and message in err.lower()


def test_unknown_plan_is_a_usage_error(cli):
    with pytest.raises(SystemExit) as exit_info:
        cli("accounts", "create", "My Company", "--plan", "gold")
    assert exit_info.value.code == 2


def test_keys_create_prints_a_working_key_last(cli, settings):
    key = created_key(cli, created_account(cli), "--name", "laptop")
    assert KEY_SHAPE.fullmatch(key)
    assert status_with(settings, key) == 200


def test_keys_list_shows_prefix_state_and_name_but_never_the_key(cli):
    account_id = created_account(cli)
    key = created_key(cli, account_id, "--name", "laptop")
    code, lines, _ = cli("keys", "list", account_id)
    assert code == 0 and len(lines) == 1
    assert key[:9] in lines[0] and "active" in lines[0] and lines[0].endswith("laptop")
    assert key not in lines[0]


def test_keys_revoke_makes_the_key_fail_auth_even_on_a_running_server(cli, settings):
    account_id = created_account(cli)
    key = created_key(cli, account_id, "--name", "laptop")
    services = Services(settings)
    try:
        with TestClient(create_app(settings, services), raise_server_exceptions=False) as http:
            headers = {"Authorization": f"Bearer {key}"}
            assert http.get("/api/v1/clients", headers=headers).status_code == 200
            code, lines, err = cli("keys", "revoke", key_id_of(cli, account_id, "laptop"))
            assert code == 0, err
            assert_error(http.get("/api/v1/clients", headers=headers), 401)
    finally:
        services.close()
    _, listed, _ = cli("keys", "list", account_id)
    assert "revoked" in listed[0]


def test_keys_commands_for_unknown_ids_fail_with_a_message(cli):
    unknown = "6f1c9d0e-4a44-4c57-9a0e-2b1f4f6f0a11"
    for args in (("keys", "create", unknown), ("keys", "list", unknown), ("keys", "revoke", unknown)):
        code, lines, err = cli(*args)
        assert code == 1 and lines == [] and err.startswith("cleverinvo: ")


def test_malformed_id_is_a_usage_error(cli):
    with pytest.raises(SystemExit) as exit_info:
        cli("keys", "create", "not-an-id")
    assert exit_info.value.code == 2


def test_projections_rebuild_reproduces_the_same_read_model(cli, settings):
    account_id = created_account(cli, "--plan", "pro")
    created_key(cli, account_id, "--name", "laptop")
    services = Services(settings)
    try:
        services.execute(lambda: services.app.create_client(UUID(account_id), {"name": "Acme"}))
        before = dump_read_model(services)
        position = services.projector.position()
    finally:
        services.close()
    code, lines, err = cli("projections", "rebuild")
    assert code == 0, err
    assert lines[-1].endswith(str(position))
    services = Services(settings)
    try:
        assert dump_read_model(services) == before
    finally:
        services.close()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CLEVERINVO_MAX_BODY_BYTES", "lots"),
        ("CLEVERINVO_MAX_BODY_BYTES", "0"),
        ("CLEVERINVO_MAX_BODY_BYTES", "²"),
        ("CLEVERINVO_RATE_LIMIT", "lots"),
        ("CLEVERINVO_RATE_LIMIT", "5/fortnight"),
        ("CLEVERINVO_RATE_LIMIT", "0/minute"),
        ("CLEVERINVO_DATABASE_URL", "mysql://localhost/cleverinvo"),
        ("CLEVERINVO_DATABASE_URL", "not a url"),
        ("CLEVERINVO_PDF_CACHE_MAX", "0"),
        ("CLEVERINVO_WORKER_LEASE_SECONDS", "-5"),
        ("CLEVERINVO_WORKER_NICE", "20"),
        ("CLEVERINVO_WORKER_NICE", "-1"),
        ("CLEVERINVO_EMAIL_RETRY_SECONDS", "soon"),
        ("CLEVERINVO_OVERDUE_EVERY_SECONDS", "0"),
        ("CLEVERINVO_SHARE_RATE_LIMIT", "lots"),
        ("CLEVERINVO_PUBLIC_URL", "ftp://example.com"),
        ("CLEVERINVO_PUBLIC_URL", "not a url"),
        ("CLEVERINVO_SMTP_URL", "http://mail.example.com"),
        ("CLEVERINVO_SMTP_URL", "smtp://"),
    ],
)
def test_bad_setting_is_reported_not_raised(cli, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    code, lines, err = cli("accounts", "list")
    assert code == 2 and lines == [] and err.startswith(f"cleverinvo: {name}")


# --- a configured backend whose package is missing (issue 24, item 10) -------------------------


def _without(shims: Path, module: str) -> str:
    """A folder put first on PYTHONPATH in which ``import module`` fails as if it were not
    installed: the child process meets exactly what a host without the extra meets."""
    shims.mkdir(exist_ok=True)
    (shims / f"{module}.py").write_text(f"raise ImportError({f'No module named {module}'!r})\n")
    return str(shims)


@pytest.mark.parametrize(
    ("module", "env", "extra"),
    [
        ("redis", {"CLEVERINVO_REDIS_URL": "redis://127.0.0.1:6379/0"}, "redis"),
        ("psycopg", {"CLEVERINVO_DATABASE_URL": "postgresql://127.0.0.1:5432/test"}, "postgres"),
    ],
)
@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["workers"], ["accounts", "list"]])
def test_a_backend_without_its_package_exits_2_naming_the_extra_before_writing_anything(
    tmp_path: Path, module: str, env: dict[str, str], extra: str, command: list[str]
) -> None:
    data = tmp_path / "data"
    environment = {
        **{name: value for name, value in os.environ.items() if not name.startswith("CLEVERINVO_")},
        "CLEVERINVO_DATA_DIR": str(data),
        "PYTHONPATH": _without(tmp_path / "shims", module),
        **env,
    }
    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli.main", *command],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""  # no key printed: no account was made
    [line] = result.stderr.splitlines()  # one line, no traceback
    assert line.startswith("cleverinvo: ") and f"pip install 'cleverinvo[{extra}]'" in line and module in line
    assert not data.exists()  # nothing written
