"""What an answer looks like: the answer-first terminal view, plain text when piped, Markdown with --md."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from assistant.answer.types import Answer, Warning_
from assistant.app.cli import app
from assistant.app.core import Assistant
from assistant.views.plain import markdown, plain_text
from assistant.views.terminal import CONTINUATION, Shown, code_lines, file_links, file_url, render_answer

runner = CliRunner()
BOX = set("│─╭╮╰╯┏┓┗┛┃━┡┩└┘┌┐├┤┬┴┼╇╈")
ROLLBACK = "undo my last deployment rollout"
COMPARISON = "compare Calico and Flannel"


def args(seed_assistant: Assistant) -> list[str]:
    s = seed_assistant.settings
    return ["--notes", str(s.notes[0]), "--index", str(s.index)]


def screen(answer: Answer, width: int = 100, height: int = 40, **options: object) -> list[str]:
    out = io.StringIO()
    console = Console(file=out, width=width, height=height, color_system=None, highlight=False)
    render_answer(answer, console, **options)  # type: ignore[arg-type]
    return out.getvalue().splitlines()


# --- the terminal view ------------------------------------------------------------------------------------


def test_the_command_comes_first_and_the_answer_fits_one_screen(seed_assistant: Assistant) -> None:
    answer = seed_assistant.ask(ROLLBACK)
    rows = screen(answer, hint="cli")
    assert len(rows) <= 40 - 2  # room left for the shell's command line and the next prompt
    assert rows[0].startswith("[1] Rollback Update  kubernetes-therapy.md:")
    assert rows[1] == "kubectl rollout undo deploy/nginx"
    assert not BOX & set("".join(rows))  # nothing to strip when a command is copied off the screen
    assert ":open" not in "\n".join(rows)  # a one-shot answer only points to what a shell can do
    if any(Shown().hidden(answer)) and len(answer.snippets) > 3:
        assert "kt ask --full" in rows[-1]


def test_every_row_of_the_answer_is_counted(seed_assistant: Assistant) -> None:
    """Long warnings and many passages: the answer still leaves RESERVED_ROWS for the question and the prompt."""
    from assistant.views.terminal import RESERVED_ROWS

    answer = seed_assistant.ask("exec into a pod and run ls")
    for height in (30, 40, 50):
        assert len(screen(answer, height=height, hint="repl")) <= height - RESERVED_ROWS


def test_the_footer_says_how_to_see_the_rest(seed_assistant: Assistant) -> None:
    answer = seed_assistant.ask(ROLLBACK, k=8)
    rows = screen(answer, height=30, hint="cli")
    assert len(rows) <= 28
    assert re.fullmatch(r"\(\d+ more snippets?(, \d+ more passages?)?: kt ask --full shows everything\)", rows[-1])
    rows = screen(answer, height=30, hint="repl")
    assert rows[-1].startswith(":more shows ") and ":open N" in rows[-1]


def test_full_shows_everything(seed_assistant: Assistant) -> None:
    answer = seed_assistant.ask(ROLLBACK)
    full = "\n".join(screen(answer, full=True))
    for s in answer.snippets:
        assert s.snippet.code.splitlines()[-1].strip() in full
    assert "more lines" not in full and "kt ask --full" not in full
    assert len(full.splitlines()) > len(screen(answer))


def test_comparison_table_comes_first_and_is_compact(seed_assistant: Assistant) -> None:
    rows = screen(seed_assistant.ask(COMPARISON), hint="cli")
    head = rows[0].split()
    assert head == ["Calico", "Flannel"]
    table = "\n".join(rows[:16])
    assert "• does not use a overlay network" in table and "169.254.1.1" not in table
    assert "kubernetes-therapy.md:180" in table
    assert len(rows) <= 38


def test_not_relevant_says_so_first_and_shows_the_closest(seed_assistant: Assistant) -> None:
    """Built by hand: the relevance decision is the answers' own; the view must say so when it is False."""
    answer = replace(seed_assistant.ask("a recipe for sourdough bread"), relevant=False)
    rows = screen(answer, hint="repl")
    assert rows[0].startswith("Nothing in your notes answers this")
    assert "closest" in rows[0]
    assert not any(re.match(r"\[\d+\] ", r) for r in rows)  # no commands offered as if they answered
    assert sum(bool(re.match(r"\d+\. \S+:\d+", r)) for r in rows) == 3
    assert plain_text(answer).startswith("Nothing in your notes answers this")
    assert markdown(answer).splitlines()[2].startswith("> **Nothing in your notes answers this")
    for text in (plain_text(answer), markdown(answer)):
        assert "[1]" not in text and len(re.findall(r"^\d+\. ", text, re.M)) == 3


