"""What `kt mcp`'s tools return, shaped: the Markdown an agent reads and the brief JSON of an answer (a full
answer is `kt ask --md`'s Markdown, assistant/views/plain.py, and `Answer.to_json`), the line saying how fresh the index
is, a note's section or lines, a page of the notes list, the index's state and the server's instructions.
Plain functions of plain data: no index, no protocol."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.answer.types import Answer
    from assistant.index.generation import Manifest
    from assistant.records import Chunk


def plural(n: int, what: str) -> str:
    return f"{n:,} {what}{'' if n == 1 else 's'}"


def age(built_at: str | None) -> str:
    """'12 min ago' from a manifest's built_at."""
    import datetime

    if not built_at:
        return "at an unknown time"
    try:
        then = datetime.datetime.strptime(built_at, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return f"at {built_at}"
    seconds = max(0, int((datetime.datetime.now(then.tzinfo) - then).total_seconds()))
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if unit == 'day' and n > 1 else ''} ago"
    return f"{seconds} s ago"


def instructions(manifest: Manifest | None) -> str:
    """The server's instructions, with what the index holds now (its manifest; None: no index yet)."""
    if manifest is None:
        held = "The index is being built (index_status says how far)."
    else:
        held = f"The index holds {plural(manifest.counts.files, 'note')}, built {age(manifest.built_at)}."
    return (
        "Answers Kubernetes questions from the user's own notes (commands, manifests, comparisons, warnings about "
        f"removed kubectl flags), offline. {held} Prefer it to guessing: call search_notes with the question in "
        "plain words (detail='brief' for commands and citations only), cite the file:line it gives, and call "
        "get_note('path:line') to read the whole section. Every result says whether the index is fresh."
    )


def section_json(pieces: list[Chunk]) -> dict[str, Any]:
    first, last = pieces[0], pieces[-1]
    return {
        "path": first.path,
        "start_line": first.start_line,
        "end_line": last.end_line,
        "headings": list(first.headings),
        "text": "\n\n".join(p.text for p in pieces),
    }


# --- Markdown for the model to read (a full answer is `kt ask --md`'s: assistant/views/plain.py) --------------------


def one_line(text: str, headings: tuple[str, ...] | list[str] = (), limit: int = 160) -> str:
    """The first line of prose of a passage (not its heading), at most `limit` characters."""
    for line in text.splitlines():
        line = line.strip().lstrip("#>-*0123456789. ").strip()
        if line and line not in headings and not line.startswith(("```", "~~~", "{{", "<")):
            return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
    return ""


BRIEF_SNIPPET_KEYS = ("rank", "lang", "code", "label", "path", "start_line")  # of Answer.to_json's snippets


def brief_json(answer: Answer) -> dict[str, Any]:
    """Commands, citations and one line per passage: a few hundred tokens."""
    data: dict[str, Any] = {
        "question": answer.question,
        "relevant": answer.relevant,
        "lead": answer.lead,
        "snippets": [
            {key: s[key] for key in BRIEF_SNIPPET_KEYS}
            for s in (answer.to_json()["snippets"] if answer.relevant else [])
        ],
        "passages": [
            {
                "rank": h.rank,
                "path": h.chunk.path,
                "start_line": h.chunk.start_line,
                "end_line": h.chunk.end_line,
                "headings": list(h.chunk.headings),
                "line": one_line(h.chunk.text, h.chunk.headings),
            }
            for h in answer.passages
        ],  # fmt: skip
        "warnings": [{"snippet": w.snippet, "kind": w.kind, "message": w.headline} for w in answer.warnings],
    }
    if answer.notice:
        data["notice"] = answer.notice
    return data


def brief_markdown(answer: Answer) -> str:
    from assistant.views.plain import _fence
    from assistant.views.terminal import heading_path, not_relevant, sanitize

    out = [f"### {sanitize(' '.join(answer.question.split()))}", ""]
    if answer.notice:
        out += [f"> **{sanitize(answer.notice)}**", ""]
    if not answer.relevant:
        out += [f"> **{not_relevant(answer)}**", ""]
    for s in answer.snippets if answer.relevant else []:
        label = sanitize(s.snippet.label or heading_path(s.snippet.headings))
        out += [f"**[{s.rank}] {label}** (`{s.snippet.path}:{s.snippet.start_line}`)", ""]
        out += [*_fence(sanitize(s.snippet.code), s.snippet.lang), ""]
        warned = [f"> ⚠ {sanitize(w.headline)}" for w in answer.warnings if w.snippet == s.rank]
        out += [*warned, ""] if warned else []
    if answer.passages:
        out.append("**Passages**")
    for h in answer.passages:
        where = f"`{h.chunk.path}:{h.chunk.start_line}`"
        line = sanitize(one_line(h.chunk.text, h.chunk.headings))
        out.append(f"{h.rank}. {where} {sanitize(heading_path(h.chunk.headings))}" + (f": {line}" if line else ""))
    return "\n".join(out).strip() + "\n"


