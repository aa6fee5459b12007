"""The REPL in a real pseudo-terminal (pexpect) read back as a screen (pyte), 100x40: what a user sees."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistant.app.core import Assistant

pexpect = pytest.importorskip("pexpect")
pyte = pytest.importorskip("pyte")

ROOT = Path(__file__).resolve().parents[1]
COLS, ROWS = 100, 40
PROMPT = "kt> "


class Terminal:
    """`kt` running in a pty of COLS x ROWS; `screen` is what the terminal shows."""

    def __init__(self, assistant: Assistant, kt_home: Path) -> None:
        env = {
            **os.environ,
            "KT_HOME": str(kt_home),
            "PYTHONPATH": str(ROOT),
            "TERM": "xterm-256color",
            "PROMPT_TOOLKIT_NO_CPR": "1",  # pyte does not answer cursor position requests
        }
        for name in ("COLUMNS", "LINES", "NO_COLOR", "KT_NOTES", "KT_INDEX"):
            env.pop(name, None)
        s = assistant.settings
        argv = ["-m", "assistant", "--notes", str(s.notes[0]), "--index", str(s.index)]
        self.screen = pyte.Screen(COLS, ROWS)
        self.stream = pyte.ByteStream(self.screen)
        self.child = pexpect.spawn(sys.executable, argv, env=env, cwd=str(ROOT), dimensions=(ROWS, COLS))
        self.wait_for(PROMPT)

    @property
    def rows(self) -> list[str]:
        return [row.rstrip() for row in self.screen.display]

    @property
    def text(self) -> str:
        return "\n".join(self.rows)

    def wait_for(self, *prompts: str, timeout: float = 90) -> str:
        """Read until the output is quiet and the cursor's row ends with one of `prompts` (nothing typed after
        it); returns that row."""
        deadline = time.monotonic() + timeout
        heard = False  # the prompt of the previous line does not count: wait for output first
        while time.monotonic() < deadline:
            try:
                self.stream.feed(self.child.read_nonblocking(65536, timeout=0.4))
                heard = True
                continue
            except pexpect.TIMEOUT:
                row = self.screen.display[self.screen.cursor.y].rstrip()
                if heard and any(row.endswith(p.rstrip()) for p in prompts):
                    return row
            except pexpect.EOF:
                return ""
        raise AssertionError(f"no {prompts} within {timeout} s; the screen:\n{self.text}")

    def type(self, line: str, then: str = PROMPT) -> str:
        self.child.send(line + "\r")
        self.wait_for(then)
        return self.text

    def close(self) -> None:
        self.child.sendcontrol("d")
        self.child.expect(pexpect.EOF, timeout=20)
        self.child.close()


def spawn(assistant: Assistant, tmp_path: Path) -> Terminal:
    home = tmp_path / "home"
    home.mkdir()
    # the ONNX model export of this test session, so the child does not export it again
    shared = Path(os.environ["KT_HOME"])
    for entry in shared.iterdir():
        if entry.name != "history":
            (home / entry.name).symlink_to(entry)
    return Terminal(assistant, home)


@pytest.fixture
def terminal(seed_assistant: Assistant, tmp_path: Path) -> Iterator[Terminal]:
    t = spawn(seed_assistant, tmp_path)
    yield t
    if t.child.isalive():
        t.close()


@pytest.fixture
def note_terminal(one_note_assistant, tmp_path: Path) -> Iterator[Callable[[str], Terminal]]:  # type: ignore[no-untyped-def]
    """Makes `kt` in a pty over a single note of the test's own."""
    made: list[Terminal] = []

    def make(text: str) -> Terminal:
        made.append(spawn(one_note_assistant("note.md", text), tmp_path))
        return made[-1]

    yield make
    for t in made:
        if t.child.isalive():
            t.close()


def question_row(terminal: Terminal, question: str) -> int:
    rows = [i for i, row in enumerate(terminal.rows) if row == PROMPT + question]
    assert rows, f"the question scrolled off the screen:\n{terminal.text}"
    return rows[-1]


