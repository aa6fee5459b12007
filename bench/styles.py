"""How cleanly notes of each style come through: the fixture vaults of tests/data/vaults (an Obsidian vault, a
repo of runbooks) and the bundled notes.

    .venv/bin/python bench/styles.py      # also part of `make quality` (bench/quality.py)

Figures, each with its target:
- passages shown that are empty or a copy of another passage of the same answer (0): every heading of the notes
  is asked as a question, 5 passages each (a copy: the same lines, or the lines of one within the other); and,
  for the record, the copies the index holds (collapsed into one result, with `also_in`, when answering);
- snippets that are program output or prose rather than something to run (0): a shell snippet with a line of
  columns, of kubectl's report or, in a block with `$ ` prompts, a line after a command; a YAML snippet that is
  no mapping or list; a diagram or text block;
- notes with no title (0): a note one of whose passages has no heading path.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.app.core import Assistant  # noqa: E402
from assistant.config import BUNDLED_NOTES, Settings, resolve  # noqa: E402
from assistant.ingest.chunks import chunk_file, has_content  # noqa: E402
from assistant.ingest.notes import scan  # noqa: E402
from assistant.ingest.snippets import DIAGRAM_LANGS, SOURCE_LINE, is_output  # noqa: E402
from assistant.rank.search import same_text, text_key  # noqa: E402
from assistant.records import Chunk, Snippet  # noqa: E402

VAULTS = ROOT / "tests" / "data" / "vaults"


def not_to_run(s: Snippet) -> bool:
    """Whether a snippet is program output or prose rather than a command or a manifest."""
    if s.lang in DIAGRAM_LANGS or not s.lang:
        return True
    if s.lang == "yaml":
        import yaml

        try:
            docs = list(yaml.safe_load_all(s.code))
        except yaml.YAMLError:
            return True
        return not any(isinstance(d, (dict, list)) for d in docs)
    if s.lang != "shell":
        return False
    lines = SOURCE_LINE.findall(s.code)
    prompted = any(line.lstrip().startswith("$ ") for line in lines)
    for n, line in enumerate(lines):
        text = line.strip()
        continued = n > 0 and lines[n - 1].rstrip().endswith("\\")
        if not text or text.startswith("#") or continued:
            continue
        if is_output(text) or (prompted and not text.startswith("$ ")):
            return True
        if text.endswith(".") and len(text.split()) > 3 and not any(w.startswith("-") for w in text.split()):
            return True  # a sentence
    return False


def chunks_of(folder: Path) -> list[Chunk]:
    return [c for note in scan([folder], []) for c in chunk_file(note.path.read_text(encoding="utf-8"), note.key)]


def index_figures(chunks: list[Chunk]) -> tuple[str, str, str, str]:
    keys = [text_key(c.text) for c in chunks]
    empty = sum(not has_content(c.text) for c in chunks)
    copies = sum(any(keys[j] == k for j in range(i)) for i, k in enumerate(keys))
    snippets = [s for c in chunks for s in c.snippets]
    bad = sum(not_to_run(s) for s in snippets)
    notes = {c.path for c in chunks}
    untitled = {c.path for c in chunks if not c.headings}
    return (
        f"{empty}/{len(chunks)}",
        f"{copies}/{len(chunks)}",
        f"{bad}/{len(snippets)} ({bad / max(len(snippets), 1):.0%})",
        f"{len(untitled)}/{len(notes)}",
    )


def answer_figures(folder: Path, chunks: list[Chunk]) -> str:
    """Every heading of the notes asked as a question: passages shown that are empty or a copy of another."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = resolve([folder]) if folder == BUNDLED_NOTES else Settings((folder,), Path(tmp) / "index")
        assistant = Assistant(settings, notice=lambda m: None)
        questions = sorted({c.headings[-1] for c in chunks if c.headings})
        shown = bad = 0
        for q in questions:
            passages = assistant.ask(q, k=5).passages
            keys = [text_key(h.chunk.text) for h in passages]
            shown += len(passages)
            bad += sum(
                not has_content(h.chunk.text) or any(same_text(keys[i], keys[j]) for j in range(i))
                for i, h in enumerate(passages)
            )
    return f"{bad}/{shown} ({bad / max(shown, 1):.0%}) over {len(questions)} questions"


def main() -> None:
    print("\n## Notes of each style (targets: all 0)")
    print("| notes | passages shown empty or copies | empty passages | copies in the index | snippets not to run "
          "| notes without a title |\n|---|---|---|---|---|---|")  # fmt: skip
    for name, folder in [(p.name, p) for p in sorted(VAULTS.iterdir()) if p.is_dir()] + [("bundled", BUNDLED_NOTES)]:
        chunks = chunks_of(folder)
        empty, copies, snippets, untitled = index_figures(chunks)
        shown = answer_figures(folder, chunks)
        print(f"| {name} | {shown} | {empty} | {copies} (collapsed in answers) | {snippets} | {untitled} |")


if __name__ == "__main__":
    main()
