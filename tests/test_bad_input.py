"""Odd files in a notes folder are skipped with a named reason, never a crash or a hang; the good notes beside
them are indexed; text from notes never drives the terminal; nothing is stored with pickle."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from assistant.app.cli import app
from assistant.config import PROJECT_ROOT, resolve
from assistant.ingest.chunks import chunk_file

GOOD = "# Good note\n\nThe zanzibarquux controller reconciles gateways every minute.\n"
DEEP = "# Deep note\n\nThe quokkaflange operator lives in a folder with a symlink loop.\n"
DATED = "---\ntitle: Dated\ndate: 2024-13-45\n---\n\n# Dated note\n\nThe brontoquill job has no real date.\n"
ESCAPES = (
    "# Title \x1b]0;pwned\x07 heading\n\n"
    "Colour \x1b[31mred\x1b[0m and a clipboard write \x1b]52;c;ZXZpbA==\x07 in the xylophonic section.\n\n"
    "```bash\n# xylophonic label \x1b]0;pwned\x07\nkubectl get pods \x1b]52;c;ZXZpbA==\x07\n\n"
    "# second group \x1b[2J\nkubectl logs xylophonic\n```\n"
)


@pytest.fixture
def shared_model(monkeypatch: pytest.MonkeyPatch, embedder) -> None:  # type: ignore[no-untyped-def]
    """In-process `kt` uses the session's ONNX session instead of loading the same file again."""
    monkeypatch.setattr("assistant.index.embed.OnnxEmbedder", lambda *a, **k: embedder)


