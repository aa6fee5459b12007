"""Chunking facts on the seed notes and on small documents written for each rule."""

from __future__ import annotations

from assistant.ingest.chunks import chunk_file, chunk_markdown, is_group_passage
from assistant.ingest.markup import clean_markup
from tests.conftest import SEED

SEED_TEXT = SEED.read_text()
SEED_LINES = SEED_TEXT.splitlines()


def seed_chunks():  # type: ignore[no-untyped-def]
    return chunk_markdown(SEED_TEXT, "kubernetes-therapy.md")


def by_heading(title: str):  # type: ignore[no-untyped-def]
    return [c for c in seed_chunks() if c.headings and c.headings[-1] == title]


def test_heading_path_and_lines() -> None:
    (chunk,) = [c for c in by_heading("Network Plugins") if "Overlay Networks" in c.text]
    assert chunk.headings == ("Kubernetes Deep Dives", "Network Plugins")
    assert chunk.path == "kubernetes-therapy.md"
    assert SEED_LINES[chunk.start_line - 1].startswith("## Network Plugins")


def test_anchor_tags_are_not_part_of_titles() -> None:
    titles = {c.headings[-1] for c in seed_chunks()}
    assert "Flow of Actions" in titles and "Kube-Proxy" in titles
    assert not any("<a" in t for t in titles)


def test_heading_attributes_are_not_part_of_titles() -> None:
    """`{#custom-id}` and `{.class}` after a heading (Hugo, kramdown, Pandoc) name its anchor; braces that are
    part of the title stay."""
    text = (
        "# Debugging\n\n## Reading old logs {#old-logs}\n\nRun this:\n\n```shell\nkubectl logs -p web\n```\n\n"
        "## Tabs {.tabbed #tabs}\n\nSome text.\n\n## Setting ${REPLICAS}\n\nMore text.\n"
    )
    chunks = chunk_markdown(text, "debugging.md")
    assert [c.headings[-1] for c in chunks] == ["Reading old logs", "Tabs", "Setting ${REPLICAS}"]
    assert chunks[0].snippets[0].label == "Reading old logs"
    assert text.splitlines()[chunks[0].start_line - 1] == "## Reading old logs {#old-logs}"


def ckad_snippets():  # type: ignore[no-untyped-def]
    return [s for c in seed_chunks() if "CKAD Commands" in c.headings for s in c.snippets]


def test_comment_lines_in_fences_are_not_headings() -> None:
    # A comment in a fence labels a command group (a passage of its own), it never opens a section.
    sections = {h for c in seed_chunks() if not is_group_passage(c) for h in c.headings}
    assert "General Commands" not in sections
    (ckad,) = by_heading("CKAD Commands")
    assert "# General Commands" in ckad.text
    (general,) = by_heading("General Commands")
    assert is_group_passage(general) and general.text.startswith("# General Commands\n")


def test_fences_are_byte_exact() -> None:
    import re

    fences = 0
    for chunk in seed_chunks():
        for fence in re.findall(r"```.*?```", chunk.text, re.S):
            assert fence in SEED_TEXT  # fenced code is the source, untouched
            fences += 1
    assert fences >= 10
    yaml_doc = next(s for c in seed_chunks() for s in c.snippets if "kind: StatefulSet" in s.code)
    assert yaml_doc.code in SEED_TEXT
    assert '      accessModes: [ "ReadWriteOnce" ]' in yaml_doc.code


def test_shell_blocks_split_into_command_groups_under_comments() -> None:
    groups = {s.label: s for s in ckad_snippets()}
    rollback = groups["Rollback Update"]
    assert rollback.code == "kubectl rollout undo deploy/nginx\nkubectl rollout status deploy/nginx\n"
    assert rollback.lang == "shell" and rollback.kind == "group"
    assert SEED_LINES[rollback.start_line - 1] == "kubectl rollout undo deploy/nginx"
    assert all(len(s.code.splitlines()) <= 12 for s in ckad_snippets())


def test_blank_line_continues_the_label() -> None:
    view = next(s for s in ckad_snippets() if "get secret SecretName" in s.code)
    assert view.label == "Secrets"


