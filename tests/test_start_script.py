"""`tools/start`, the README's first command: it must start the worker beside the server (without one an import
waits forever) and stop it when the server stops. Installing into a fresh virtualenv takes minutes, so the
script runs in a copy of the repository whose `.venv` is already "installed" and whose `krug` is a stand-in
that writes down how it was called."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

#: the stand-in `krug`: `worker` runs until it is stopped, `serve` answers for a moment and returns
FAKE_KRUG = """#!/usr/bin/env bash
echo "$1 ${KRUG_DATA}" >> "$KRUG_CALLS"
case "$1" in
  worker) trap 'echo "worker stopped" >> "$KRUG_CALLS"; exit 0' TERM
          while true; do sleep 0.05; done ;;
  serve) echo "serve $*" >> "$KRUG_CALLS"; sleep "${SERVE_FOR:-0.5}" ;;
esac
"""


def _repository(tmp_path: Path) -> Path:
    """A copy of what `tools/start` reads: the script, pyproject.toml and an installed `.venv`."""
    root = tmp_path / "krug"
    (root / "tools").mkdir(parents=True)
    shutil.copy2(REPO / "tools" / "start", root / "tools" / "start")
    shutil.copy2(REPO / "pyproject.toml", root / "pyproject.toml")
    bin_dir = root / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name, text in (("python", "#!/bin/sh\nexit 0\n"), ("krug", FAKE_KRUG)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    digest = hashlib.sha256((root / "pyproject.toml").read_bytes()).hexdigest()
    (root / ".venv" / ".krug-installed").write_text(digest + "\n")
    (root / "data").mkdir()
    return root


def _run(root: Path, *, worker: bool = True, **env: str) -> list[str]:
    calls = root / "calls.log"
    environment = {**os.environ, "KRUG_CALLS": str(calls), "PORT": "8123", **env}
    environment.pop("DATABASE_URL", None)
    environment.pop("KRUG_DATA", None)
    script = subprocess.Popen(["bash", "tools/start"], cwd=root, env=environment, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert script.wait(timeout=60) == 0
        deadline = time.monotonic() + 5  # the stopped worker writes its last line as it goes
        while worker and time.monotonic() < deadline and "worker stopped" not in calls.read_text():
            time.sleep(0.05)
        return calls.read_text().splitlines()
    finally:  # whatever happened, nothing of it outlives the test
        with contextlib.suppress(ProcessLookupError):
            os.killpg(script.pid, signal.SIGKILL)


def test_start_runs_the_demo_a_worker_and_the_server_and_stops_the_worker_with_it(tmp_path):
    root = _repository(tmp_path)
    calls = _run(root)
    data = str(root / "data")
    assert calls[0] == f"demo {data}"
    assert f"worker {data}" in calls
    assert f"serve {data}" in calls
    assert "serve serve --host 127.0.0.1 --port 8123" in calls
    assert calls[-1] == "worker stopped"  # the server stopped, so did the worker
    assert (root / "data" / "worker.log").exists()


def test_start_leaves_the_worker_to_redis_when_tasks_go_there(tmp_path):
    root = _repository(tmp_path)
    calls = _run(root, worker=False, KRUG_TASKS_BACKEND="rq")
    assert [line.split()[0] for line in calls] == ["demo", "serve", "serve"]
