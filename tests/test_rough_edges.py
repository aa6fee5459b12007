"""Rough edges a new user hit (issue 16): each test failed before its fix."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.answer.placeholders import fill, find_placeholders
from assistant.ingest.chunks import chunk_file
from tests.conftest import SEED

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
_KEY = re.compile(r"^(\s*(?:- )?[\w.-]+):(?:\s|$)")


def all_snippets(paths: list[Path]) -> list:
    found = []
    for path in paths:
        text = path.read_text(encoding="utf-8", errors="replace")
        found += [s for c in chunk_file(text, str(path)) for s in c.snippets]
    return found


def check_fill(snippets: list) -> None:
    for s in snippets:
        names = find_placeholders(s.code, s.lang)
        assert fill(s.code, {n: "" for n in names}) == s.code  # left empty: byte for byte
        filled = fill(s.code, {n: "FILLED" for n in names})
        keys = [m.group(1) for line in s.code.splitlines() if (m := _KEY.match(line))]
        assert [m.group(1) for line in filled.splitlines() if (m := _KEY.match(line))] == keys, s.code


def test_fill_never_touches_a_yaml_key() -> None:
    yaml = "spec:\n  volumes:\n  - name: data\n    persistentVolumeClaim:\n      claimName: countit-pvc\n"
    assert find_placeholders(yaml) == []
    assert find_placeholders("  serviceName: web\n  secretName: podName\n") == ["podName"]
    check_fill(all_snippets([SEED]))


@pytest.mark.slow
@pytest.mark.skipif(not CORPORA.exists(), reason="the Kubernetes docs corpora are not beside this clone")
def test_fill_on_every_snippet_of_the_kubernetes_docs() -> None:
    paths = sorted(CORPORA.rglob("*.md")) + sorted(CORPORA.rglob("*.yaml"))
    check_fill(all_snippets(paths))


# --- the command line ------------------------------------------------------------------------------------------


def test_numeric_options_are_range_checked_up_front() -> None:
    from typer.testing import CliRunner

    from assistant.app.cli import app

    runner = CliRunner()
    for value in ("-5", "99999999999999999999", "abc"):
        result = runner.invoke(app, ["watch", "--debounce", value])
        assert result.exit_code == 2, (value, result.output)
        assert "Traceback" not in result.output and "watching" not in result.output
    for value in ("0", "-1", "1000", "x"):
        result = runner.invoke(app, ["ask", "q", "-k", value])
        assert result.exit_code == 2, (value, result.output)


@pytest.mark.slow
def test_batch_json_answers_one_line_per_input_line(seed_assistant) -> None:  # type: ignore[no-untyped-def]
    import json

    from typer.testing import CliRunner

    from assistant.app.cli import app

    s = seed_assistant.settings
    where = ["--notes", str(s.notes[0]), "--index", str(s.index)]
    result = CliRunner().invoke(app, ["ask", "--json", *where], input="undo my last web rollout\n\n  \ntaint a node\n")
    lines = result.stdout.splitlines()
    assert result.exit_code == 0 and len(lines) == 4
    answers = [json.loads(line) for line in lines]
    assert answers[1] == answers[2] == {"question": "", "error": "empty question"}
    assert answers[0]["question"] == "undo my last web rollout" and answers[3]["question"] == "taint a node"


@pytest.mark.slow
def test_typing_exit_quit_or_help_is_a_command(seed_assistant) -> None:  # type: ignore[no-untyped-def]
    from tests.test_repl import run

    out = run(seed_assistant, ["help", "quit", "this line is never read"])
    assert ":fill N" in out and "Nothing in your notes" not in out and "this line is never read" not in out
    assert "this line is never read" not in run(seed_assistant, ["Exit", "this line is never read"])


def test_the_same_notes_folder_given_twice_is_one_folder(tmp_path: Path) -> None:
    from assistant.config import resolve

    (tmp_path / "notes").mkdir()
    once = resolve([tmp_path / "notes"])
    twice = resolve([tmp_path / "notes", tmp_path / "notes" / ".." / "notes"])
    assert twice.notes == once.notes and twice.index == once.index


DRAIN = "# Drain\n\nkubectl drain node-1 --ignore-daemonsets\n"


def _kt_over_one_note(tmp_path: Path, embedder, name: str, text: str):  # type: ignore[no-untyped-def]
    """An assistant over a notes folder holding one note, its index built, and the notices it gave."""
    from assistant.app.core import Assistant
    from assistant.config import Settings

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / name).write_text(text)
    said: list[str] = []
    kt = Assistant(Settings((notes,), tmp_path / "index"), notice=said.append, embedder=embedder)
    kt.update()
    return kt, notes, said


@pytest.mark.slow
def test_a_note_over_the_size_limit_is_announced_once(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    from assistant.app.core import stale_files
    from assistant.ingest.notes import MAX_NOTE_BYTES

    kt, notes, said = _kt_over_one_note(tmp_path, embedder, "small.md", DRAIN)
    with (notes / "huge.md").open("wb") as f:
        f.write(b"# Huge\n" + b"x" * (MAX_NOTE_BYTES + 10))
    for _ in range(2):  # what the CLI and the REPL do before each question
        kt.refresh()
        kt.ask("drain a node")
    assert sum("huge.md" in m for m in said) == 1, said
    manifest = kt.store.manifest()
    assert "huge.md" in manifest.skipped and stale_files(manifest, [notes])["added"] == []


@pytest.mark.slow
def test_color_works_before_and_after_the_command(seed_assistant, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import os

    from typer.testing import CliRunner

    from assistant.app.cli import app

    for name in ("NO_COLOR", "FORCE_COLOR", "KT_COLOR"):
        monkeypatch.delenv(name, raising=False)
    s = seed_assistant.settings
    where = ["--notes", str(s.notes[0]), "--index", str(s.index)]
    runner = CliRunner()
    after = runner.invoke(app, ["ask", "taint a node", *where, "--color", "never"])
    assert after.exit_code == 0 and "kubectl taint" in after.stdout and "\x1b[" not in after.stdout
    forced = runner.invoke(app, ["--color", "always", "ask", "taint a node", *where])  # piped, yet coloured
    assert forced.exit_code == 0 and "\x1b[" in forced.stdout
    assert runner.invoke(app, ["ask", "x", *where, "--color", "sometimes"]).exit_code == 2
    assert "NO_COLOR" not in os.environ and "FORCE_COLOR" not in os.environ  # passed to the consoles, not set


def test_help_names_what_each_option_wants() -> None:
    from typer.testing import CliRunner

    from assistant.app.cli import app

    runner = CliRunner()
    top = " ".join(runner.invoke(app, ["--help"]).stdout.split())  # wrapped at any width: compare words
    ask = " ".join(runner.invoke(app, ["ask", "--help"]).stdout.split())
    assert "`kt` alone for the REPL" in top
    assert "--notes PATH" in top and "--index DIR" in top and "--color WHEN" in top
    assert "[QUESTION]" in ask and "--top N" in ask
    assert "<str>" not in top + ask and "<int range>" not in ask and "<path>" not in top + ask


@pytest.mark.slow
def test_touch_or_a_same_content_copy_is_no_change(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    import os
    import shutil

    from assistant.app.core import Assistant
    from assistant.config import Settings

    notes = tmp_path / "notes"
    notes.mkdir()
    note = notes / "drain.md"
    note.write_text("# Drain\n\nkubectl drain node-1 --ignore-daemonsets\n")
    said: list[str] = []
    kt = Assistant(Settings((notes,), tmp_path / "index"), notice=said.append, embedder=embedder)
    kt.update()
    os.utime(note, ns=(1, 1))  # touch: a new mtime, the same bytes
    assert kt.status().stale == {"added": [], "changed": [], "removed": []}
    shutil.copy(note, tmp_path / "copy.md")
    shutil.copy(tmp_path / "copy.md", note)
    assert not any(kt.status().stale.values())
    os.chmod(tmp_path / "index", 0o555)  # a read-only index: nothing changed, so nothing to warn about
    try:
        kt.refresh()
    finally:
        os.chmod(tmp_path / "index", 0o755)
    assert not any("without your latest edits" in m for m in said), said
    note.write_text("# Drain\n\nkubectl drain node-2\n")
    assert kt.status().stale["changed"] == ["drain.md"]


def test_status_sees_the_damage_a_question_would(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    kt, _, _ = _kt_over_one_note(tmp_path, embedder, "drain.md", DRAIN)
    assert kt.status().built is True
    (kt.store.current() / "chunks.jsonl").write_bytes(b"")  # 0 bytes: the size changed, the manifest did not
    status = kt.status()
    assert status.built is False and "chunks.jsonl is damaged" in status.problem


def test_edit_opens_the_passage_where_it_is_now(tmp_path: Path) -> None:
    from assistant.views.sources import current_line

    note = tmp_path / "n.md"
    note.write_text("# Notes\n\n## Drain\n\nkubectl drain x\n")
    assert current_line(note, 3, "Drain") == 3
    note.write_text("# Notes\n\nnew line\nanother\n\n## Drain\n\nkubectl drain x\n")  # edited after the answer
    assert current_line(note, 3, "Drain") == 6
    assert current_line(note, 3, "Gone") == 3


@pytest.mark.slow
def test_edit_after_the_note_changed_opens_its_heading_now(one_note_assistant, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tests.test_repl import run

    kt = one_note_assistant("ops.md", "# Ops\n\n## Drain a node\n\nkubectl drain node-1 --ignore-daemonsets\n")
    record = tmp_path / "args"
    editor = tmp_path / "editor.sh"
    editor.write_text(f'#!/bin/sh\necho "$@" > {record}\n')
    editor.chmod(0o755)
    monkeypatch.setenv("VISUAL", str(editor))
    note = tmp_path / "notes" / "ops.md"

    run(kt, ["drain a node for maintenance", ":edit 1"])
    assert record.read_text().split()[0] == "+3"
    note.write_text(
        "# Ops\n\nA new intro.\n\nMore words.\n\n## Drain a node\n\nkubectl drain node-1 --ignore-daemonsets\n"
    )
    kt.refresh = lambda: None  # what was indexed stays: the answer names line 3, the heading is at 7 now
    run(kt, ["drain a node for maintenance", ":edit 1"])
    assert record.read_text().split()[0] == "+7"


def test_each_notes_set_has_its_own_history(tmp_path: Path) -> None:
    from assistant.config import history_file

    assert history_file(tmp_path / "a") != history_file(tmp_path / "b")
    assert history_file(tmp_path / "a") == history_file(tmp_path / "x" / ".." / "a")


@pytest.mark.slow
def test_markdown_answers_keep_code_and_passages_out_of_headings(seed_assistant) -> None:  # type: ignore[no-untyped-def]
    from markdown_it import MarkdownIt

    from assistant.views.plain import markdown

    md = MarkdownIt("commonmark")
    for question in (
        "roll my deployment back",
        "what is the kubelet for",
        "Calico compared with Flannel",
        "taint a node",
    ):
        answer = seed_assistant.ask(question)
        tokens = md.parse(markdown(answer))
        headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
        assert headings == [question], headings  # the question is the only heading
        fenced = "\n".join(t.content for t in tokens if t.type == "fence")
        for s in answer.snippets:
            assert s.snippet.code.rstrip("\n") in fenced  # every command stays in a code block


def _ctrl_c_on() -> None:
    """In the child: Ctrl-C as a terminal delivers it, even when this test run ignores SIGINT (a background job)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