def test_yaml_blocks_split_into_documents() -> None:
    docs = [s for c in seed_chunks() for s in c.snippets if s.lang == "yaml"]
    kinds = [next(line for line in d.code.splitlines() if line.startswith("kind:")) for d in docs]
    assert "kind: PersistentVolumeClaim" in kinds and "kind: StorageClass" in kinds
    assert all(d.code.count("\nkind:") + d.code.startswith("kind:") <= 1 for d in docs)
    for d in docs:
        assert SEED_LINES[d.start_line - 1] == d.code.splitlines()[0]


def test_inline_commands_become_snippets_with_their_label() -> None:
    inline = [s for c in seed_chunks() for s in c.snippets if s.kind == "inline"]
    run = next(s for s in inline if s.code == "docker run -d -p 80:80 custom-nginx:v1")
    assert run.label == "Run Container"
    assert "`docker run -d -p 80:80 custom-nginx:v1`" in SEED_LINES[run.start_line - 1]


def test_dockerfile_in_a_bash_fence_stays_whole() -> None:
    docker = next(s for c in seed_chunks() for s in c.snippets if "pip install fastapi uvicorn" in s.code)
    assert docker.lang == "dockerfile" and docker.code.startswith("# Use the official Python image")


def test_front_matter_title_heads_the_path_and_is_not_body() -> None:
    text = "---\ntitle: Run a Stateless App\nweight: 10\n---\n\nIntro text.\n\n## Steps\n\nDo it.\n"
    chunks = chunk_markdown(text, "x.md")
    assert chunks[0].headings == ("Run a Stateless App",)
    assert "weight" not in chunks[0].text
    assert chunks[1].headings == ("Run a Stateless App", "Steps")


def test_hugo_shortcodes_are_markup() -> None:
    text = 'A {{< glossary_tooltip text="Pod" term_id="pod" >}} runs.\n\n{{< note >}}\nCareful.\n{{< /note >}}\n'
    (chunk,) = chunk_markdown(text, "x.md")
    assert "A Pod runs." in chunk.text and "{{" not in chunk.text
    assert clean_markup('## {{% heading "prerequisites" %}}') == "## Before you begin"


def test_long_sections_split_at_blocks_never_inside_a_fence() -> None:
    fence = "```yaml\n" + "".join(f"key{i}: value\n" for i in range(120)) + "```\n"
    paras = "".join(f"Paragraph {i} " + "word " * 60 + "\n\n" for i in range(10))
    chunks = chunk_markdown("# Big\n\n" + paras + fence + paras, "big.md")
    assert len(chunks) > 2
    assert all(c.headings == ("Big",) for c in chunks)
    assert sum(fence.strip() in c.text for c in chunks) == 1


def test_yaml_files_index_one_snippet_per_document() -> None:
    text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: b\n"
    chunks = chunk_file(text, "pods/both.yaml")
    assert [c.snippets[0].code.splitlines()[1] for c in chunks] == ["kind: Pod", "kind: Service"]
    assert chunks[1].start_line == 6


def test_generated_reference_pages_are_flagged_and_usage_lines_are_not_commands() -> None:
    text = (
        "---\ntitle: kubectl top pod\nauto_generated: true\n---\n\n<!--\ngenerated from Go source\n-->\n\n"
        "## Synopsis\n\nDisplay usage of pods.\n\n```\nkubectl top pod [NAME | -l label]\n```\n\n"
        "## Examples\n\n```\n  # Show metrics for all pods in the default namespace\n  kubectl top pod\n\n"
        "  # Show metrics for a given pod and its containers\n  kubectl top pod POD_NAME --containers\n```\n"
    )
    chunks = chunk_markdown(text, "kubectl_top_pod.md")
    assert all(c.generated for c in chunks)
    assert not any("generated from Go source" in c.text for c in chunks)
    snippets = [s for c in chunks for s in c.snippets]
    assert [s.label for s in snippets] == [
        "Show metrics for all pods in the default namespace",
        "Show metrics for a given pod and its containers",
    ]
    assert all("[NAME" not in s.code for s in snippets)


def test_upper_case_synopses_are_not_commands_and_links_are_not_labels() -> None:
    text = (
        "## Synopsis\n\nDrain node in preparation for maintenance.\n\n"
        "https://kubernetes.io/images/docs/kubectl_drain.svg Workflowhttps://kubernetes.io/images/docs/x.svg\n\n"
        "```\nkubectl drain NODE\n```\n\n"
        "## Examples\n\nhttps://example.com/a.svg\n\n```shell\nkubectl drain foo --force\n```\n"
    )
    snippets = [s for c in chunk_markdown(text, "kubectl_drain.md") for s in c.snippets]
    assert [(s.code, s.label) for s in snippets] == [("kubectl drain foo --force\n", "Examples")]


