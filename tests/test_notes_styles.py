"""Anyone's notes, not just ours: an Obsidian vault, a repo of runbooks with a virtualenv and a .gitignore, and
shell blocks with prompts and output come through as cleanly as the bundled notes."""

from __future__ import annotations

from pathlib import Path

from assistant.ingest.chunks import MAX_CHUNK_CHARS, chunk_markdown
from assistant.ingest.notes import scan

VAULT_NOTE = (
    "---\ntags: [k8s, storage]\naliases: [pvc]\n---\r\n\r\n"
    "> [!TIP] Claims bind to volumes\r\n> A claim stays Pending until a volume matches.\r\n\r\n"
    "---\r\n\r\n![[pvc-flow.png]]\r\n\r\n## Resize a claim\r\n\r\nEdit the claim's storage request.\r\n"
)


def test_a_note_without_a_title_takes_its_file_name() -> None:
    chunks = chunk_markdown(VAULT_NOTE, "Storage/Persistent Volume Claims.md")
    assert [c.headings for c in chunks] == [
        ("Persistent Volume Claims",),
        ("Persistent Volume Claims", "Resize a claim"),
    ]
    with_h1 = chunk_markdown("# Claims\n\ntext\n", "Storage/Persistent Volume Claims.md")
    assert with_h1[0].headings == ("Claims",)  # a note's own title wins


def test_breaks_and_image_embeds_alone_are_no_passage() -> None:
    text = "# Gallery\n\n## One\n\n---\n\n## Two\n\n![[diagram.png]]\n\n![flow](flow.svg)\n\n## Three\n\nWords.\n"
    assert [c.headings[-1] for c in chunk_markdown(text, "g.md")] == ["Three"]


def test_prompts_mark_commands_and_the_lines_after_them_are_output() -> None:
    text = (
        "# Minikube\n\n```console\n$ minikube ip\n192.168.59.100\n$ kubectl get svc \\\n    -A\n"
        "NAME         TYPE        CLUSTER-IP\nkubernetes   ClusterIP   10.96.0.1\n```\n"
    )
    codes = [s.code for c in chunk_markdown(text, "m.md") for s in c.snippets]
    assert codes == ["$ minikube ip\n", "$ kubectl get svc \\\n    -A\n"]


def test_a_run_of_comments_labels_with_the_nearest_one() -> None:
    text = (
        "# Ops\n\n```bash\n# NAME   READY\n# web    1/1\n\n# Restart the web deployment\n"
        "kubectl rollout restart deploy/web\n\nkubectl get pods\n```\n"
    )
    labels = {s.code.split()[1]: s.label for c in chunk_markdown(text, "o.md") for s in c.snippets}
    assert labels["rollout"] == "Restart the web deployment"