def test_each_warning_is_spelled_out_once(seed_assistant: Assistant) -> None:
    answer = seed_assistant.ask("exec into a pod and run ls")
    exec_rule = "kubectl exec POD COMMAND` without"
    rows = "\n".join(screen(answer, height=200))
    assert rows.count(exec_rule) <= 1
    assert plain_text(answer).count(exec_rule) <= 1
    # By hand, so the test holds whatever is retrieved: one rule twice in snippet 1, then again in snippet 2.
    w = Warning_("r", "`old` is gone.", "new --way", "1.18", "src", 1)
    doubled = replace(answer, warnings=[w, w, replace(w, snippet=2)])
    text = "\n".join(screen(doubled, height=200))
    assert text.count("`old` is gone.") == 1 and text.count("→ new --way") == 1
    assert "see the warning under [1]" in text
    assert plain_text(doubled).count("`old` is gone.") == 1


def test_prose_reads_as_rendered_and_code_as_written(seed_assistant: Assistant) -> None:
    """Key points and excerpts show inline Markdown as a reader of the rendered note sees it: a link's text (the
    web address behind it, a terminal hyperlink), `**strong**` in bold, a `code span` as code; never the raw
    marks. A line of code in an excerpt stays as written."""
    from rich.style import Style

    from assistant.answer.types import KeyPoint
    from assistant.views.terminal import passage_view, prose_text

    answer = seed_assistant.ask(ROLLBACK)
    point = KeyPoint(
        "**Rollback:** run `kubectl rollout undo`, see the [history](/docs/rollout/#history) and"
        " [undo](https://example.org/undo).",
        1,
    )
    rows = screen(replace(answer, key_points=[point]))
    assert any("Rollback: run kubectl rollout undo, see the history and undo." in r for r in rows), rows
    assert not any("](" in r or "**" in r or "`kubectl" in r for r in rows)
    text = prose_text(point.text)
    styles = [(text.plain[span.start : span.end], span.style) for span in text.spans]
    assert styles == [
        ("Rollback:", "bold"),
        ("kubectl rollout undo", "cyan"),
        ("history", Style(underline=True)),
        ("undo", Style(underline=True, link="https://example.org/undo")),
    ]
    for written in ("an image ![diagram](d.png) stays", "a glob *.yaml, 2 * 3", "my__var__name", "odd ** spaced **"):
        assert prose_text(written).plain == written

    from assistant.answer.prose import is_code

    hit = next(h for h in answer.passages if not is_code(h.chunk))  # a section of prose, not a command group
    chunk = replace(hit.chunk, text="Roll **back** with:\n\n```shell\necho **not bold** `date`\n```\n")
    out = io.StringIO()
    Console(file=out, width=100, color_system=None).print(
        passage_view(replace(hit, chunk=chunk), "roll back echo date", False, 100)
    )
    assert "Roll back with:" in out.getvalue() and "echo **not bold** `date`" in out.getvalue(), out.getvalue()


def test_long_command_rows_carry_a_continuation_mark() -> None:
    line = "kubectl exec -it nginx -- ls /path/found/when/running/describe/pod --all-containers=true -c sidecar"
    rows = [r.plain for r in code_lines(line + "\nkubectl get pods", "shell", 40)]
    assert len(rows) > 2 and all(len(r) <= 40 for r in rows)
    assert not rows[0].startswith(CONTINUATION) and all(r.startswith(CONTINUATION) for r in rows[1:-1])
    assert rows[-1] == "kubectl get pods"  # the next command starts a row of its own, unmarked
    assert "".join(r.removeprefix(CONTINUATION) for r in rows[:-1]) == line


def test_long_yaml_is_folded(seed_assistant: Assistant) -> None:
    answer = seed_assistant.ask("a deployment manifest that mounts a persistent volume claim")
    long = [s for s in answer.snippets if len(s.snippet.code.splitlines()) > 20]
    assert long, "the bundled notes hold manifests longer than 20 lines"
    text = "\n".join(screen(answer, height=200, hint="repl"))
    assert f":copy {long[0].rank} copies all" in text