def index_line(index: dict[str, Any]) -> str:
    """Whether the answer comes from a fresh index, in one line."""
    held = f"{plural(index['notes'], 'note')}, built {age(index.get('built_at'))}" if "notes" in index else "no index"
    if index["fresh"]:
        return f"*Index: up to date ({held}).*"
    stale = [f"{key} ({kind})" for kind, keys in index["stale"].items() for key in keys]
    shown = ", ".join(stale[:5]) + (f" and {len(stale) - 5} more" if len(stale) > 5 else "")
    why = "being updated" if index["updating"] else f"not updated ({index['problem']})" if index["problem"] else ""
    lag = f"; not in it yet: {shown}" if stale else ""
    return f"*Index: {why or 'stale'}, answered from it as it is ({held}){lag}.*"


def building_markdown(state: dict[str, Any]) -> str:
    eta = f", about {state['eta_seconds']} s left" if state["eta_seconds"] is not None else ""
    return (
        f"The index of the notes is being built: {state['percent']:.0f}%{eta}. Nothing can be searched until it "
        "exists; ask again in a moment (index_status says how far it is).\n"
    )


def section_markdown(section: dict[str, Any]) -> str:
    head = " › ".join(section["headings"]) or section["path"]
    where = f"`{section['path']}:{section['start_line']}-{section['end_line']}`"
    return f"# {head} — {where}\n\n{section['text']}\n"


def lines_markdown(data: dict[str, Any]) -> str:
    more = (
        f"\n\n(lines {data['start_line']}-{data['end_line']} of {data['total_lines']}: "
        f"get_note(path={data['path']!r}, from_line={data['next_from_line']}) for more)"
        if data["next_from_line"]
        else ""
    )
    return f"# `{data['path']}:{data['start_line']}-{data['end_line']}`\n\n{data['text']}{more}\n"


def list_markdown(data: dict[str, Any]) -> str:
    first = plural(data["total"], "note") + (f" under {data['prefix']!r}" if data["prefix"] else "")
    lines = [f"{first} in {', '.join(data['folders'])}; {len(data['notes'])} here:"]
    lines += [f"- {n['path']} ({plural(n['sections'], 'section')})" for n in data["notes"]]
    if data["next_cursor"]:
        lines.append(f"More: list_notes(cursor={data['next_cursor']!r}).")
    return "\n".join(lines) + "\n\n" + index_line(data["index"]) + "\n"


def status_markdown(data: dict[str, Any]) -> str:
    lines = [f"Notes folders: {', '.join(data['folders'])}", f"Index: {data['index']}"]
    if data["missing_folders"]:
        lines.append(f"Missing: {', '.join(data['missing_folders'])} (the index is kept as it was).")
    build = data["build"]
    if build["running"]:
        eta = f", about {build['eta_seconds']} s left" if build["eta_seconds"] is not None else ""
        lines.append(f"Updating: {build['percent']:.0f}%{eta} ({build['stage'] or 'starting'}).")
    elif build["error"]:
        lines.append(f"The last update failed: {build['error']}")
    if not data["built"]:
        lines.append("No index yet.")
        return "\n".join(lines) + "\n"
    lines.append(
        f"{plural(data['notes'], 'note')}, {plural(data['sections'], 'section')}, "
        f"{plural(data['snippets'], 'snippet')}; "
        f"built {data['age']} ({data['built_at']})."
    )
    stale = [f"{key} ({kind})" for kind, keys in data["stale"].items() for key in keys]
    lines.append(f"Not in the index yet: {', '.join(stale)}." if stale else "Up to date with the notes.")
    if data["skipped"]:
        lines.append(f"Skipped: {', '.join(f'{k} ({why})' for k, why in data['skipped'].items())}.")
    return "\n".join(lines) + "\n"
