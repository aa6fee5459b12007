"""Incremental updates: unchanged files are not re-embedded; edits, additions and deletions are seen."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.app.core import Assistant
from assistant.config import Settings
from assistant.index.generation import IndexCorrupt, Manifest, read_manifest
from assistant.index.store import IndexStore


class CountingEmbedder:
    """Wraps the real embedder and counts what it is asked to embed."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner = inner
        self.model_id, self.dim = inner.model_id, inner.dim
        self.texts: list[str] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.texts.extend(texts)
        return self.inner.embed(texts)


def make(notes: Path, index: Path, embedder) -> tuple[Assistant, CountingEmbedder]:  # type: ignore[no-untyped-def]
    counting = CountingEmbedder(embedder)
    return Assistant(Settings((notes,), index), notice=lambda m: None, embedder=counting), counting


def test_edit_re_embeds_only_the_edited_file(tmp_path: Path, notes_dir: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    (notes_dir / "extra.md").write_text("# Extra\n\nIngress controllers route traffic.\n\n## More\n\nText.\n")
    assistant, counting = make(notes_dir, tmp_path / "index", embedder)
    first = assistant.update()
    assert first.added == ["extra.md", "kubernetes-therapy.md"] and first.embedded == len(counting.texts) > 0

    counting.texts.clear()
    (notes_dir / "extra.md").write_text(
        "# Extra\n\nIngress controllers route HTTP traffic to services.\n\n## More\n\nText.\n"
    )
    report = assistant.update()
    assert report.changed == ["extra.md"] and not report.added and not report.removed
    assert report.embedded == 1 == len(counting.texts)  # only the edited section; "More" is unchanged
    assert "HTTP traffic" in counting.texts[0]

    counting.texts.clear()
    report = assistant.update()
    assert not report.touched and not report.wrote and counting.texts == []


def test_touch_without_change_does_not_re_embed(tmp_path: Path, notes_dir: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    assistant, counting = make(notes_dir, tmp_path / "index", embedder)
    assistant.update()
    counting.texts.clear()
    note = notes_dir / "kubernetes-therapy.md"
    note.write_bytes(note.read_bytes())
    report = assistant.update()
    assert not report.touched and counting.texts == []


def test_added_and_removed_files(tmp_path: Path, notes_dir: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    assistant, _ = make(notes_dir, tmp_path / "index", embedder)
    assistant.update()
    (notes_dir / "sub").mkdir()
    (notes_dir / "sub" / "helm.txt").write_text("# Helm\n\nRun `helm upgrade --install app ./chart` to deploy.\n")
    (notes_dir / "pod.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n")
    report = assistant.update()
    assert report.added == ["pod.yaml", "sub/helm.txt"]
    answer = assistant.ask("helm upgrade install chart")
    assert answer.passages[0].chunk.path == "sub/helm.txt"
    (notes_dir / "sub" / "helm.txt").unlink()
    report = assistant.update()
    assert report.removed == ["sub/helm.txt"]
    assert all(h.chunk.path != "sub/helm.txt" for h in assistant.ask("helm upgrade install chart", k=10).passages)


def test_manifest_is_plain_json_with_fingerprints(seed_assistant: Assistant) -> None:
    store = IndexStore(seed_assistant.settings.index)
    manifest = json.loads((store.current() / "manifest.json").read_text())
    assert manifest["model"] == "sentence-transformers/all-MiniLM-L6-v2" and manifest["dim"] == 384
    assert {"schema", "chunker", "files", "checksums", "built_at"} <= set(manifest)
    assert len(manifest["files"]["kubernetes-therapy.md"]["sha256"]) == 64
    assert not list(store.current().rglob("*.pkl")) and not list(store.current().rglob("*.pickle"))


def test_the_typed_manifest_writes_the_bytes_it_read(seed_assistant: Assistant, tmp_path: Path) -> None:
    """Manifest is manifest.json, typed: it round-trips byte for byte, so an index written before it opens
    without a rebuild; a field of the wrong type is damage, like a file that is not JSON."""
    data = (IndexStore(seed_assistant.settings.index).current() / "manifest.json").read_bytes()
    manifest = Manifest.from_json(json.loads(data))
    assert json.dumps(manifest.to_json(), indent=1).encode() == data
    assert manifest.compatible() and manifest.counts.files == len(manifest.files) == 1
    assert len(manifest.files["kubernetes-therapy.md"].sha256) == 64
    broken = json.loads(data)
    broken["counts"]["chunks"] = str(broken["counts"]["chunks"])
    gen = tmp_path / "gen-unsealed"
    gen.mkdir()
    (gen / "manifest.json").write_text(json.dumps(broken))
    with pytest.raises(IndexCorrupt, match="unreadable"):
        read_manifest(gen)
    assert Manifest.from_json({"notes": ["/n"], "checksums": {}}).files == {}  # fields an old index lacks


def test_changed_chunker_version_means_full_rebuild(tmp_path: Path, notes_dir: Path, embedder, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assistant, counting = make(notes_dir, tmp_path / "index", embedder)
    assistant.update()
    import assistant.index.generation as generation

    monkeypatch.setattr(generation, "CHUNKER_VERSION", "test-next")
    report = assistant.update()
    assert report.rebuilt and report.added == ["kubernetes-therapy.md"]


def test_status_lists_stale_files(tmp_path: Path, notes_dir: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    assistant, _ = make(notes_dir, tmp_path / "index", embedder)
    assistant.update()
    (notes_dir / "new.md").write_text("# New\n\nfresh\n")
    status = assistant.status()
    assert status.stale["added"] == ["new.md"] and status.chunks > 10


def test_vector_journal_survives_a_torn_tail_and_ignores_other_models(tmp_path: Path) -> None:
    import numpy as np

    from assistant.index.vectors import VectorJournal, text_hash

    journal = VectorJournal(tmp_path / "journal.bin")
    rng = np.random.default_rng(0)
    first = [(text_hash(f"text {i}"), rng.random(384, dtype=np.float32)) for i in range(3)]
    journal.append(first)
    with journal.path.open("ab") as f:
        f.write(b"\x00" * 100)  # a record cut short by a crash
    assert set(journal.read()) == {h for h, _ in first}
    later = (text_hash("later"), rng.random(384, dtype=np.float32))
    journal.append([later])  # lands on a record boundary: the torn bytes were cut off
    kept = journal.read()
    assert len(kept) == 4 and np.array_equal(kept[later[0]], later[1])

    raw = bytearray(journal.path.read_bytes())
    raw[len(VectorJournal.HEADER) + 20] ^= 0xFF  # damage inside the first record
    journal.path.write_bytes(bytes(raw))
    assert journal.read() == {}

    journal.path.write_bytes(b'{"model": "another/model"}\n' + bytes(2000))
    assert journal.read() == {} and not journal.path.exists()
    journal.discard()  # nothing to discard: no error


def test_progress_bars_end_at_the_counts_the_build_reports(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """Every bar reaches its total, and the chunk and snippet bars count what the summary counts: a text written
    twice (embedded once) and a reused vector are chunks done, not chunks missing from the bar."""
    notes = tmp_path / "notes"
    notes.mkdir()
    same = "# Same section\n\nThe very same words in two notes.\n\n```sh\nkubectl get pods -A\n```\n"
    (notes / "a.md").write_text(same + "\n## Only in a\n\nWords of a.\n")
    (notes / "b.md").write_text(same)
    (notes / "pods.yaml").write_text("apiVersion: v1\nkind: Pod\n---\napiVersion: v1\nkind: Service\n")
    calls: list[tuple[str, int, int]] = []
    assistant = Assistant(
        Settings((notes,), tmp_path / "index"),
        notice=lambda m: None,
        embedder=embedder,
        progress=lambda stage, done, total: calls.append((stage, done, total)),
    )

    def bars() -> dict[str, tuple[int, int]]:
        last: dict[str, tuple[int, int]] = {}
        for stage, done, total in calls:
            assert 0 <= done <= total, (stage, done, total)
            assert last.get(stage, (0, 0))[0] <= done, f"{stage} went back"
            last[stage] = (done, total)
        return last

    report = assistant.update()
    assert report.embedded < report.chunks + report.snippets  # the repeated section is embedded once
    last = bars()
    assert last["reading notes"] == (3, 3)
    assert last["embedding chunks"] == (report.chunks, report.chunks)
    assert last["embedding snippets"] == (report.snippets, report.snippets)

    calls.clear()
    (notes / "c.md").write_text("# New note\n\nSomething new to embed.\n")
    report = assistant.update()
    assert report.embedded == 1
    last = bars()
    assert last["reading notes"] == (4, 4)
    assert last["embedding chunks"] == (report.chunks, report.chunks)  # the reused vectors count as done
    assert "embedding snippets" not in last  # nothing to embed: no bar