# --- piped and Markdown output ----------------------------------------------------------------------------


def test_piped_output_is_plain_text(seed_assistant: Assistant) -> None:
    result = runner.invoke(app, ["ask", ROLLBACK, *args(seed_assistant)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert not BOX & set(result.stdout)
    assert not [line for line in lines if line != line.rstrip()]  # no padding, no trailing spaces
    assert "kubectl rollout undo deploy/nginx" in lines and "kubectl rollout status deploy/nginx" in lines
    data = json.loads(runner.invoke(app, ["ask", ROLLBACK, "--json", *args(seed_assistant)]).stdout)
    for s in data["snippets"]:  # every line of every snippet intact, on a line of its own
        assert f"[{s['rank']}] {s['label']} ({s['path']}:{s['start_line']})" in lines
        for code_line in s["code"].splitlines():
            assert code_line.rstrip() in lines
    for p in data["passages"]:
        assert any(line.startswith(f"{p['rank']}. {p['path']}:{p['start_line']}  ") for line in lines)


def test_piped_comparison_lists_each_side_with_sources(seed_assistant: Assistant) -> None:
    result = runner.invoke(app, ["ask", COMPARISON, *args(seed_assistant)])
    lines = result.stdout.splitlines()
    calico = lines.index("Calico")
    assert lines[calico + 1].startswith("- does not use a overlay network")
    assert re.search(r"\(kubernetes-therapy\.md:\d+\)$", lines[calico + 1])
    assert "Flannel" in lines


def test_md_fences_the_code(seed_assistant: Assistant) -> None:
    result = runner.invoke(app, ["ask", ROLLBACK, "--md", *args(seed_assistant)])
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.startswith(f"### {ROLLBACK}\n")
    assert "```bash\nkubectl rollout undo deploy/nginx\nkubectl rollout status deploy/nginx\n```" in text
    assert "```yaml\n" in text
    fences = [line for line in text.splitlines() if line.startswith("```")]
    assert len(fences) % 2 == 0 and fences[1::2] == ["```"] * (len(fences) // 2)
    assert "(`kubernetes-therapy.md:" in text
    assert not [line for line in text.splitlines() if line != line.rstrip()]


def test_md_fence_outgrows_backticks_in_the_code(seed_assistant: Assistant) -> None:
    answer = seed_assistant.ask(ROLLBACK)
    s = answer.snippets[0]
    tricky = replace(s, snippet=replace(s.snippet, code="echo ```\nkubectl get pods\n"))
    text = markdown(replace(answer, snippets=[tricky], warnings=[]))
    assert "````bash\necho ```\nkubectl get pods\n````" in text


def test_full_and_json_and_md(seed_assistant: Assistant) -> None:
    both = runner.invoke(app, ["ask", ROLLBACK, "--json", "--md", *args(seed_assistant)])
    assert both.exit_code == 2 and "--json and --md" in both.output
    full = runner.invoke(app, ["ask", ROLLBACK, "--full", *args(seed_assistant)]).stdout
    data = json.loads(runner.invoke(app, ["ask", ROLLBACK, "--json", *args(seed_assistant)]).stdout)
    whole = [line.strip() for line in data["passages"][0]["text"].splitlines() if line.strip()]
    assert all(line in full for line in whole)
    short = runner.invoke(app, ["ask", ROLLBACK, *args(seed_assistant)]).stdout
    assert not all(line in short for line in whole)


def test_plain_output_loads_no_terminal_libraries() -> None:
    """Piping an answer costs what --json costs: plain.py (and what it imports) never loads rich."""
    import subprocess
    import sys

    code = "import sys, assistant.views.plain\nprint(' '.join(m for m in sys.modules if m.split('.')[0] == 'rich'))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == ""


def test_piped_repl_answers_in_plain_text(seed_assistant: Assistant) -> None:
    result = runner.invoke(app, args(seed_assistant), input=f"{ROLLBACK}\n:more\n:copy 1\n")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert not BOX & set(result.stdout) and not [line for line in lines if line != line.rstrip()]
    assert "kubectl rollout undo deploy/nginx" in lines
    assert any(line.startswith("6. ") for line in lines)  # :more went on to the next results, numbered on
    assert "no terminal to copy to; snippet 1 is below:" in result.stdout


def test_not_relevant_without_passages(seed_assistant: Assistant) -> None:
    empty = replace(seed_assistant.ask(ROLLBACK), relevant=False, passages=[], snippets=[], warnings=[])
    assert screen(empty)[0] == "Nothing in your notes answers this."
    assert plain_text(empty) == "Nothing in your notes answers this.\n"


def test_narrow_terminals_still_get_every_character() -> None:
    line = "kubectl annotate pods --all description='a b c' && echo ok-with-a-very-long-word-without-any-spaces-in-it"
    for width in range(1, 30):
        rows = [r.plain for r in code_lines(line, "shell", width)]
        assert "".join(r.removeprefix(CONTINUATION) for r in rows) == line
        assert all(len(r) <= max(width, len(CONTINUATION) + 8) for r in rows)


def test_tiny_screens_do_not_break_the_view(seed_assistant: Assistant) -> None:
    answer = seed_assistant.ask("exec into a pod and run ls")
    for width, height in ((8, 4), (30, 10)):
        assert screen(answer, width=width, height=height, hint="repl")


def test_sources_are_hyperlinks_in_a_terminal_only(seed_assistant: Assistant, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VTE_VERSION", raising=False)
    answer = seed_assistant.ask(ROLLBACK)
    link = file_links(list(seed_assistant.settings.notes))
    first = answer.snippets[0].snippet
    uri = (seed_assistant.settings.notes[0] / first.path).resolve().as_uri()
    out = io.StringIO()
    render_answer(answer, Console(file=out, width=100, height=40, force_terminal=True), link=link)
    assert "\x1b]8;id=" in out.getvalue()  # OSC 8 around file:line, to the file at that line
    assert f";{uri}#{first.start_line}\x1b\\" in out.getvalue()
    assert "\x1b]8;" not in "\n".join(screen(answer, link=link))  # not a terminal: no escape sequences
    assert link("no-such-note.md", 1) is None


def test_a_hyperlink_carries_the_line_where_the_terminal_can_take_it() -> None:
    note = Path("/notes/my pods.md")
    assert file_url(note, 29, {}) == "file:///notes/my%20pods.md#29"  # kitty's open actions, VS Code's opener
    assert file_url(note, 29, {"VTE_VERSION": "7600"}) == "file:///notes/my%20pods.md"  # GLib refuses a '#'


# --- hard-wrapped notes: sentences, not source lines ---------------------------------------------------------

HARD_WRAPPED = """This page shows how to take a node out of service,
optionally respecting the budgets you have defined.

- Cordon the node first so that no new pods land on it
  while you work.
- Then evict what runs there.

Line one ends with a hard break\\
and line two stays apart.

    indented code line one
    indented code line two

```shell
kubectl drain node-1 \\
  --ignore-daemonsets
```
| a | b |
|---|---|

Do | Don't
:--| :---
"""


def test_hard_wrapped_lines_are_joined_into_sentences() -> None:
    from assistant.answer.excerpt import excerpt
    from assistant.answer.keypoints import candidate_lines
    from assistant.answer.prose import is_code, logical_lines, sentences
    from assistant.records import Chunk

    assert logical_lines(HARD_WRAPPED) == [
        "This page shows how to take a node out of service, optionally respecting the budgets you have defined.",
        "- Cordon the node first so that no new pods land on it while you work.",
        "- Then evict what runs there.",
        "Line one ends with a hard break\\",
        "and line two stays apart.",
        "    indented code line one",
        "    indented code line two",
        "```shell",
        "kubectl drain node-1 \\",
        "  --ignore-daemonsets",
        "```",
        "| a | b |",
        "|---|---|",
        "Do | Don't",
        ":--| :---",
    ]
    assert excerpt(HARD_WRAPPED, "take a node out of service", 1) == [logical_lines(HARD_WRAPPED)[0]]
    points = [line for line, _ in candidate_lines(HARD_WRAPPED)]
    assert "Cordon the node first so that no new pods land on it while you work." in points
    manifest = "kind: Pod\nmetadata:\n  name: web-server-with-a-claim\nspec:\n  volumes:\n  - name: data\n"
    assert excerpt(manifest, "pod with a claim", 2, code=True) == ["kind: Pod", "  name: web-server-with-a-claim"]
    assert "name: web-server-with-a-claim" in [line for line, _ in candidate_lines(manifest, code=True)]
    steps = "**Steps:**\n1. Already works at Layer3\n2. Then routes"
    assert excerpt(steps, "layer3", 1) == ["1. Already works at Layer3"]  # the marker stays with its sentence
    assert sentences("Use a CNI, e.g. Calico. It routes. Go.") == ["Use a CNI, e.g. Calico.", "It routes.", "Go."]
    assert is_code(Chunk("pods/web.yaml", 1, 6, ("web.yaml",), manifest))
    assert not is_code(Chunk("notes.md", 1, 6, ("Notes",), HARD_WRAPPED))


def test_command_group_passages_keep_their_lines(seed_assistant: Assistant) -> None:
    """A comment-labelled command group is a passage of its own whose text is the commands, unfenced."""
    from assistant.ingest.chunks import is_group_passage

    answer = seed_assistant.ask(ROLLBACK)
    group = next(h for h in answer.passages if is_group_passage(h.chunk))
    commands = [line for line in group.chunk.text.splitlines() if line.startswith("kubectl ")]
    lines = plain_text(answer).splitlines()
    head = f"{group.rank}. kubernetes-therapy.md:{group.chunk.start_line}  "
    block = lines[next(i for i, line in enumerate(lines) if line.startswith(head)) :]
    assert f"   {commands[0]}" in block[:3] and f"   {commands[1]}" in block[:3]


def test_words_and_tags_are_never_cut() -> None:
    from rich.text import Text

    from assistant.answer.prose import shorten
    from assistant.rank.search import Hit
    from assistant.records import Chunk
    from assistant.views.terminal import NBSP, passage_view, wrap

    assert shorten("Scale the web server out to three replicas", 20) == "Scale the web…"
    assert shorten("a-single-word-much-longer-than-the-limit", 10) == "a-single-…"
    text = Text(f"  • Use a Deployment for the web server, never the replicas flag [passage{NBSP}12]")
    rows = [r.plain for r in wrap(text, 70, indent=4)]
    assert rows == ["  • Use a Deployment for the web server, never the replicas flag", f"    [passage{NBSP}12]"]
    rows = [r.plain for r in wrap(Text("   one two three four five six seven eight nine ten"), 20, 3, rows=2)]
    assert rows == ["   one two three", "   four five six…"]
    assert all(len(r.plain) <= 12 for r in wrap(Text("x" * 30), 12))  # only a word longer than a row breaks
    item = "- assigns a sticky identity to each replica, where deployments give random names"
    rows = passage_view(Hit(1, 0.0, Chunk("n.md", 1, 2, ("N",), item), 0), "sticky identity", False, 50).plain
    assert rows.split("\n")[1:] == [
        "   - assigns a sticky identity to each replica,",
        "     where deployments give random names",
    ]
    (head,) = wrap(Text("1. docs/tasks/run-application/configure-pdb.md:31  Specifying"), 30, rows=1)
    assert head.plain == "1. docs/tasks/run-application…"  # a source path longer than the row: cut, not dropped


def test_plain_and_md_quote_whole_sentences(one_note_assistant) -> None:  # type: ignore[no-untyped-def]
    sentence = "Drain the worker node before the kernel upgrade, or its pods are killed without notice."
    note = "# Nodes\n\n## Kernel upgrades\n\n" + sentence.replace(" before", "\nbefore") + "\n"
    answer = one_note_assistant("nodes.md", note).ask("drain a worker node before a kernel upgrade")
    for text in (plain_text(answer), markdown(answer)):
        assert f"- {sentence} [passage 1]" in text  # the key point
        assert f"   {sentence}" in text.splitlines()  # the passage's excerpt


def test_yaml_folds_around_the_lines_that_match() -> None:
    from assistant.answer.excerpt import fold

    manifest = ["apiVersion: v1", "kind: Pod", "metadata:", "  name: web", "spec:", "  containers:"]
    manifest += [f"  - name: c{i}\n    image: nginx".split("\n")[j] for i in range(10) for j in (0, 1)]
    manifest += ["  volumes:", "  - name: data", "    persistentVolumeClaim:", "      claimName: data"]
    assert fold(manifest, "pod that mounts a pvc", 12) == [(0, 4), (len(manifest) - 7, len(manifest))]
    assert fold(manifest, "what does kind mean", 12) == [(0, 12)]  # the match is among the first lines
    assert fold(manifest, "cooking pasta", 12) == [(0, 12)]  # nothing matches: the first lines
    assert fold(manifest[:12], "pvc", 12) == [(0, 12)]