def test_ctrl_c_during_an_index_build_says_so_and_the_next_run_resumes(tmp_path: Path, onnx_model: Path) -> None:
    import shutil
    import signal
    import subprocess
    import sys
    import time

    notes = tmp_path / "notes"
    notes.mkdir()
    shutil.copy(SEED, notes / SEED.name)
    argv = [
        sys.executable,
        "-m",
        "assistant",
        "index",
        "--rebuild",
        "--notes",
        str(notes),
        "--index",
        str(tmp_path / "i"),
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_ctrl_c_on)
    time.sleep(2.0)  # past start-up: reading, chunking or embedding
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    if proc.returncode == 0:
        pytest.skip("the build finished before the interrupt")
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err
    done = subprocess.run(argv[:4] + argv[5:], capture_output=True, text=True, timeout=300)  # without --rebuild
    assert done.returncode == 0 and "58 chunks" in done.stdout


@pytest.mark.slow
def test_ctrl_c_stops_kt_watch_with_a_word(tmp_path: Path, onnx_model: Path) -> None:
    import shutil
    import signal
    import subprocess
    import sys
    import time

    notes = tmp_path / "notes"
    notes.mkdir()
    shutil.copy(SEED, notes / SEED.name)
    argv = [sys.executable, "-m", "assistant", "watch", "--notes", str(notes), "--index", str(tmp_path / "i")]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_ctrl_c_on)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (tmp_path / "i" / "CURRENT").exists():
        time.sleep(0.2)
    time.sleep(1.0)  # the first build is written; the watcher is waiting for edits
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert out.rstrip().endswith("stopped watching") and "Traceback" not in err


