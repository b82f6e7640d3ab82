"""The `krug` command, as an operator uses it: add a user and get a working token, be told clearly what is
wrong with bad input (exit code 2, nothing written), load the demo once, and serve the site."""

import functools
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from krug.accounts.models import ApiToken, Team, User
from krug.cli import main

PASSWORD = "a-long-pass-2026"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_version_names_the_package(capsys):
    code, out, _err = run(capsys, "--version")
    assert code == 0 and out.startswith("krug 0.")


def test_user_add_prints_a_token_last_and_the_token_opens_the_api(capsys, client, org):
    code, out, err = run(capsys, "user", "add", "novikov", "--role", "manager", "--team", "Продажи Москва",
                         "--password", PASSWORD, "--first-name", "Никита", "--last-name", "Новиков",
                         "--email", "novikov@example.com")
    assert code == 0, err
    token = out.strip().splitlines()[-1]
    assert token.startswith("krug_") and " " not in token
    user = User.objects.get(username="novikov")
    assert (user.role, user.team, user.get_full_name(), user.email) == (
        "manager", org.team, "Никита Новиков", "novikov@example.com")
    assert user.check_password(PASSWORD)
    r = client.get("/api/v1/users/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.status_code == 200 and r.json()["username"] == "novikov"


def test_a_head_added_with_a_new_team_leads_it(capsys, db):
    code, out, _err = run(capsys, "user", "add", "ural", "--role", "head", "--team", "Продажи Урал")
    assert code == 0
    team = Team.objects.get(name="Продажи Урал")
    assert team.head.username == "ural"
    assert "No password set" in out, "without --password the operator is told how the user gets in"


def test_user_add_rejects_an_unknown_role_with_exit_2_and_writes_nothing(capsys, db):
    code, out, err = run(capsys, "user", "add", "boss", "--role", "king", "--team", "Новая команда")
    assert code == 2
    assert "--role" in err and "king" in err
    assert "krug_" not in out
    assert not User.objects.exists() and not Team.objects.exists()


@pytest.mark.parametrize(("argv", "problem"), [
    (["user", "add", "manager", "--role", "manager", "--team", "Новая команда"], "username: already taken"),
    (["user", "add", "weak", "--role", "manager", "--team", "Новая команда", "--password", "123"], "password:"),
    (["user", "add", "lonely", "--role", "head"], "--team"),
])
def test_bad_input_names_the_problem_and_leaves_no_team_behind(capsys, org, argv, problem):
    users, teams, tokens = User.objects.count(), Team.objects.count(), ApiToken.objects.count()
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert problem in err and err.startswith("krug: error:")
    assert out == ""
    assert (User.objects.count(), Team.objects.count(), ApiToken.objects.count()) == (users, teams, tokens)


def test_user_token_gives_a_second_working_token(capsys, client, org):
    code, out, _err = run(capsys, "user", "token", "colleague")
    assert code == 0
    token = out.strip().splitlines()[-1]
    r = client.get("/api/v1/users/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.json()["username"] == "colleague"
    assert run(capsys, "user", "token", "nobody")[0] == 2


def test_the_worker_refuses_to_start_when_jobs_do_not_go_through_the_database(capsys, db, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    code, _out, err = run(capsys, "worker")
    assert code == 2 and "KRUG_TASKS_BACKEND" in err


def test_manage_passes_through_to_django(capsys, db):
    code, out, _err = run(capsys, "manage", "check")
    assert code == 0 and "no issues" in out


def test_demo_loads_once_and_prints_the_logins(capsys, db, monkeypatch):
    from krug import demo

    # the real services with a smaller base, so the test stays quick
    monkeypatch.setattr(demo, "load_demo", functools.partial(demo.load_demo, companies=8, contacts=12, deals=6,
                                                             leads=3))
    code, out, err = run(capsys, "demo", "--seed", "7")
    assert code == 0, err
    lines = out.splitlines()
    header = lines.index(next(line for line in lines if line.split() == ["username", "password", "role"]))
    table = [line.split() for line in lines[header + 2:]]
    assert table[0] == ["admin", demo.DEMO_PASSWORD, "admin"]
    assert {row[0] for row in table} == set(User.objects.values_list("username", flat=True))
    users = User.objects.count()
    from krug.sales.models import Deal

    assert Deal.objects.count() == 6

    code, out, _err = run(capsys, "demo")
    assert code == 0 and "already loaded" in out
    assert User.objects.count() == users


# --- the real server, in a subprocess on a fresh data folder ----------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def fresh_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KRUG_", "DATABASE_URL", "DJANGO_"))}
    env["KRUG_DATA"] = str(tmp_path / "data")  # never the developer's database, never PostgreSQL
    return env


def test_krug_serve_migrates_a_fresh_data_folder_and_serves_the_login_page(fresh_env, tmp_path):
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "krug.cli", "serve", "--port", str(port), "--threads", "2"],
                            env=fresh_env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    try:
        page, deadline = None, time.monotonic() + 15
        while page is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2) as response:
                    page = response.read().decode()
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        assert page is not None, "krug serve did not answer within 15 s"
        assert "csrfmiddlewaretoken" in page and "krug.css" in page
        assert (tmp_path / "data" / "krug.sqlite3").exists()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            output, _ = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            output, _ = proc.communicate()
    assert f"Krug is running at http://127.0.0.1:{port}/" in output