def kt_index(notes: Path, index: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """`kt index` as a user runs it, in its own process: a note that blocks reads fails the test, no hang."""
    return subprocess.run(
        [sys.executable, "-m", "assistant", "index", "--notes", str(notes), "--index", str(index)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=os.environ.copy(),
    )


def ask(question: str, notes: Path, index: Path | None, *extra: str) -> Any:
    where = ["--index", str(index)] if index else []
    result = CliRunner().invoke(app, ["ask", question, *extra, "--notes", str(notes), *where])
    assert result.exit_code == 0 and result.exception is None, result.output
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def messy_notes(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A notes folder with good notes among every kind of bad file; and what each bad one is skipped for."""
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "good.md").write_text(GOOD)
    (notes / "sub").mkdir()
    (notes / "sub" / "deep.md").write_text(DEEP)
    (notes / "sub" / "up").symlink_to("..", target_is_directory=True)  # a loop: notes/sub/up/sub/up/…
    (notes / "sub" / "self").symlink_to(".", target_is_directory=True)
    (notes / "empty.md").write_bytes(b"")
    (notes / "dated.md").write_text(DATED)  # front matter YAML that fails to load: ignored, the note is kept
    (notes / "binary.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    (notes / "latin1.md").write_bytes("# Café\n\nCrème brûlée\n".encode("latin-1"))
    with (notes / "huge.md").open("wb") as f:
        f.truncate(20 * 1024 * 1024)  # 20 MB (sparse: the size is all that is needed)
    (notes / "dangling.md").symlink_to(notes / "nowhere.md")
    (notes / "zero.md").symlink_to("/dev/zero")  # reading it never ends; it leads outside the notes: skipped
    os.mkfifo(notes / "pipe.md")  # opening it waits for a writer
    (notes / "folder.md").mkdir()  # a folder named like a note is walked, not read
    (notes / "folder.md" / "inside.md").write_text("# Inside\n\nA note in a folder called folder.md.\n")
    (notes / "evil\x1b]0;pwned\x07.md").write_text("# Evil name\n")
    (notes / os.fsdecode(b"caf\xe9.md")).write_text("# Not UTF-8 name\n")
    reasons = {
        "binary.md": "looks binary",
        "latin1.md": "not UTF-8, read as Windows-1252",  # read, not skipped
        "huge.md": "too large",
        "dangling.md": "cannot be read (No such file or directory)",
        "pipe.md": "not a regular file",
        "sub/up": "already visited (symlink loop?)",
        "sub/self": "already visited (symlink loop?)",
        "evil\\x1b]0;pwned\\x07.md": "control characters",
        "caf\\xe9.md": "not UTF-8",
    }
    if os.geteuid() != 0:  # root reads anything, so an unreadable file can only be made as another user
        locked = notes / "locked.md"
        locked.write_text("# Locked\n")
        locked.chmod(0)
        reasons["locked.md"] = "cannot be read (Permission denied)"
    return notes, reasons


def test_bad_files_are_skipped_with_a_reason_and_good_ones_indexed(
    tmp_path: Path, messy_notes: tuple[Path, dict[str, str]], onnx_model: Path, shared_model: None
) -> None:
    notes, reasons = messy_notes
    index = tmp_path / "index"
    headings = notes / "headings.md"
    headings.write_text("".join(f"# h{i}\n" for i in range(10_000)))

    began = time.perf_counter()
    result = kt_index(notes, index)
    seconds = time.perf_counter() - began
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "\x1b" not in result.stderr and "\x07" not in result.stderr
    warnings = result.stderr.splitlines()
    for name, reason in reasons.items():
        assert any(name in w and reason in w for w in warnings), f"{name} ({reason}) not in:\n{result.stderr}"
    assert seconds < 120, f"indexing took {seconds:.1f} s"

    manifest = json.loads((index / (index / "CURRENT").read_text().strip() / "manifest.json").read_text())
    indexed = ["dated.md", "empty.md", "folder.md/inside.md", "good.md", "headings.md", "latin1.md", "sub/deep.md"]
    assert sorted(manifest["files"]) == indexed
    assert set(manifest["skipped"]) == {"binary.md", "huge.md", "zero.md"}  # read and refused, or a link out
    assert sum("latin1.md" in w for w in warnings) == 1  # one line names it

    found = {"zanzibarquux": "good.md", "quokkaflange": "sub/deep.md", "brontoquill": "dated.md"}
    for word, path in found.items():
        answer = json.loads(ask(f"what does the {word} do?", notes, index, "--json").stdout)
        assert answer["passages"][0]["path"] == path


@pytest.mark.slow
def test_ten_thousand_headings_chunk_in_linear_time() -> None:
    def seconds(n: int) -> float:
        text = "".join(f"## Heading {i}\n\nA line about heading {i}.\n\n" for i in range(n))
        best = float("inf")
        for _ in range(2):  # the best of two: a busy machine slows one run, not both
            began = time.perf_counter()
            chunks = chunk_file(text, "headings.md")
            best = min(best, time.perf_counter() - began)
        assert f"A line about heading {n - 1}." in chunks[-1].text
        return best

    seconds(100)  # warm up (the parser is built once)
    small, large = seconds(2_500), seconds(10_000)
    assert large < 10
    assert large < 4 * small * 2.5, (small, large)  # 4x the input: well under the 16x of a quadratic pass


def test_a_read_only_notes_folder_works_with_the_index_elsewhere(
    tmp_path: Path, onnx_model: Path, shared_model: None
) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "good.md").write_text(GOOD)
    notes.chmod(0o555)
    try:
        before = sorted(p.name for p in notes.iterdir())
        index = tmp_path / "elsewhere" / "index"
        result = kt_index(notes, index)
        assert result.returncode == 0, result.stderr
        answer = json.loads(ask("zanzibarquux controller", notes, index, "--json").stdout)
        assert answer["passages"][0]["path"] == "good.md"
        # Without --index, the index goes to the per-user cache (KT_HOME here), not beside the notes.
        answer = json.loads(ask("zanzibarquux controller", notes, None, "--json").stdout)
        assert answer["passages"][0]["path"] == "good.md"
        default = resolve([notes]).index
        assert default.is_relative_to(os.environ["KT_HOME"]) and (default / "CURRENT").exists()
        assert sorted(p.name for p in notes.iterdir()) == before  # nothing written beside the notes
    finally:
        notes.chmod(0o755)


def test_escape_sequences_in_notes_never_reach_the_terminal(tmp_path: Path, shared_model: None) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "escapes.md").write_text(ESCAPES)
    (notes / "good.md").write_text(GOOD)
    result = ask("xylophonic clipboard section", notes, tmp_path / "index")
    shown = result.stdout
    assert "xylophonic" in shown and "kubectl logs xylophonic" in shown  # the note was found and rendered
    assert "kubectl get pods" in shown  # … with its snippets
    assert "\x1b" not in result.output and "\x07" not in result.output and "\x9b" not in result.output
    assert "␛]52;c;ZXZpbA==" in shown  # made visible, not executed


def test_no_module_uses_pickle() -> None:
    package = PROJECT_ROOT / "assistant"
    offenders = []
    for path in sorted(package.rglob("*.py")):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"pickle", line) and not re.search(r"allow_pickle\s*=\s*False", line):
                offenders.append(f"{path.relative_to(PROJECT_ROOT)}:{n}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_a_note_that_is_not_utf8_is_read_as_windows_1252() -> None:
    from assistant.ingest.notes import NoteFile, read_note

    def read(data: bytes, tmp: Path) -> tuple[str, str]:
        path = tmp / "note.md"
        path.write_bytes(data)
        text, _, encoding = read_note(NoteFile("note.md", str(path), len(data), 0))
        return text, encoding

    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        assert read("# Café\n\nCrème brûlée\n".encode(), Path(tmp)) == ("# Café\n\nCrème brûlée\n", "UTF-8")
        word = "# Café\n\nThe “quoted” words – from Word\n"
        assert read(word.encode("cp1252"), Path(tmp)) == (word, "Windows-1252")
        # a byte Windows-1252 has no character for: Latin-1 reads every byte
        assert read(b"# Caf\xe9 \x81\n", Path(tmp)) == ("# Café \x81\n", "Windows-1252")


def test_a_latin1_note_is_indexed_with_one_notice_naming_it(tmp_path: Path, embedder: Any) -> None:
    from assistant.app.core import Assistant
    from assistant.config import Settings

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "good.md").write_text("# Good\n\nA plain UTF-8 note.\n")
    (notes / "latin1.md").write_bytes("# Café\n\nCrème brûlée for the ingress team.\n".encode("latin-1"))
    said: list[str] = []
    assistant = Assistant(Settings((notes,), tmp_path / "index"), notice=said.append, embedder=embedder)
    report = assistant.update()
    assert report.added == ["good.md", "latin1.md"] and not report.skipped
    assert said == [f"{notes / 'latin1.md'}: not UTF-8, read as Windows-1252"]
    answer = assistant.ask("crème brûlée")
    assert answer.passages[0].chunk.path == "latin1.md" and "Crème brûlée" in answer.passages[0].chunk.text
    said.clear()
    assistant.update()
    assert said == []  # said when the note is indexed, not on every update