def test_a_repo_checkout_leaves_out_virtualenvs_packages_and_ignored_files(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "docs").mkdir(parents=True)
    (repo / "docs" / "runbook.md").write_text("# Runbook\n\nDrain first.\n")
    (repo / "venv" / "lib" / "site-packages" / "pip-24.0.dist-info").mkdir(parents=True)
    (repo / "venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (repo / "venv" / "lib" / "site-packages" / "pip-24.0.dist-info" / "AUTHORS.txt").write_text("people\n")
    (repo / "env2" / "lib").mkdir(parents=True)  # a virtualenv by its pyvenv.cfg, whatever its name
    (repo / "env2" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (repo / "env2" / "lib" / "README.md").write_text("# vendored\n")
    (repo / "node_modules" / "left-pad").mkdir(parents=True)
    (repo / "node_modules" / "left-pad" / "README.md").write_text("# left-pad\n")
    (repo / "build").mkdir()
    (repo / "build" / "out.md").write_text("# generated\n")
    (repo / "docs" / "draft.md").write_text("# Draft\n")
    (repo / ".gitignore").write_text("build/\n")
    (repo / "docs" / ".ktignore").write_text("draft.md\n")
    (repo / ".github").mkdir()
    (repo / ".github" / "SKILL.md").write_text("# hidden\n")
    skipped: dict[str, str] = {}
    keys = [n.key for n in scan([repo], [], skipped)]
    assert keys == ["docs/runbook.md"]
    assert skipped == {
        ".github/": "hidden folder",
        "build/": "listed in .gitignore or .ktignore",
        "docs/draft.md": "listed in .gitignore or .ktignore",
        "env2/": "a Python virtualenv, not notes",
        "node_modules/": "installed packages, not notes",
        "venv/": "a Python virtualenv, not notes",
    }


def test_a_folder_readme_is_named_by_its_folder() -> None:
    from assistant.ingest.chunks import note_title

    assert note_title("runbooks/etcd-backup/README.md") == "etcd backup"
    assert note_title("docs/networking/_index.md") == "networking"
    assert note_title("README.md") == "README"


def _ports_table(rows: int) -> str:
    lines = ["| port | protocol | component | what it is for |", "|---:|---|---|---|"]
    lines += [
        f"| {30000 + n} | TCP | service-{n:03d} | NodePort of the team's service number {n:03d} |" for n in range(rows)
    ]
    return "\n".join(lines) + "\n"


def test_a_big_table_is_split_by_rows_each_piece_with_its_header() -> None:
    text = "# Network\n\n## Ports\n\nOpen these ports:\n\n" + _ports_table(120) + "\nThat is all.\n"
    chunks = chunk_markdown(text, "runbooks/ports.md")
    lines = text.splitlines()
    assert len(chunks) > 5
    assert all(len(c.text) <= MAX_CHUNK_CHARS + 200 for c in chunks)
    assert all(c.headings == ("Network", "Ports") for c in chunks)
    assert chunks[0].start_line == 3 and chunks[0].text.startswith("Open these ports:\n\n| port |")
    for c in chunks[1:]:
        body = c.text.splitlines()
        assert body[:2] == lines[6:8]  # the header row and the separator
        assert lines[c.start_line - 1] == body[2]  # the start line is the piece's first row
    rows = [row for c in chunks for row in c.text.splitlines() if row.startswith("| 3")]
    assert rows == lines[8:128]  # every row once, in order
    assert chunks[-1].text.endswith(
        "| 30119 | TCP | service-119 | NodePort of the team's service number 119 |\n\nThat is all."
    )


def test_a_small_table_stays_one_block() -> None:
    text = "# Ports\n\n" + _ports_table(3)
    [chunk] = chunk_markdown(text, "ports.md")
    assert chunk.text == _ports_table(3).rstrip("\n")


VAULTS = Path(__file__).parent / "data" / "vaults"


def _chunks(vault: str, key: str) -> list:  # type: ignore[type-arg]
    return chunk_markdown((VAULTS / vault / key).read_text(), key)


def test_callouts_read_as_titled_notes_in_passages_and_key_points() -> None:
    from assistant.answer.keypoints import candidate_lines

    first, resize = _chunks("obsidian", "Storage/Persistent Volume Claims.md")
    assert first.text.startswith("> Claims bind to volumes  \n> A claim stays Pending until a volume")  # hard break
    assert "[!" not in first.text + resize.text
    assert resize.text.endswith(
        "> Warning  \n> Shrinking a claim is not supported: the API server rejects a smaller storage request."
    )
    points = [line for line, _ in candidate_lines(first.text)]
    assert points == ["A claim stays Pending until a volume with enough capacity and a matching access mode exists."]
    # a callout is an aside: the command after it is labelled by its section, not by the callout's text
    [drain] = _chunks("obsidian", "Team/Node Drain.md")
    assert [s.label for s in drain.snippets] == ["Node Drain"]


def test_wikilinks_read_as_their_text_and_are_recorded_as_links() -> None:
    from assistant.ingest.texts import chunk_lexical_text

    _, resize = _chunks("obsidian", "Storage/Persistent Volume Claims.md")
    assert "see the class settings\nand Team/Node Drain before moving the pod." in resize.text
    assert "[[" not in chunk_lexical_text(resize) and "[[" not in resize.embed_text
    assert resize.links == ("Storage Classes", "Team/Node Drain")
    [drain] = _chunks("obsidian", "Team/Node Drain.md")
    assert "See claims." in drain.text and drain.links == ("Persistent Volume Claims",)
    # an embed stays an embed (no passage of its own), a link in code is code
    text = "# Links\n\n![[diagram.png]]\n\n```bash\necho '[[x]]'\n```\n\nSee [[Pods#Lifecycle]].\n"
    [chunk] = chunk_markdown(text, "links.md")
    assert "![[diagram.png]]" in chunk.text and "echo '[[x]]'" in chunk.text and "See Pods > Lifecycle." in chunk.text
    assert chunk.links == ("Pods",)


def test_diagrams_output_and_bold_labels_are_never_key_points_or_excerpts() -> None:
    from assistant.answer.excerpt import excerpt
    from assistant.answer.keypoints import candidate_lines

    [flow] = _chunks("obsidian", "Diagrams/Ingress flow.md")
    assert "flowchart" not in flow.text and "Metrics" not in flow.text  # a {{< mermaid >}} diagram's source
    assert "```mermaid\ngraph LR\n" in flow.text  # a fenced one stays, byte-exact
    assert [s.lang for s in flow.snippets] == ["shell"]  # no diagram offered to run
    assert [s.code for s in flow.snippets] == ["kubectl get ingress -A\n"]  # its output is not part of it
    points = [line for line, _ in candidate_lines(flow.text)]
    assert points == [
        "How a request reaches a pod through the ingress controller and the service in front of the pods.",
        "The ingress controller logs each request it routes to a service, with the status code it got back.",
    ]
    for question in ("ingress request client service pod", "ingress namespace web shop nginx hosts address ports"):
        for line in excerpt(flow.text, question, n=3):
            assert "<br" not in line and "-->" not in line and "NAMESPACE" not in line and "shop.example" not in line
            assert not line.startswith("**")


def test_a_template_that_runs_later_offers_no_placeholder() -> None:
    from assistant.answer.placeholders import find_placeholders

    [alerting] = _chunks("runbooks", "alerting/alertmanager.md")
    assert [find_placeholders(s.code, s.lang) for s in alerting.snippets] == [[], []]
    assert find_placeholders("summary: '{{ $labels.instance }} is down'\n") == []
    assert find_placeholders('image: {{ .Values.image | default "nginx" }}\n') == [
        '{{ .Values.image | default "nginx" }}'
    ]


def test_labels_are_one_sentence_of_the_nearest_comment_never_output() -> None:
    [chunk] = _chunks("runbooks", "shell/output.md")
    got = [(s.label, s.code) for s in chunk.snippets]
    assert got == [
        ("Restart the web deployment", "kubectl rollout restart deploy/web\n"),  # not the wrapped paragraph
        ("Watch it", "kubectl rollout status deploy/web\n"),  # kubectl's report is output
        ("Checking a rollout", "$ kubectl get pods -l app=web\n"),  # the prompt's output is not offered either
    ]
    yaml_text = (
        "# Pods\n\n```yaml\n# A pod for the demo. It runs nginx\n# on port 80 and nothing else.\n"
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n```\n"
    )
    [pod] = chunk_markdown(yaml_text, "p.md")
    assert pod.snippets[0].label == "A pod for the demo (Pod web)"


def _vault_assistant(vault: str, tmp_path: Path, embedder):  # type: ignore[no-untyped-def]
    import shutil

    from assistant.app.core import Assistant
    from assistant.config import Settings

    notes = tmp_path / vault
    shutil.copytree(VAULTS / vault, notes)
    assistant = Assistant(Settings((notes,), tmp_path / "index"), notice=lambda m: None, embedder=embedder)
    return assistant, assistant.update()


def test_the_same_passage_in_two_files_shows_once_with_both_sources(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    from assistant.views.plain import markdown, plain_text
    from assistant.views.terminal import passage_view

    assistant, _ = _vault_assistant("runbooks", tmp_path, embedder)
    answer = assistant.ask("take a snapshot of etcd before an upgrade", k=5)
    texts = [h.chunk.text for h in answer.passages]
    assert len(texts) == len(set(texts))
    [snap] = [h for h in answer.passages if h.chunk.headings[-1] == "Take a snapshot"]
    other = "README.md" if snap.chunk.path == "docs/etcd-backup.md" else "docs/etcd-backup.md"
    assert snap.also_in == ((other, {"README.md": 5, "docs/etcd-backup.md": 3}[other]),)
    data = answer.to_json()["passages"][snap.rank - 1]
    assert data["also_in"] == [{"path": other, "start_line": snap.also_in[0][1]}]
    assert f"(also in {other}:{snap.also_in[0][1]})" in plain_text(answer)
    assert f"(also in {other}:{snap.also_in[0][1]})" in markdown(answer)
    assert f"(also in {other}:{snap.also_in[0][1]})" in passage_view(snap, answer.question, False, 200).plain
    # deterministic: the same answer again, and the next page holds no copy of a passage shown before
    assert [h.chunk.path for h in assistant.ask("take a snapshot of etcd before an upgrade", k=5).passages] == [
        h.chunk.path for h in answer.passages
    ]


def test_a_passage_inside_a_larger_one_is_one_result() -> None:
    from assistant.rank.search import same_text, text_key

    section = (
        "Drain the node first.\n\n```bash\n# Drain it\nkubectl drain node-3 --ignore-daemonsets\n```\n\nThen patch it."
    )
    group = "# Drain it\nkubectl drain node-3 --ignore-daemonsets"
    assert same_text(text_key(group), text_key(section))
    assert not same_text(text_key("kubectl drain"), text_key(section))  # a few words in common are no copy
    assert not same_text(text_key("Drain the node first and"), text_key(section))  # a part of a line is not


def test_status_index_and_list_notes_count_the_same_files(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    from assistant.app.mcp_tools import NotesTools

    assistant, report = _vault_assistant("obsidian", tmp_path, embedder)
    assert report.files == 5 and report.without_passages == ["Inbox/empty idea.md"]
    info = assistant.status()
    assert info.files == 5 and info.without_passages == ["Inbox/empty idea.md"]
    markdown, listed = NotesTools(assistant, watch=False).list_notes()
    assert listed["total"] == 5 and {"path": "Inbox/empty idea.md", "sections": 0} in listed["notes"]
    assert markdown.startswith("5 notes in ")


def test_a_wikilink_names_the_note_it_points_at(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    assistant, _ = _vault_assistant("obsidian", tmp_path, embedder)
    answer = assistant.ask("resize a persistent volume claim", k=5)
    [resize] = [h for h in answer.passages if h.chunk.headings[-1] == "Resize a claim"]
    assert resize.links == (
        ("Storage Classes", "Storage/Storage Classes.md"),
        ("Team/Node Drain", "Team/Node Drain.md"),
    )
    assert answer.to_json()["passages"][resize.rank - 1]["links"][0] == {
        "target": "Storage Classes",
        "path": "Storage/Storage Classes.md",
    }
    assert assistant.lookup.note_named("No Such Note") == ""


def test_a_big_list_or_html_table_is_split_by_items_or_rows() -> None:
    items = "".join(
        f"- **field{n:02d}** (string)\n\n  What field {n:02d} of the spec sets, in two lines of text\n"
        "  that say something about it.\n\n"
        for n in range(40)
    )
    text = "# Spec\n\n## Fields\n\n" + items + "```yaml\n" + "key: value\n" * 200 + "```\n"
    chunks = chunk_markdown(text, "reference/spec.md")
    lines = text.splitlines()
    assert all(c.headings == ("Spec", "Fields") for c in chunks)
    pieces = [c for c in chunks if "field" in c.text]
    assert len(pieces) > 3 and all(len(c.text) <= MAX_CHUNK_CHARS for c in pieces)
    assert all(lines[c.start_line - 1].startswith("- **field") for c in pieces[1:])  # each piece at an item
    assert [c for c in chunks if "key: value" in c.text][0].text.count("key: value") == 200  # a fence is whole
    rows = "".join(
        f"<tr><td><code>option{n:02d}</code></td><td>What option {n:02d} does to the kubelet, at length.</td></tr>\n"
        for n in range(40)
    )
    html = (
        "# Kubelet\n\n<table>\n<thead><tr><th>Field</th><th>Description</th></tr></thead>\n<tbody>\n"
        + rows
        + "</tbody>\n</table>\n"
    )
    chunks = chunk_markdown(html, "kubelet.md")
    assert len(chunks) > 1 and all(len(c.text) <= MAX_CHUNK_CHARS for c in chunks)
    assert all(html.splitlines()[c.start_line - 1].startswith("<tr>") for c in chunks[1:])
    assert "".join(c.text for c in chunks).count("What option") == 40


def test_a_symlink_leading_outside_the_notes_is_skipped_and_named(tmp_path: Path) -> None:
    from assistant.ingest.notes import OUTSIDE, scan

    notes, outside = tmp_path / "notes", tmp_path / "elsewhere"
    (notes / "team").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.md").write_text("# Secret\n\nroot:x:0:0\n")
    (notes / "real.md").write_text("# Real\n")
    (notes / "passwd.md").symlink_to(outside / "secret.md")
    (notes / "alias.md").symlink_to(notes / "real.md")  # inside the notes: a note like any other
    (notes / "linked-out").symlink_to(outside, target_is_directory=True)
    (notes / "team" / "up.md").symlink_to(notes / "real.md")
    skipped: dict[str, str] = {}
    keys = sorted(n.key for n in scan([notes], [], skipped))
    assert keys == ["alias.md", "real.md", "team/up.md"]
    assert skipped == {"passwd.md": OUTSIDE, "linked-out/": OUTSIDE}
