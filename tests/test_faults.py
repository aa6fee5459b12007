"""Faults a user meets: a read-only index (or notes), and another process building the index. `kt` answers from
the index it has with a one-line warning, or fails with one clear line; it never prints a traceback and never
waits more than ~2 s behind another process when an index is in place.

The tests run as root in CI, where `chmod` stops nobody: a folder is made read-only by a read-only bind mount in
a private mount namespace (`unshare --mount`), seen only by the `kt` process under test. As a user other than
root, `chmod` does the same job.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.app.cli import app
from assistant.app.core import Assistant
from assistant.config import BUNDLED_NOTES, Settings

ROOT = Path(__file__).resolve().parents[1]
EDIT = "\n## Zebra clusters\n\nZebra clusters use striped etcd quorum.\n"
ZEBRA = "zebra striped quorum"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, embedder) -> tuple[Path, Path]:  # type: ignore[no-untyped-def]
    """A notes folder and its index, built once for the module (tests copy them before changing anything)."""
    root = tmp_path_factory.mktemp("faults")
    notes, index = root / "notes", root / "index"
    notes.mkdir()
    shutil.copy2(BUNDLED_NOTES / "kubernetes-therapy.md", notes)
    Assistant(Settings((notes,), index), notice=lambda m: None, embedder=embedder).update()
    return notes, index


@pytest.fixture
def copy(tmp_path: Path, built: tuple[Path, Path]) -> tuple[Path, Path]:
    notes, index = tmp_path / "notes", tmp_path / "index"
    shutil.copytree(built[0], notes)
    shutil.copytree(built[1], index)
    return notes, index


def _namespaces_work() -> bool:
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("mount"):
        return False
    probe = Path(os.environ.get("TMPDIR", "/tmp"))
    done = subprocess.run(
        ["unshare", "--mount", "sh", "-c", 'mount --bind -o ro "$0" "$0"', str(probe)], capture_output=True
    )
    return done.returncode == 0


NAMESPACES = _namespaces_work()
read_only_possible = pytest.mark.skipif(
    os.geteuid() == 0 and not NAMESPACES,
    reason="as root, a folder can be made read-only only by a bind mount, and mount namespaces are not allowed here",
)


def kt_read_only(read_only: list[Path], *args: str) -> subprocess.CompletedProcess[str]:
    """Run `kt ARGS` in a subprocess that sees the given folders read-only."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "assistant", *args]
    if os.geteuid() == 0:
        mounts = " && ".join(f'mount --bind -o ro "{p}" "{p}"' for p in read_only)
        command = ["unshare", "--mount", "sh", "-c", f'{mounts} && exec "$@"', "sh", *command]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    modes = {p: p.stat().st_mode for folder in read_only for p in [folder, *folder.rglob("*")]}
    try:
        for p, mode in modes.items():
            p.chmod(mode & ~0o222)
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    finally:
        for p, mode in modes.items():
            p.chmod(mode)


def where(notes: Path, index: Path) -> list[str]:
    return ["--notes", str(notes), "--index", str(index)]


def top_heading(stdout: str) -> str:
    return json.loads(stdout)["passages"][0]["headings"][-1]


@read_only_possible
def test_read_only_index_answers_with_a_one_line_warning(copy: tuple[Path, Path]) -> None:
    notes, index = copy
    with (notes / "kubernetes-therapy.md").open("a") as f:
        f.write(EDIT)  # the index is stale, and cannot be updated
    done = kt_read_only([index], "ask", ZEBRA, "--json", *where(notes, index))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "cannot write to the index" in done.stderr and "answering from the index as it is" in done.stderr
    assert top_heading(done.stdout) != "Zebra clusters"  # the old index: it does not know the edit


@read_only_possible
def test_read_only_notes_and_index_answer_quietly_when_up_to_date(built: tuple[Path, Path]) -> None:
    notes, index = built
    done = kt_read_only(
        [notes.parent],
        "ask",
        "how can I roll a deployment back to its previous version",
        "--json",
        *where(notes, index),
    )
    assert done.returncode == 0 and not done.stderr, done.stderr
    assert json.loads(done.stdout)["snippets"][0]["code"].startswith("kubectl rollout undo")


@read_only_possible
def test_read_only_folder_without_an_index_is_one_clear_error(tmp_path: Path, copy: tuple[Path, Path]) -> None:
    notes, _ = copy
    empty = tmp_path / "no-index"
    empty.mkdir()
    for args in (["ask", "how can I roll a deployment back to its previous version"], ["index"]):
        done = kt_read_only([empty], *args, *where(notes, empty))
        assert done.returncode == 1, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        last = done.stderr.strip().splitlines()[-1]
        assert f"cannot write to the index in {empty}" in last and "Read-only file system" in last, last


@read_only_possible
def test_read_only_damaged_index_is_one_clear_error(copy: tuple[Path, Path]) -> None:
    notes, index = copy
    (index / "CURRENT").write_text("gen-gone\n")
    done = kt_read_only(
        [index], "ask", "how can I roll a deployment back to its previous version", *where(notes, index)
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "cannot be rebuilt here" in done.stderr.strip().splitlines()[-1], done.stderr


HOLDER = """
import json, os, sys, time
from filelock import FileLock
lock = FileLock(os.path.join(sys.argv[1], ".lock"))
lock.acquire()
with open(os.path.join(sys.argv[1], ".lock.json"), "w") as f:
    json.dump({"pid": os.getpid(), "since": time.time()}, f)
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
lock.release()
print("released", flush=True)
"""


def hold_lock(index: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process holding the index's build lock, as a running `kt index` would."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(index), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


def timed_ask(notes: Path, index: Path, question: str) -> tuple[float, object]:
    started = time.monotonic()
    result = CliRunner().invoke(app, ["ask", question, "--json", *where(notes, index)])
    return time.monotonic() - started, result


def test_ask_waits_at_most_two_seconds_behind_another_build(copy: tuple[Path, Path]) -> None:
    notes, index = copy
    timed_ask(notes, index, ZEBRA)  # the copy's first question records the notes' new place in the index
    with (notes / "kubernetes-therapy.md").open("a") as f:
        f.write(EDIT)
    holder = hold_lock(index, 60)
    try:
        _, result = timed_ask(notes, index, ZEBRA)
        assert holder.poll() is None  # still building when the answer came
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "answering from the current index" in result.stderr  # type: ignore[attr-defined]
    assert top_heading(result.stdout) != "Zebra clusters"  # type: ignore[attr-defined]
    # Order, not a timing window: it answered while the other build still held the lock (60 s), and says so.


def test_ask_takes_the_lock_when_another_build_ends_within_the_wait(copy: tuple[Path, Path]) -> None:
    notes, index = copy
    with (notes / "kubernetes-therapy.md").open("a") as f:
        f.write(EDIT)
    holder = hold_lock(index, 0.5)
    try:
        _, result = timed_ask(notes, index, ZEBRA)
    finally:
        holder.wait(timeout=30)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "answering from the current index" not in result.stderr  # type: ignore[attr-defined]
    assert "index updated: 1 changed" in result.stderr  # type: ignore[attr-defined]
    assert top_heading(result.stdout) == "Zebra clusters"  # type: ignore[attr-defined]
