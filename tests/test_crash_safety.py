"""A build killed at any moment leaves the index it started from, complete and usable, and no lock behind it;
two builders take turns.

Real `kt index` processes (the real ONNX model from the session's KT_HOME) are killed with SIGKILL at seeded
random moments of a build: half anywhere in it, half while it writes the new generation, the critical part.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from assistant.app.cli import app
from assistant.app.core import Assistant
from assistant.config import BUNDLED_NOTES, PROJECT_ROOT, Settings
from assistant.index.build import update_index
from assistant.index.generation import Manifest, read_faiss_vectors
from assistant.index.store import IndexBusy, IndexStore
from assistant.records import Chunk

SEED = BUNDLED_NOTES / "kubernetes-therapy.md"
KILLS = 20
Popen = subprocess.Popen[bytes]
WORDS = "pod node service ingress volume secret deployment replica scheduler kubelet etcd taint quota".split()


def extra_note(rng: random.Random, marker: str) -> str:
    """A small note whose every version has a unique word, so a query can tell which version is indexed."""
    parts = [f"# Runbook {marker}\n"]
    for s in range(3):
        parts.append(f"\n## Step {s}\n\n{' '.join(rng.choices(WORDS, k=25))} {marker}s{s}.\n")
        command = f"kubectl get {rng.choice(WORDS)} -l run={marker}"
        parts.append(f"\n```bash\n# check the {rng.choice(WORDS)}\n{command}\n```\n")
    return "".join(parts)


@pytest.fixture(scope="module")
def built_library(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:  # type: ignore[no-untyped-def]
    """Notes (the seed plus a few runbooks) and their index, built once in-process."""
    root = tmp_path_factory.mktemp("library")
    notes, index = root / "notes", root / "index"
    notes.mkdir()
    (notes / SEED.name).write_bytes(SEED.read_bytes())
    rng = random.Random(0)
    for n in range(4):
        (notes / f"runbook-{n}.md").write_text(extra_note(rng, f"v0n{n}"))
    Assistant(Settings((notes,), index), notice=lambda m: None, embedder=embedder).update()
    return root


@pytest.fixture
def library(tmp_path: Path, built_library: Path, embedder) -> tuple[Path, Path]:  # type: ignore[no-untyped-def]
    """A private copy of the library; updating it for its new place reuses every vector."""
    notes, index = tmp_path / "notes", tmp_path / "index"
    shutil.copytree(built_library / "notes", notes)  # copy2: same mtimes, so no note looks edited
    shutil.copytree(built_library / "index", index)
    report = Assistant(Settings((notes,), index), notice=lambda m: None, embedder=embedder).update()
    assert report.embedded == 0
    return notes, index


@pytest.fixture
def kt_env(onnx_model: Path) -> dict[str, str]:
    """The environment of a `kt` subprocess: KT_HOME is the session's, where the ONNX export already is."""
    return dict(os.environ)


@pytest.fixture
def started() -> Iterator[list[Popen]]:
    """Every process a test starts; any left running are killed (by pid) at the end."""
    procs: list[Popen] = []
    yield procs
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()


def start_index(notes: Path, index: Path, env: dict[str, str], stderr: Path, *extra: str) -> Popen:
    cmd = [sys.executable, "-m", "assistant", "index", *extra, "--notes", str(notes), "--index", str(index)]
    with stderr.open("wb") as err:
        return subprocess.Popen(cmd, env=env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=err)


def assert_complete(index: Path) -> Manifest:
    """The live generation is whole: every checksum verifies and every file holds the manifest's counts."""
    import faiss

    store = IndexStore(index)
    manifest = store.manifest(verify=True)
    gen = store.current()
    counts = manifest.counts
    with (gen / "chunks.jsonl").open("rb") as f:
        assert sum(1 for _ in f) == counts.chunks
    with (gen / "snippets.jsonl").open("rb") as f:
        assert sum(1 for _ in f) == counts.snippets
    assert len(np.load(gen / "chunk_offsets.npy")) == counts.chunks + 1
    assert len(np.load(gen / "snippet_offsets.npy")) == counts.snippets + 1
    assert faiss.read_index(str(gen / "chunks.faiss")).ntotal == counts.chunks
    assert faiss.read_index(str(gen / "snippets.faiss")).ntotal == counts.snippets
    return manifest


def assert_lock_free(index: Path) -> None:
    IndexStore(index).lock(wait=False).release()  # IndexBusy if a dead builder still held it


