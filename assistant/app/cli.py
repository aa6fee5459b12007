"""`kt`: a thin typer layer over assistant.app.core. Commands parse options, call the core, print."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup


class KtGroup(TyperGroup):
    """Failures a user can meet (no index, a read-only index folder, a bad config file) end in one line on
    stderr and an exit code, never a traceback: 1 for a failure, 2 for a usage error."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as e:
            code = _exit_code(e)
            if code is None:
                raise
            _err(str(e))
            raise typer.Exit(code) from None


def _exit_code(error: Exception) -> int | None:
    from assistant.app.core import NoIndex
    from assistant.config import ConfigError
    from assistant.index.store import IndexError_, IndexUnwritable

    if isinstance(error, ConfigError):
        return 2
    if isinstance(error, NoIndex | IndexUnwritable | IndexError_):
        return 1
    return None


app = typer.Typer(
    cls=KtGroup,
    help="Kubernetes Therapy: answers from your own Kubernetes notes, offline. Run `kt` alone for the REPL.",
    add_completion=True,  # --install-completion, --show-completion: costs nothing measurable at start-up
    no_args_is_help=False,
    invoke_without_command=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

NotesOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--notes",
        metavar="PATH",
        help="Notes folder or file (repeatable). Default: $KT_NOTES, config.toml, the bundled corpus/.",
    ),
]
IndexOpt = Annotated[
    Path | None,
    typer.Option(
        "--index", metavar="DIR", help="Index folder. Default: $KT_INDEX, config.toml, index/ or a per-folder cache."
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _complete_color(incomplete: str) -> list[str]:
    from assistant.config import COLORS

    return [c for c in COLORS if c.startswith(incomplete)]


def _complete_location(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]] | list[str]:
    """`kt open` completes the notes as answers name them (relative to their notes folder), then, after
    FILE:, the line of each section with its heading path: what answers show, not files of the working folder."""
    from assistant.config import ConfigError, resolve
    from assistant.ingest.notes import read_note, scan

    given = [c.params.get("notes") for c in (ctx, ctx.parent) if c is not None]
    try:
        settings = resolve(next((n for n in given if n), None))
    except ConfigError:
        return []
    notes = {note.key: note for note in scan(list(settings.notes))}
    key, colon, _ = incomplete.rpartition(":")
    if colon and key in notes:
        from assistant.ingest.chunks import chunk_file
        from assistant.views.terminal import heading_path

        try:
            chunks = chunk_file(read_note(notes[key])[0], key)
        except Exception:  # a note the index would skip has no lines to offer; a completion never fails loudly
            return []
        lines = {c.start_line: heading_path(c.headings) for c in chunks}
        return [(f"{key}:{line}", heading) for line, heading in sorted(lines.items())]
    return [k for k in sorted(notes) if k.startswith(incomplete)]


def _set_color(value: str | None) -> str | None:
    if value is not None:  # given after the command (`kt ask … --color never`): it wins, like --notes there
        _TOP["color"] = value
    return value


ColorOpt = Annotated[
    str | None,
    typer.Option(
        "--color",
        metavar="WHEN",
        callback=_set_color,
        autocompletion=_complete_color,
        help="auto, always or never (as before the command).",
    ),
]
# Options of the top-level callback that every command's settings need (reset on each invocation).
_TOP: dict[str, Any] = {}


def _print_version(value: bool) -> None:
    if value:
        from assistant import __version__

        print(f"kt {__version__}")
        raise typer.Exit()


def _err(message: str) -> None:
    from assistant.app.core import say

    say(message)


def _progress(color: str) -> Any:
    """A rich progress bar on stderr for long work (index builds), silent when stderr is not a terminal. It
    appears only once an update has run for half a second (quick updates do not flash), and is gone when the
    update ends: the core signals the end with the stage "done", whatever happened."""
    if not sys.stderr.isatty():
        return None
    import time

    state: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        bar = state.get("bar")
        if stage in ("writing index", "done"):
            if bar is not None:
                bar.stop()  # transient: the bar's lines are erased, nothing stale stays on screen
            state.clear()
            return
        started = state.setdefault("started", time.monotonic())
        if bar is None:
            if time.monotonic() - started < 0.5:
                return
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            from assistant.views.terminal import make_console

            bar = state["bar"] = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=make_console(color, stderr=True),
                transient=True,
            )
            state["tasks"] = {}
            bar.start()
        tasks = state["tasks"]
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total)
        bar.update(tasks[stage], completed=done, total=total)

    return update