def test_output_blocks_are_not_snippets() -> None:
    text = "# Check\n\n```shell\nkubectl get pods\n```\n\n```none\nNAME   READY\nweb    1/1\n```\n"
    (chunk,) = chunk_markdown(text, "x.md")
    assert [s.code for s in chunk.snippets] == ["kubectl get pods\n"]
    assert "NAME   READY" in chunk.text


def test_pages_get_the_example_manifests_they_reference() -> None:
    from assistant.ingest.snippets import link_examples

    page = chunk_markdown(
        '# Run nginx\n\nThis Deployment runs nginx:\n\n{{% code_sample file="application/deployment.yaml" %}}\n',
        "docs/run.md",
    )
    manifest = chunk_file("apiVersion: apps/v1\nkind: Deployment\n", "examples/application/deployment.yaml")
    linked = link_examples(page + manifest)
    (example,) = linked[0].snippets
    assert example.kind == "example" and example.path == "examples/application/deployment.yaml"
    assert example.headings == ("Run nginx",) and example.code == "apiVersion: apps/v1\nkind: Deployment\n"
    assert link_examples(linked) == linked  # links are made anew, never piled up


# A section long enough to be split, with short label lines that each introduce a list (written for this test).
FILLER = ("Ingress controllers in general, said at length so that the section must be split. " * 40)[:1480]
LABELLED = (
    f"# Ingress controllers\n\n{FILLER}\n\n"
    + "Controllers we tried\n- Traefik\n- HAProxy\n\n"
    + "Traefik\n- reads its routes from labels\n- has a dashboard\n- reloads without dropping connections\n\n"
    + "HAProxy\n- fastest of the two under load\n- needs a config reload for new backends\n"
)  # fmt: skip


def test_a_label_line_is_never_split_from_its_list() -> None:
    from assistant.ingest.chunks import MAX_CHUNK_CHARS

    chunks = chunk_markdown(LABELLED, "ingress.md")
    assert len(chunks) > 1 and len(LABELLED) > MAX_CHUNK_CHARS  # the section is split somewhere
    for label, first_bullet in [("Traefik", "- reads its routes"), ("HAProxy", "- fastest of the two")]:
        (holder,) = [c for c in chunks if first_bullet in c.text]
        assert f"{label}\n{first_bullet}" in holder.text  # the label travels with its bullets


def test_the_seed_network_plugin_lists_keep_their_labels() -> None:
    for label, bullet in [("Calico", "- does not use a overlay network"), ("Flannel", "- uses an overlay network")]:
        (holder,) = [c for c in by_heading("Network Plugins") if bullet in c.text]
        assert f"{label}\n{bullet}" in holder.text


LONG_FENCE = (
    "# Cluster chores\n\n```bash\n"
    "# Drain a node\nkubectl drain node-7 --ignore-daemonsets\nkubectl get pods -o wide\n\n"
    "# Bring it back\nkubectl uncordon node-7\n\n# Watch events\nkubectl get events -w\n"
    + "".join(f"kubectl get pods -n team-{n}\n" for n in range(10))
    + "```\n\n```bash\n# Short fence\nkubectl get nodes\n```\n"
)


def test_command_groups_of_a_long_shell_fence_are_passages_of_their_own() -> None:
    chunks = chunk_markdown(LONG_FENCE, "chores.md")
    groups = {c.headings[-1]: c for c in chunks if len(c.headings) == 2}
    assert set(groups) == {"Drain a node", "Bring it back", "Watch events"}  # the short fence stays whole
    drain = groups["Drain a node"]
    assert drain.headings == ("Cluster chores", "Drain a node")
    assert drain.text == "# Drain a node\nkubectl drain node-7 --ignore-daemonsets\nkubectl get pods -o wide"
    assert LONG_FENCE.splitlines()[drain.start_line - 1] == "# Drain a node"
    assert [s.label for s in drain.snippets] == ["Drain a node"]
    (section,) = [c for c in chunks if c.headings == ("Cluster chores",)]
    assert "kubectl uncordon node-7" in section.text  # the section still shows the whole fence
    assert all(s.label != "Drain a node" for s in section.snippets)  # each snippet has one home