def ask(question: str, notes: Path, index: Path) -> dict[str, Any]:
    args = ["ask", question, "--json", "--notes", str(notes), "--index", str(index)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0 and result.exception is None, result.output
    assert "Traceback" not in result.output
    return json.loads(result.stdout)


@pytest.fixture
def shared_model(monkeypatch: pytest.MonkeyPatch, embedder) -> None:  # type: ignore[no-untyped-def]
    """In-process `kt ask` uses the session's ONNX session instead of loading the same file again."""
    monkeypatch.setattr("assistant.index.embed.OnnxEmbedder", lambda *a, **k: embedder)


def calibrate(notes: Path, index: Path, env: dict[str, str], tmp: Path) -> tuple[float, float, float]:
    """Seconds until a build (of an edit to one note) starts writing its generation, switches CURRENT to it,
    and exits."""
    (notes / "runbook-0.md").write_text(extra_note(random.Random(99), "calibration"))
    live = (index / "CURRENT").read_text()
    begin = time.perf_counter()
    proc = start_index(notes, index, env, tmp / "calibration.err")
    writing = switched = None
    while proc.poll() is None:
        now = time.perf_counter() - begin
        if writing is None and any(index.glob(".tmp-gen-*")):
            writing = now
        if switched is None and (index / "CURRENT").read_text() != live:
            switched = now
        time.sleep(0.002)
    total = time.perf_counter() - begin
    assert proc.returncode == 0, (tmp / "calibration.err").read_text()
    writing = writing or total * 0.6
    return writing, max(switched or total, writing), total


def test_sigkill_at_random_moments_never_breaks_the_index(
    tmp_path: Path,
    library: tuple[Path, Path],
    kt_env: dict[str, str],
    shared_model: None,
    started: list[Popen],
) -> None:
    notes, index = library
    writing, switched, total = calibrate(notes, index, kt_env, tmp_path)
    rng = random.Random(20240611)
    outcomes: Counter[str] = Counter()
    for k in range(KILLS):
        # An edit, sometimes a new note or a deleted one: each build has real work to do.
        n = rng.randrange(4)
        marker = f"k{k}n{n}"
        (notes / f"runbook-{n}.md").write_text(extra_note(rng, marker))
        if k % 5 == 2:
            (notes / f"added-{k}.md").write_text(extra_note(rng, f"added{k}"))
        if k % 7 == 3 and (gone := sorted(notes.glob("added-*.md"))):
            gone[0].unlink()
        live_before = (index / "CURRENT").read_text()

        proc = start_index(notes, index, kt_env, tmp_path / f"kill-{k}.err")
        started.append(proc)
        delay = rng.uniform(0, total) if k % 2 else rng.uniform(writing, switched + 0.05)
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        if proc.returncode != -signal.SIGKILL:
            outcomes["finished before the kill"] += 1
        elif (index / "CURRENT").read_text() != live_before:
            outcomes["killed after switching"] += 1
        elif any(index.glob(".tmp-gen-*")) or len(list(index.glob("gen-*"))) > 2:
            outcomes["killed while writing"] += 1
        else:
            outcomes["killed before writing"] += 1

        # Straight after the kill: the live index is the old one or the new one, whole either way.
        assert_complete(index)
        assert_lock_free(index)
        # A question brings the index up to date (the edit the killed build missed) and is answered from it.
        answer = ask(f"kubectl get run={marker}", notes, index)
        assert any(p["path"] == f"runbook-{n}.md" and marker in p["text"] for p in answer["passages"]), answer
        manifest = assert_complete(index)
        assert set(manifest.files) == {p.name for p in notes.glob("*.md")}

    print(f"\nbuild: writes at {writing:.2f} s, switches at {switched:.2f} s, ends at {total:.2f} s")
    print(dict(outcomes))
    assert outcomes["killed while writing"] + outcomes["killed before writing"] >= KILLS // 3, outcomes

    # A last, undisturbed build cleans up after the killed ones.
    (notes / "runbook-0.md").write_text(extra_note(rng, "final"))
    proc = start_index(notes, index, kt_env, tmp_path / "final.err")
    started.append(proc)
    assert proc.wait(timeout=120) == 0
    assert "waiting" not in (tmp_path / "final.err").read_text()
    assert_complete(index)
    assert not list(index.glob(".tmp-gen-*")) and not list(index.glob(".CURRENT.*"))
    assert len(list(index.glob("gen-*"))) <= 2  # the live generation and the one before it


def wait_for_lock_holder(index: Path, proc: Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if json.loads((index / ".lock.json").read_text())["pid"] == proc.pid:
                return
        except (OSError, ValueError, KeyError):
            pass
        assert proc.poll() is None, "the builder ended before it was seen holding the lock"
        time.sleep(0.01)
    raise AssertionError("the builder never took the lock")


def test_a_killed_builder_leaves_no_lock_behind(
    tmp_path: Path, library: tuple[Path, Path], kt_env: dict[str, str], started: list[Popen]
) -> None:
    from filelock import FileLock, UnixFileLock

    assert FileLock is UnixFileLock  # flock(2): the kernel drops it when its process dies
    notes, index = library
    proc = start_index(notes, index, kt_env, tmp_path / "killed.err", "--rebuild")
    started.append(proc)
    wait_for_lock_holder(index, proc)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    assert (index / ".lock").exists()  # the file stays; the flock on it died with the process
    assert_lock_free(index)

    began = time.perf_counter()
    proc = start_index(notes, index, kt_env, tmp_path / "next.err")
    started.append(proc)
    assert proc.wait(timeout=120) == 0
    assert "waiting" not in (tmp_path / "next.err").read_text()
    assert time.perf_counter() - began < 60
    assert_complete(index)


def test_concurrent_builders_take_turns(
    tmp_path: Path, library: tuple[Path, Path], kt_env: dict[str, str], embedder, started: list[Popen]
) -> None:  # type: ignore[no-untyped-def]
    notes, index = library
    first = start_index(notes, index, kt_env, tmp_path / "first.err", "--rebuild")  # seconds of embedding
    started.append(first)
    wait_for_lock_holder(index, first)

    # Without waiting: a clear IndexBusy naming the builder, and nothing written.
    store = IndexStore(index)
    live = store.current()
    with pytest.raises(IndexBusy) as busy:
        update_index(store, [notes], embedder, wait=False)
    assert f"pid {first.pid}" in str(busy.value)
    assert store.current() == live

    # Waiting: the second builder says so on stderr, then runs once the first is done.
    second = start_index(notes, index, kt_env, tmp_path / "second.err")
    started.append(second)
    deadline = time.monotonic() + 60
    while "waiting for another kt" not in (tmp_path / "second.err").read_text():
        assert time.monotonic() < deadline and second.poll() is None, (tmp_path / "second.err").read_text()
        time.sleep(0.02)
    assert f"pid {first.pid}" in (tmp_path / "second.err").read_text()
    assert first.wait(timeout=120) == 0
    assert second.wait(timeout=120) == 0
    assert_complete(index)


def test_a_killed_long_build_keeps_what_it_embedded(
    tmp_path: Path, kt_env: dict[str, str], embedder, started: list[Popen]
) -> None:  # type: ignore[no-untyped-def]
    """Minutes of embedding are not thrown away by a crash: the next build embeds only what was left."""
    notes, index = tmp_path / "notes", tmp_path / "index"
    notes.mkdir()
    rng = random.Random(7)
    sections = [f"## Topic {i}\n\n{' '.join(rng.choices(WORDS, k=60))} topic{i}.\n" for i in range(250)]
    (notes / "big.md").write_text("# Big runbook\n\n" + "\n".join(sections))
    proc = start_index(notes, index, kt_env, tmp_path / "killed.err")
    started.append(proc)
    journal = index / "journal.bin"
    deadline = time.monotonic() + 120
    while not (journal.exists() and journal.stat().st_size > 2 * 64 * 1552):  # two batches of 64 vectors
        assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "killed.err").read_text()
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (index / "CURRENT").exists()  # killed before it could write anything else

    with journal.open("ab") as f:
        f.write(b"torn record")  # as if killed in the middle of a write
    notices: list[str] = []
    report = Assistant(Settings((notes,), index), notice=notices.append, embedder=embedder).update()
    total = report.chunks + report.snippets
    assert report.embedded <= total - 2 * 64, (report.embedded, total)
    assert any("interrupted build" in n for n in notices), notices
    assert not journal.exists()
    assert_complete(index)

    # The kept vectors are the model's vectors of those texts.
    gen = IndexStore(index).current()
    texts = [Chunk.from_record(json.loads(line), ()).embed_text for line in (gen / "chunks.jsonl").open("rb")]
    stored = np.asarray(read_faiss_vectors(gen / "chunks.faiss"))
    assert np.allclose(stored, embedder.embed(texts), atol=1e-5)