def test_a_long_update_says_so_before_it_starts(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    from assistant.app.core import LONG_UPDATE_FILES, plural

    kt, notes, said = _kt_over_one_note(tmp_path, embedder, "a.md", "# A\n\nkubectl get pods\n")
    (notes / "b.md").write_text("# B\n")
    kt.refresh()
    assert len(said) == 1 and said[0].startswith("index updated: 1 added (")  # short: one line, after it
    said.clear()
    for i in range(LONG_UPDATE_FILES):
        (notes / f"n{i}.md").write_text(f"# Note {i}\n\nkubectl describe node node-{i}\n")
    kt.refresh()
    assert said[0] == f"updating the index ({LONG_UPDATE_FILES} files, 0.0 MB)…"
    assert said[1].startswith(f"index updated: {LONG_UPDATE_FILES} added (")
    assert [plural(n, "line") for n in (0, 1, 2, 1500)] == ["0 lines", "1 line", "2 lines", "1,500 lines"]


def test_kt_index_counts_in_the_singular_when_there_is_one(tmp_path: Path, onnx_model: Path) -> None:
    from typer.testing import CliRunner

    from assistant.app.cli import app

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "one.md").write_text("# One\n\nA note about draining a node before maintenance.\n")
    result = CliRunner().invoke(app, ["index", "--notes", str(notes), "--index", str(tmp_path / "index")])
    assert result.exit_code == 0, result.output
    assert "; 1 file, 1 chunk, 0 snippets (" in result.stdout


def test_an_unverified_manifest_read_is_served_once_per_generation(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    from assistant.index.store import IndexCorrupt

    kt, notes, _ = _kt_over_one_note(tmp_path, embedder, "drain.md", DRAIN)
    first = kt.store.manifest()
    assert kt.store.manifest() is first  # the same generation: read once
    (notes / "drain.md").write_text(DRAIN + "\nkubectl uncordon node-1\n")
    kt.update()
    assert kt.store.manifest() is not first  # a new generation: read again
    assert kt.store.manifest().files["drain.md"].sha256 != first.files["drain.md"].sha256
    manifest = kt.store.current() / "manifest.json"
    manifest.write_bytes(manifest.read_bytes().replace(b'"files"', b'"filez"'))
    with pytest.raises(IndexCorrupt):
        kt.store.manifest(verify=True)  # a verified read always reads the files: damage shows