def test_answers_fit_the_screen_with_the_command_in_view(terminal: Terminal) -> None:
    question = "undo my last deployment rollout"
    terminal.type(question)
    top = question_row(terminal, question)  # the whole answer, from its question down, is on the screen
    rows = terminal.rows[top:]
    assert rows[1].startswith("[1] ") and "kubernetes-therapy.md:" in rows[1]
    assert "kubectl rollout undo deploy/nginx" in rows[2:4]
    assert "Passages" in " ".join(rows)
    assert "│" not in terminal.text  # no borders to strip when a command is copied off the screen

    terminal.type(":copy 1")
    assert "copied snippet 1 to the clipboard (2 lines)" in terminal.text

    comparison = "compare Calico and Flannel"
    terminal.type(comparison)
    top = question_row(terminal, comparison)
    assert terminal.rows[top + 1].split() == ["Calico", "Flannel"]
    table = "\n".join(terminal.rows[top : top + 16])
    # Each side's points come from its own labelled list, not from the traffic-flow steps.
    assert "• does not use a overlay network" in table and "169.254.1.1" not in table

    terminal.type("which one is faster?")
    assert "which one is faster)" in terminal.rows[question_row(terminal, "which one is faster?") + 1]

    terminal.type(":open")
    assert ":open N shows the whole section of passage N" in terminal.rows[-2]


def test_numbers_stay_those_on_screen_after_more(terminal: Terminal) -> None:
    terminal.type("kubectl commands to create things")
    first = terminal.text
    assert "[1] " in first
    terminal.type(":more")
    terminal.type(":more")  # past this answer: the next results, numbered on
    after = terminal.text
    if "no more results" not in after:
        assert "[1] " not in after.split(":more")[-1]
    terminal.type(":copy 1")  # still the [1] of the first screen
    assert "copied snippet 1 to the clipboard" in terminal.rows[-2]


def test_warning_once_and_wrapped_commands_marked(terminal: Terminal) -> None:
    question = "exec into a pod and run ls"
    terminal.type(question)
    answer = "\n".join(terminal.rows[question_row(terminal, question) :])
    assert answer.count("without `--`") <= 1
    for i, row in enumerate(terminal.rows):  # a row filled to the edge with code goes on with a ↪ row
        if row.startswith("kubectl ") and len(row) >= COLS - 1:
            assert terminal.rows[i + 1].startswith("↪ ")


def test_fill_values_never_reach_the_history_file(terminal: Terminal, tmp_path: Path) -> None:
    terminal.type("follow the logs of a container")
    numbers = [row.split("]")[0][1:] for row in terminal.rows if row.startswith("[") and "]" in row]
    assert numbers
    terminal.child.send(f":fill {numbers[0]}\r")
    terminal.wait_for("(empty keeps it): ")
    terminal.child.send("s3cr3t-t0ken\r")
    while terminal.wait_for("(empty keeps it): ", PROMPT) != PROMPT.rstrip():  # one prompt per placeholder
        terminal.child.send("\r")
    assert "s3cr3t-t0ken" in terminal.text  # filled in and shown…
    terminal.close()
    (history_file,) = (tmp_path / "home" / "histories").iterdir()  # one history per notes set
    history = history_file.read_text()
    assert "follow the logs of a container" in history and ":fill" in history
    assert "s3cr3t-t0ken" not in history  # …but never written down


def test_unrelated_question_says_nothing_in_your_notes(terminal: Terminal) -> None:
    question = "what goes into a good sourdough starter"
    terminal.type(question)
    rows = terminal.rows[question_row(terminal, question) :]
    assert rows[1].startswith("Nothing in your notes answers this")


# Hard-wrapped at ~60 columns, as the Kubernetes docs are at ~80: one sentence over two lines. Its length puts
# the passage tag at the right edge of a key point's first row.
WRAPPED_NOTE = """# Web servers

## Scale the web server

Scale the web server out to three replicas with a Deployment,
not with old kubectl run.

Older guides still show this form, which current clusters
refuse:

```shell
kubectl run web --image=nginx --replicas=3
```
"""
SENTENCE = "Scale the web server out to three replicas with a Deployment, not with old kubectl run."


def block(rows: list[str], start: int, indent: int) -> list[str]:
    """Row `start` and the rows after it that hang under it (indented by at least `indent` spaces)."""
    end = start + 1
    while end < len(rows) and rows[end].startswith(" " * indent) and rows[end].strip():
        end += 1
    return rows[start:end]