def _settings(notes: list[Path] | None, index: Path | None) -> Any:
    from assistant.config import resolve

    settings = resolve(notes, index, color=_TOP.get("color"))
    for notice in settings.notices:  # stderr: stdout may be JSON, or kt mcp's JSON-RPC
        _err(notice)
    return settings


def _assistant(notes: list[Path] | None, index: Path | None, one_shot: bool = False) -> Any:
    from assistant.app.core import Assistant
    from assistant.ingest.notes import notes_problem

    settings = _settings(notes, index)
    if problem := notes_problem(list(settings.notes)):
        _err(problem)
        raise typer.Exit(1)
    return Assistant(settings, progress=_progress(settings.color), one_shot=one_shot)


def _console(color: str, **options: Any) -> Any:
    """A console for answers and reports, in the colour setting (`--color`, KT_COLOR, NO_COLOR, config.toml)."""
    from assistant.views.terminal import make_console

    return make_console(color, **{"highlight": False, "soft_wrap": False, **options})


@app.callback()
def main_callback(
    ctx: typer.Context,
    notes: NotesOpt = None,
    index: IndexOpt = None,
    color: Annotated[
        str | None,
        typer.Option(
            "--color",
            metavar="WHEN",
            autocompletion=_complete_color,
            help="auto, always or never. Default: $KT_COLOR, color in config.toml, auto.",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", "-V", callback=_print_version, is_eager=True, help="Print kt's version and exit."),
    ] = False,
) -> None:
    """With no command, kt opens the interactive REPL."""
    _TOP.clear()
    _TOP["color"] = color
    if ctx.invoked_subcommand is None:
        from assistant.app.repl import run_repl

        assistant = _assistant(notes, index)
        raise typer.Exit(run_repl(assistant))
    ctx.obj = (notes, index)


def _common(ctx: typer.Context, notes: list[Path] | None, index: Path | None) -> tuple[Any, Any]:
    parent_notes, parent_index = ctx.obj or (None, None)
    return notes or parent_notes, index or parent_index


@app.command()
def ask(
    ctx: typer.Context,
    question: Annotated[
        str | None,
        typer.Argument(metavar="[QUESTION]", help="The question. Omit it to read one per line from stdin."),
    ] = None,
    k: Annotated[
        int | None,
        typer.Option(
            "-k",
            "--top",
            min=1,
            max=50,
            metavar="N",
            help="How many passages and snippets (1–50). Default: top_k, or 5.",
        ),
    ] = None,
    as_json: JsonOpt = False,
    as_md: Annotated[bool, typer.Option("--md", help="Print Markdown (fenced code), to paste into a ticket.")] = False,
    full: Annotated[bool, typer.Option("--full", help="Show everything: no folding, whole passages.")] = False,
    notes: NotesOpt = None,
    index: IndexOpt = None,
    color: ColorOpt = None,
) -> None:
    """Answer a question from your notes: the matching commands and YAML first, then the passages.

    In a terminal the answer fits the screen (--full shows everything); piped, it is plain text. Without a
    QUESTION, one per line is read from stdin; with --json, each input line gets exactly one output line (a blank
    line gets {"question": "", "error": "empty question"})."""
    if as_json and as_md:
        _err("--json and --md do not go together: choose one")
        raise typer.Exit(2)
    assistant = _assistant(*_common(ctx, notes, index), one_shot=question is not None)
    questions = _questions(question, as_json)
    assistant.refresh()
    # --color always: the terminal view even into a pipe (`kt --color always ask … | less -R`)
    terminal = not (as_json or as_md) and (sys.stdout.isatty() or assistant.settings.color == "always")
    for n, q in enumerate(questions):
        if not q:
            print(json.dumps({"question": "", "error": "empty question"}), flush=True)
            continue
        answer = assistant.ask(q, k=k)
        if as_json:
            print(json.dumps(answer.to_json(), ensure_ascii=False), flush=True)
        elif terminal:
            from assistant.views.terminal import file_links, render_answer

            console = _console(assistant.settings.color)
            render_answer(answer, console, full=full, hint="cli", link=file_links(assistant.folders))
        else:
            from assistant.views.plain import markdown, plain_text

            print(("\n" if n else "") + (markdown if as_md else plain_text)(answer, full=full), end="", flush=True)


def _questions(question: str | None, as_json: bool) -> list[str]:
    """The question given, or one per line of stdin (with --json a blank line too: it gets an error object)."""
    if question is None:
        if sys.stdin.isatty():
            _err("give a QUESTION, or pipe questions in, one per line")
            raise typer.Exit(2)
        # --json pairs lines: one JSON line out per line in, a blank line answered by an error object
        return [line.strip() for line in sys.stdin if as_json or line.strip()]
    if not question.strip():
        _err("the question is empty")
        raise typer.Exit(2)
    return [question]


@app.command("index")
def index_cmd(
    ctx: typer.Context,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Re-embed everything.")] = False,
    as_json: JsonOpt = False,
    notes: NotesOpt = None,
    index: IndexOpt = None,
    color: ColorOpt = None,
) -> None:
    """Build or update the index: only new or edited notes are re-embedded."""
    assistant = _assistant(*_common(ctx, notes, index), one_shot=True)  # bulk embedding: prepacking gains nothing
    report = assistant.update(force=rebuild)
    if as_json:
        print(json.dumps(report.to_json()))
        return
    from assistant.app.core import plural
    from assistant.app.status import files_count

    print(
        f"{len(report.added)} added, {len(report.changed)} changed, {len(report.removed)} removed, "
        f"{len(report.skipped)} skipped; {plural(report.embedded, 'text')} embedded; "
        f"{files_count(report.files, report.without_passages)}, "
        f"{plural(report.chunks, 'chunk')}, {plural(report.snippets, 'snippet')} ({report.seconds:.1f} s)"
    )


@app.command()
def status(
    ctx: typer.Context,
    all_indexes: Annotated[
        bool, typer.Option("--all", help="List every index under the cache dir: notes, size, last built and used.")
    ] = False,
    as_json: JsonOpt = False,
    notes: NotesOpt = None,
    index: IndexOpt = None,
    color: ColorOpt = None,
) -> None:
    """Show the notes folders, the index and which notes changed since it was built."""
    if all_indexes:
        _list_indexes(_settings(*_common(ctx, notes, index)).index, as_json)
        return
    assistant = _assistant(*_common(ctx, notes, index), one_shot=True)
    info = assistant.status()
    if as_json:
        print(json.dumps(info.to_json()))
        return
    from assistant.views.terminal import sanitize

    for line in info.lines():  # file names come from the user's notes: neutralise escape sequences
        print(sanitize(line))


def _list_indexes(current: Path, as_json: bool) -> None:
    from assistant.index.indexes import cache_root, cached_indexes, human_size
    from assistant.views.terminal import sanitize

    found = cached_indexes(current)
    if as_json:
        print(json.dumps({"cache": str(cache_root()), "indexes": [i.to_json() for i in found]}))
        return
    print(sanitize(f"indexes under {cache_root()}:" if found else f"no indexes under {cache_root()}"))
    for i in found:
        used = time.strftime("%Y-%m-%d %H:%M", time.localtime(i.used))
        mark = " (current)" if i.current else ""
        print(sanitize(f"{i.path.name}  {human_size(i.size)}, built {i.built_at or 'never'}, used {used}{mark}"))
        for folder in i.notes or ["(unknown: the index never finished or is damaged)"]:
            print(sanitize(f"  notes: {folder}{' (gone)' if folder in i.gone else ''}"))
    if found:
        gone = sum(1 for i in found if i.gone and not i.current)
        total = f"{len(found)} {'index' if len(found) == 1 else 'indexes'}, {human_size(sum(i.size for i in found))}"
        print(total + (f"; {gone} with notes gone: `kt prune` removes them" if gone else ""))


@app.command()
def prune(
    ctx: typer.Context,
    older_than: Annotated[
        int | None,
        typer.Option("--older-than", min=0, metavar="DAYS", help="Also remove indexes not used for DAYS days."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be removed, remove nothing.")] = False,
    as_json: JsonOpt = False,
    notes: NotesOpt = None,
    index: IndexOpt = None,
    color: ColorOpt = None,
) -> None:
    """Remove the indexes under the cache dir whose notes are gone (and, with --older-than, those unused for that
    many days). The index of the current notes is never removed; `kt status --all` lists them all."""
    from assistant.index.indexes import human_size
    from assistant.index.indexes import prune as prune_indexes
    from assistant.views.terminal import sanitize

    current = _settings(*_common(ctx, notes, index)).index
    removed, skipped = prune_indexes(current, older_than, dry_run)
    freed = sum(i.size for i, _ in removed)
    if as_json:
        out = {
            "dry_run": dry_run,
            "removed": [{**i.to_json(), "reason": why} for i, why in removed],
            "skipped": [{**i.to_json(), "reason": why} for i, why in skipped],
            "freed": freed,
        }
        print(json.dumps(out))
        return
    verb = "would remove" if dry_run else "removed"
    for i, why in removed:
        print(sanitize(f"{verb} {i.path} ({why}), {human_size(i.size)}"))
    for i, why in skipped:
        print(sanitize(f"kept {i.path}: {why}"))
    if removed:
        print(f"{verb} {len(removed)} {'index' if len(removed) == 1 else 'indexes'}, "
              f"{'would free' if dry_run else 'freed'} {human_size(freed)}")  # fmt: skip
    else:
        print("nothing to remove" + ("" if older_than is not None else " (--older-than DAYS removes unused ones)"))


@app.command("open")
def open_cmd(
    ctx: typer.Context,
    location: Annotated[
        str,
        typer.Argument(
            autocompletion=_complete_location,
            help="FILE:LINE as answers show it (kubernetes-therapy.md:42), or a note's path.",
        ),
    ],
    edit: Annotated[bool, typer.Option("--edit", help="Open it in $VISUAL or $EDITOR at that line.")] = False,
    notes: NotesOpt = None,
    index: IndexOpt = None,
    color: ColorOpt = None,
) -> None:
    """Print the section of your notes at FILE:LINE (what :open N shows in the REPL), or edit it there."""
    from assistant.app.core import NotInNotes
    from assistant.views.sources import editor_argv, parse_location, print_section

    try:
        where, line = parse_location(location)
    except ValueError as e:
        _err(str(e))
        raise typer.Exit(2) from None
    assistant = _assistant(*_common(ctx, notes, index), one_shot=True)
    assistant.refresh()
    try:
        file, section = assistant.lookup.section_at(where, line)
    except NotInNotes as e:
        _err(str(e))
        raise typer.Exit(1) from None
    if not edit:
        print_section(file, section, _console(assistant.settings.color, soft_wrap=True))  # long lines intact, piped
        return
    argv = editor_argv(file, line)
    if argv is None:
        _err("no editor: set $VISUAL or $EDITOR (e.g. export EDITOR=vim)")
        raise typer.Exit(1)
    import subprocess

    try:
        raise typer.Exit(subprocess.call(argv))
    except FileNotFoundError:
        _err(f"editor not found: {argv[0]} (from $VISUAL or $EDITOR)")
        raise typer.Exit(1) from None


@app.command()
def watch(
    ctx: typer.Context,
    debounce: Annotated[
        int, typer.Option(min=0, max=60_000, metavar="MS", help="Milliseconds to wait for edits to settle (0–60000).")
    ] = 500,
    notes: NotesOpt = None,
    index: IndexOpt = None,
    color: ColorOpt = None,
) -> None:
    """Keep the index fresh while notes change: one line per update (time, files, chunks embedded). Ctrl-C stops."""
    from assistant.app.watch import watch_notes

    assistant = _assistant(*_common(ctx, notes, index))
    try:
        watch_notes(assistant, debounce_ms=debounce, echo=lambda line: print(line, flush=True))
    except KeyboardInterrupt:
        print("stopped watching", flush=True)


@app.command()
def mcp(ctx: typer.Context, notes: NotesOpt = None, index: IndexOpt = None, color: ColorOpt = None) -> None:
    """Serve the notes to coding agents and editors: a Model Context Protocol server on stdio."""
    from assistant.app.mcp_server import serve  # the MCP SDK and pydantic load only here

    serve(_assistant(*_common(ctx, notes, index)))


@app.command("eval")
def eval_cmd(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Question set (JSON Lines).")],
    as_json: JsonOpt = False,
    halves: Annotated[bool, typer.Option("--halves", help="Also score each half of the set (md5 of the id).")] = False,
    notes: NotesOpt = None,
    index: IndexOpt = None,
    color: ColorOpt = None,
) -> None:
    """Score a question set (seed, docs or CKAD format): hit@k, MRR@10, command hits, and the misses."""
    from assistant.app.evaluate import evaluate, render_report

    assistant = _assistant(*_common(ctx, notes, index))
    try:
        report = evaluate(assistant, file, halves=halves)
    except ValueError as e:
        _err(str(e))
        raise typer.Exit(1) from None
    if as_json:
        print(json.dumps(report))
    else:
        render_report(report, _console(assistant.settings.color))


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        _interrupted()
        raise SystemExit(130) from None
    except SystemExit as e:  # typer turns Ctrl-C into a silent exit 130: find it in the exception's chain
        cause: BaseException | None = e
        while cause is not None and not isinstance(cause, KeyboardInterrupt):
            cause = cause.__cause__ or cause.__context__
        if cause is not None:
            _interrupted()
        raise


def _interrupted() -> None:
    """Ctrl-C says so; an index build keeps what it embedded (the journal) and the next run resumes from it."""
    _err("interrupted (an unfinished index build resumes from the vectors already embedded)")


if __name__ == "__main__":
    main()
