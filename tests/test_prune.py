"""`kt status --all` lists the indexes under the cache dir; `kt prune` removes those whose notes are gone (or,
with --older-than, unused ones), never the current notes' index nor one being updated."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.app.cli import app
from assistant.config import resolve
from assistant.index.store import IndexStore

runner = CliRunner()
DAY = 86_400


def fake_index(folder: Path, notes: list[Path], size: int, days_ago: float = 0) -> Path:
    """An index folder as a build leaves it (CURRENT, a generation with its manifest), `size` bytes of vectors."""
    gen = folder / "gen-20261101-000000-1-000001"
    gen.mkdir(parents=True)
    manifest = {"notes": [str(n) for n in notes], "built_at": "2026-11-01T00:00:00+0000", "checksums": {}}
    (gen / "manifest.json").write_text(json.dumps(manifest))
    (gen / "chunks.faiss").write_bytes(b"\0" * size)
    (folder / "CURRENT").write_text(gen.name + "\n")
    when = time.time() - days_ago * DAY
    os.utime(folder / "CURRENT", (when, when))
    return folder


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Three indexes under an empty cache dir: the current notes' (old), one whose notes were deleted, and one
    unused for 40 days."""
    monkeypatch.setenv("KT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KT_CONFIG", str(tmp_path / "no-config.toml"))
    mine, kept, deleted = tmp_path / "mine", tmp_path / "kept", tmp_path / "deleted"
    for folder in (mine, kept):
        folder.mkdir()
        (folder / "note.md").write_text("# Note\n")
    indexes = tmp_path / "home" / "indexes"
    return {
        "mine": mine,
        "deleted": deleted,
        "current": fake_index(resolve([mine]).index, [mine], 3_000_000, days_ago=90),
        "gone": fake_index(indexes / "00000000000000aa", [kept, deleted], 2_000_000),
        "old": fake_index(indexes / "00000000000000bb", [kept], 1_000_000, days_ago=40),
    }


def test_status_all_lists_every_index_with_its_notes_size_and_use(cache: dict[str, Path]) -> None:
    result = runner.invoke(app, ["status", "--all", "--json", "--notes", str(cache["mine"])])
    assert result.exit_code == 0, result.output
    found = {Path(i["path"]): i for i in json.loads(result.stdout)["indexes"]}
    assert set(found) == {cache["current"], cache["gone"], cache["old"]}
    assert found[cache["gone"]]["gone"] == [str(cache["deleted"])]
    assert found[cache["current"]]["current"] and not found[cache["old"]]["current"]
    assert found[cache["old"]]["size"] >= 1_000_000 and found[cache["old"]]["built_at"] == "2026-11-01T00:00:00+0000"

    text = runner.invoke(app, ["status", "--all", "--notes", str(cache["mine"])]).stdout
    assert f"notes: {cache['deleted']} (gone)" in text and "(current)" in text and "3.0 MB" in text
    assert "3 indexes, 6.0 MB; 1 with notes gone: `kt prune` removes them" in text


def test_prune_removes_indexes_whose_notes_are_gone_and_says_how_much_it_freed(cache: dict[str, Path]) -> None:
    dry = runner.invoke(app, ["prune", "--dry-run", "--notes", str(cache["mine"])])
    assert dry.exit_code == 0, dry.output
    assert f"would remove {cache['gone']} (notes gone: {cache['deleted']}), 2.0 MB" in dry.stdout
    assert "would remove 1 index, would free 2.0 MB" in dry.stdout
    assert all(cache[k].exists() for k in ("current", "gone", "old"))  # a dry run removes nothing

    done = runner.invoke(app, ["prune", "--notes", str(cache["mine"])])
    assert done.exit_code == 0 and "removed 1 index, freed 2.0 MB" in done.stdout
    assert not cache["gone"].exists() and cache["old"].exists() and cache["current"].exists()
    again = runner.invoke(app, ["prune", "--notes", str(cache["mine"])])
    assert again.stdout.startswith("nothing to remove")


def test_prune_older_than_removes_unused_ones_but_never_the_current_notes_index(cache: dict[str, Path]) -> None:
    result = runner.invoke(app, ["prune", "--older-than", "30", "--json", "--notes", str(cache["mine"])])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert {Path(i["path"]) for i in out["removed"]} == {cache["gone"], cache["old"]}
    assert out["freed"] >= 3_000_000 and not out["dry_run"]
    assert cache["current"].exists()  # 90 days unused, but it is the index of the notes in force


def test_prune_keeps_the_current_index_even_when_its_notes_are_gone(cache: dict[str, Path]) -> None:
    current = resolve([cache["deleted"]]).index
    fake_index(current, [cache["deleted"]], 1000)
    result = runner.invoke(app, ["prune", "--json", "--notes", str(cache["deleted"])])
    assert {Path(i["path"]) for i in json.loads(result.stdout)["removed"]} == {cache["gone"]}
    assert current.exists()


def test_prune_leaves_an_index_another_kt_is_updating(cache: dict[str, Path]) -> None:
    lock = IndexStore(cache["gone"]).lock(wait=False)
    try:
        result = runner.invoke(app, ["prune", "--notes", str(cache["mine"])])
    finally:
        lock.release()
    assert result.exit_code == 0 and cache["gone"].exists()
    assert f"kept {cache['gone']}: another kt is updating this index" in result.stdout


def test_an_answer_marks_its_index_used(tmp_path: Path, seed_assistant) -> None:  # type: ignore[no-untyped-def]
    store = seed_assistant.store
    (store.root / ".used").unlink(missing_ok=True)
    os.utime(store.root / "CURRENT", (1, 1))
    seed_assistant._reader = None
    seed_assistant.reader()
    assert time.time() - store.last_used() < 60