def test_wrapped_prose_and_warnings_break_at_words(note_terminal) -> None:  # type: ignore[no-untyped-def]
    terminal = note_terminal(WRAPPED_NOTE)
    question = "scale the web server to three replicas"
    terminal.type(question)
    rows = terminal.rows[question_row(terminal, question) :]
    # The key point and the passage's excerpt are the whole sentence, not its first source line.
    (point,) = [i for i, row in enumerate(rows) if row.startswith("  • ")]
    point_rows = block(rows, point, 4)
    assert " ".join(r.strip() for r in point_rows) == f"• {SENTENCE} [passage\u00a01]"
    assert "[passage\u00a01]" in point_rows[-1]  # the tag whole, on one row
    (passage,) = [i for i, row in enumerate(rows) if row.startswith("1. note.md:")]
    assert rows[passage + 1] == f"   {SENTENCE}"
    # The warning is all there, wrapped at words, its second row hanging under its text.
    (warning,) = [i for i, row in enumerate(rows) if row.startswith("⚠ ")]
    warning_rows = block(rows, warning, 2)
    assert len(warning_rows) == 3 and warning_rows[1].startswith("  (the flag") and "…" not in "".join(warning_rows)
    assert warning_rows[2].startswith("  → kubectl create deployment")
    assert all(len(r) <= COLS for r in rows)


MANIFEST = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - containerPort: 80
        resources:
          requests:
            cpu: 100m
        readinessProbe:
          httpGet:
            path: /
            port: 80
        volumeMounts:
        - name: pages
          mountPath: /usr/share/nginx/html
      volumes:
      - name: pages
        persistentVolumeClaim:
          claimName: web-pages
"""
STORAGE_NOTE = f"""# Storage

## A web server that keeps its files

The web server keeps its pages on a claim, so they outlive the pod.

```yaml
{MANIFEST}```
"""


def test_folded_yaml_shows_the_lines_the_question_asks_for(note_terminal) -> None:  # type: ignore[no-untyped-def]
    terminal = note_terminal(STORAGE_NOTE)
    question = "deployment yaml that mounts a pvc"
    terminal.type(question)
    rows = terminal.rows[question_row(terminal, question) + 1 :]
    assert rows[0].startswith("[1] ")
    lines = MANIFEST.splitlines()
    assert rows[1:5] == lines[:4]  # the head: apiVersion, kind, metadata name
    gap = next(i for i, row in enumerate(rows) if row.startswith("… "))
    hidden = int(rows[gap].split()[1])
    assert gap == 5 and rows[gap] == f"… {hidden} lines"
    window = rows[gap + 1 : rows.index("(:copy 1 copies all)")]
    assert window == lines[4 + hidden :]  # byte-exact, down to the claim
    assert "          claimName: web-pages" in window and "        volumeMounts:" in window
    assert 4 + 1 + len(window) <= 12  # no more rows than the first lines would take


STEPS = "".join(f"- Step {n}: check item {n} of the restore list on the control plane node.\n" for n in range(1, 61))
RUNBOOK = f"# Runbook\n\n## Restore the cluster from a backup\n\nRestore the cluster from its etcd backup:\n\n{STEPS}"


def test_open_pages_a_long_section(note_terminal) -> None:  # type: ignore[no-untyped-def]
    terminal = note_terminal(RUNBOOK)
    terminal.type("restore the cluster from an etcd backup")
    terminal.type(":open 1")
    top = question_row(terminal, ":open 1")  # the command, and the section's header under it, stay on screen
    assert terminal.rows[top + 1].startswith("note.md:3  Runbook › Restore the cluster from a backup")
    rest = [row for row in terminal.rows if row.startswith("-- :more for the rest (")]
    assert len(rest) == 1 and "- Step 60:" not in terminal.text
    terminal.type(":more")
    top = question_row(terminal, ":more")
    page = terminal.rows[top + 1 :]
    assert page[0].startswith("- Step ") and "- Step 60: check item 60" in "\n".join(page)
    assert not any(row.startswith("-- :more") for row in page)
    shown = [int(row.split()[2][:-1]) for row in terminal.rows if row.startswith("- Step ")]
    assert shown == sorted(shown)  # the section goes on where the first screen stopped
