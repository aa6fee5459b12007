"""`kt watch`: an edit to a note is indexed without asking, editor litter is ignored, a failing update is
reported and the watch goes on. A deterministic embedder stands in for the model: this tests plumbing."""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from assistant.app.core import Assistant
from assistant.app.watch import is_note_path, watch_notes
from assistant.config import Settings
from assistant.index.build import UpdateReport
from assistant.index.generation import Counts, Manifest

# Every note here has a snippet: an index with no snippets at all cannot be built yet (bm25s refuses an
# empty corpus), which is the store's concern, not the watcher's.
POD_NOTE = "# Pods\n\nA pod runs containers.\n\n```bash\nkubectl get pods\n```\n"


class BagOfWordsEmbedder:
    """Hashed bag of words: texts sharing words get similar vectors, always the same ones."""

    model_id = "test/bag-of-words"
    dim = 384

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[row, int(hashlib.blake2b(word.encode(), digest_size=4).hexdigest(), 16) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)


def quiet_assistant(notes: Path, index: Path) -> Assistant:
    return Assistant(Settings((notes,), index), notice=lambda m: None, embedder=BagOfWordsEmbedder())


class Lines:
    """A thread-safe echo that a test can wait on."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, line: str) -> None:
        with self._lock:
            self.lines.append(line)

    def wait_for(self, pattern: str, timeout: float = 10.0, poke: Callable[[int], None] | None = None) -> str:
        """The first line matching pattern; `poke(n)` is called about every second meanwhile (an edit that
        lands before the watcher is listening would otherwise be missed)."""
        deadline, n, next_poke = time.monotonic() + timeout, 0, 0.0
        while time.monotonic() < deadline:
            with self._lock:
                found = next((ln for ln in self.lines if re.search(pattern, ln)), None)
            if found:
                return found
            if poke and time.monotonic() >= next_poke:
                poke(n)
                n, next_poke = n + 1, time.monotonic() + 1.0
            time.sleep(0.05)
        raise AssertionError(f"no line matching {pattern!r} in {self.lines}")


@pytest.fixture
def watching():  # type: ignore[no-untyped-def]
    """Start watch_notes in a thread; stop and join it at the end of the test."""
    started: list[tuple[threading.Thread, threading.Event]] = []

    def start(assistant: object, echo: Lines) -> None:
        stop = threading.Event()
        thread = threading.Thread(
            target=watch_notes,
            args=(assistant,),
            kwargs={"debounce_ms": 100, "echo": echo, "stop_event": stop},
            daemon=True,
        )
        thread.start()
        started.append((thread, stop))

    yield start
    for thread, stop in started:
        stop.set()
        thread.join(timeout=10)
        assert not thread.is_alive(), "watch_notes did not stop when asked"


def watch_one_note(tmp_path: Path, watching, name: str):  # type: ignore[no-untyped-def]
    """A notes folder holding one note, an assistant over it, and a running watch: (notes, assistant, echo)."""
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / name).write_text(POD_NOTE)
    assistant = quiet_assistant(notes, tmp_path / "index")
    echo = Lines()
    watching(assistant, echo)
    return notes, assistant, echo


def test_edited_note_is_indexed_and_answerable(tmp_path: Path, watching) -> None:  # type: ignore[no-untyped-def]
    notes, assistant, echo = watch_one_note(tmp_path, watching, "pods.md")
    assert echo.wait_for(r"^\d\d:\d\d:\d\d index up to date: 1 file, \d+ chunks$") == echo.lines[1]

    def edit(n: int) -> None:
        (notes / "pods.md").write_text(f"{POD_NOTE}\n## Zanzibar\n\nThe zanzibar sidecar rotates logs ({n}).\n")

    line = echo.wait_for(r"changed", poke=edit)
    assert re.fullmatch(r"\d\d:\d\d:\d\d pods\.md changed: [1-9][\d,]* chunks? embedded \(\d+\.\d s\)", line)

    answer = assistant.ask("zanzibar sidecar")
    assert "zanzibar" in answer.passages[0].chunk.text


def test_new_and_deleted_notes_are_reported(tmp_path: Path, watching) -> None:  # type: ignore[no-untyped-def]
    notes, _, echo = watch_one_note(tmp_path, watching, "a.md")
    echo.wait_for("index up to date")
    echo.wait_for(r" b\.yaml added: ", poke=lambda n: (notes / "b.yaml").write_text(f"kind: Pod\n# {n}\n"))
    echo.wait_for(r" a\.md removed: 0 chunks embedded", poke=lambda n: (notes / "a.md").unlink(missing_ok=True))


class FlakyAssistant:
    """Fails its second update: the watch must say so and keep going."""

    def __init__(self, folder: Path) -> None:
        self.folders = [folder]
        self.settings = Settings((folder,), folder / "index")
        self.calls = 0
        self.store = self

    def manifest(self) -> Manifest:
        return Manifest(counts=Counts(files=1))

    def update(self, wait: bool = True) -> UpdateReport:
        self.calls += 1
        if self.calls == 2:
            raise RuntimeError("disk full")
        return UpdateReport(changed=["a.md"] if self.calls > 1 else [], chunks=3, embedded=2, seconds=0.4)


def test_failed_update_is_reported_and_the_watch_goes_on(tmp_path: Path, watching) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "a.md").write_text("x\n")
    assistant = FlakyAssistant(tmp_path)
    echo = Lines()
    watching(assistant, echo)
    assert echo.wait_for("index up to date").endswith(" index up to date: 1 file, 3 chunks")

    def edit(n: int) -> None:
        (tmp_path / "a.md").write_text(f"x {n}\n")

    assert echo.wait_for("update failed", poke=edit).endswith("update failed: RuntimeError: disk full")
    assert echo.wait_for("changed", poke=edit).endswith(" a.md changed: 2 chunks embedded (0.4 s)")


def test_editor_litter_does_not_trigger_an_update(tmp_path: Path, watching) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "a.md").write_text("x\n")
    assistant = FlakyAssistant(tmp_path)
    echo = Lines()
    watching(assistant, echo)
    echo.wait_for("index up to date")
    time.sleep(0.5)  # let the watcher start listening
    for name in (".a.md.swp", "a.md~", ".#a.md", "a.png", "4913"):
        (tmp_path / name).write_text("junk\n")
    time.sleep(1.0)
    assert assistant.calls == 1
    # and the watcher was listening all along: a real edit is noticed
    echo.wait_for("update failed", poke=lambda n: (tmp_path / "a.md").write_text(f"x {n}\n"))


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("pods.md", True),
        ("deep/dir/notes.markdown", True),
        ("deploy.YAML", True),
        ("todo.txt", True),
        (".pods.md.swp", False),
        ("pods.md.swp", False),
        ("pods.md~", False),
        (".#pods.md", False),
        ("#pods.md#", False),
        ("image.png", False),
        (".git/notes.md", False),
        ("node_modules/pkg/readme.md", False),
        (".obsidian/workspace.md", False),
    ],
)
def test_only_note_files_count_as_changes(path: str, expected: bool) -> None:
    assert is_note_path(path) is expected


def test_the_watch_says_what_it_watches(tmp_path: Path, watching) -> None:  # type: ignore[no-untyped-def]
    notes, assistant, echo = watch_one_note(tmp_path, watching, "pods.md")
    echo.wait_for("index up to date")
    assert echo.lines[0] == (
        f"watching {notes} (.md, .markdown, .txt, .yaml, .yml files) for the index in {tmp_path / 'index'}"
    )


def test_a_single_note_file_is_watched(tmp_path: Path, watching) -> None:  # type: ignore[no-untyped-def]
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "pods.md").write_text(POD_NOTE)
    (notes / "other.md").write_text(POD_NOTE)
    assistant = Assistant(
        Settings((notes / "pods.md",), tmp_path / "index"), notice=lambda m: None, embedder=BagOfWordsEmbedder()
    )
    echo = Lines()
    watching(assistant, echo)
    assert echo.wait_for("index up to date").endswith("index up to date: 1 file, 1 chunks")
    assert echo.lines[0].startswith(f"watching {notes / 'pods.md'} (")
    time.sleep(0.5)
    (notes / "other.md").write_text(POD_NOTE + "\nnot watched\n")  # a neighbour: no update
    echo.wait_for(r"pods\.md changed", poke=lambda n: (notes / "pods.md").write_text(f"{POD_NOTE}\nedit {n}\n"))
    assert not any("other.md" in ln for ln in echo.lines)


def test_kt_watch_in_a_terminal_keeps_its_lines_and_no_progress_bar(tmp_path: Path, onnx_model: Path) -> None:
    """`kt watch` in a pseudo-terminal (100×40, pyte as the screen): the first build shows a progress bar, which
    is gone afterwards; every update line stays on the screen."""
    import os
    import shutil
    import sys

    pexpect = pytest.importorskip("pexpect")
    pyte = pytest.importorskip("pyte")
    from assistant.config import BUNDLED_NOTES

    notes = tmp_path / "notes"
    notes.mkdir()
    shutil.copy(BUNDLED_NOTES / "kubernetes-therapy.md", notes / "k8s.md")  # ~80 texts: a bar appears
    (notes / "pods.md").write_text(POD_NOTE)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "TERM": "xterm-256color"}
    screen = pyte.Screen(100, 40)
    stream = pyte.ByteStream(screen)
    child = pexpect.spawn(
        sys.executable,
        ["-m", "assistant", "watch", "--debounce", "100", "--notes", str(notes), "--index", str(tmp_path / "idx")],
        env=env,
        dimensions=(40, 100),
    )
    seen_bar = False

    def screen_until(pattern: str, timeout: float = 60.0, poke: Callable[[int], None] | None = None) -> str:
        nonlocal seen_bar
        deadline, n, next_poke = time.monotonic() + timeout, 0, time.monotonic() + 1.0
        while time.monotonic() < deadline:
            try:
                stream.feed(child.read_nonblocking(65536, timeout=0.2))
            except pexpect.TIMEOUT:
                pass
            text = "\n".join(line.rstrip() for line in screen.display)
            seen_bar = seen_bar or "chunks" in text and "/" in text and "index up to date" not in text
            if re.search(pattern, text):
                return text
            if poke and time.monotonic() >= next_poke:
                poke(n)
                n, next_poke = n + 1, time.monotonic() + 1.0
        raise AssertionError(f"{pattern!r} never on screen:\n" + "\n".join(screen.display))

    def screen_after_idle() -> str:
        """The screen after a second of idleness, with whatever was drawn in it."""
        time.sleep(1.0)
        try:
            stream.feed(child.read_nonblocking(65536, timeout=0.5))
        except pexpect.TIMEOUT:
            pass
        return "\n".join(line.rstrip() for line in screen.display)

    try:
        screen_until(r"index up to date: 2 files")
        assert seen_bar, "the first build showed no progress bar (the test would prove nothing)"
        first = lambda n: (notes / "pods.md").write_text(f"{POD_NOTE}\nfirst edit {n}\n")  # noqa: E731
        screen_until(r"pods\.md changed", poke=first)
        second = lambda n: (notes / "k8s.md").write_text(f"# Only this\n\nsecond edit {n}\n")  # noqa: E731
        text = screen_until(r"k8s\.md changed", poke=second)
        text = screen_after_idle()  # idle: nothing may redraw
    finally:
        child.terminate(force=True)
    lines = [ln for ln in text.splitlines() if ln]
    assert lines[0].startswith(f"watching {notes} (")
    assert re.search(r"^\d\d:\d\d:\d\d index up to date: 2 files, \d+ chunks$", text, re.M)
    assert re.search(r"^\d\d:\d\d:\d\d pods\.md changed: [\d,]+ chunks? embedded", text, re.M)
    assert re.search(r"^\d\d:\d\d:\d\d k8s\.md changed: [\d,]+ chunks? embedded", text, re.M)
    assert "reading notes" not in text and "━" not in text, text  # no progress bar left behind

    # Again, on the index now up to date: the first update changes nothing, and leaves no bar either.
    screen.reset()
    child = pexpect.spawn(sys.executable, child.args[1:], env=env, dimensions=(40, 100))
    try:
        text = screen_until(r"index up to date: 2 files")
        text = screen_after_idle()
    finally:
        child.terminate(force=True)
    assert "reading notes" not in text and "━" not in text, text
