"""Speed figures for kt: medians over several runs, each against its target (see bench/README.md).

    .venv/bin/python bench/bench.py [--quick] [--skip-build] [--runs N]

Everything happens under $TMPDIR/kt-bench: its own KT_HOME (ONNX model cache, kept between runs), its own
indexes, and a copy of the corpora for the edit figures. The user's index and ../shared are never written.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "corpus"
CORPORA = ROOT.parent / "shared" / "corpora"
K8S = [CORPORA / "k8s-docs", CORPORA / "k8s-examples"]
EDITED_PAGE = Path("concepts/workloads/controllers/deployment.md")  # in k8s-docs
STATE = Path(tempfile.gettempdir()) / "kt-bench"
PY = sys.executable
KT = [str(Path(PY).parent / "kt")] if (Path(PY).parent / "kt").exists() else [PY, "-m", "assistant"]
Q_SEED, Q_K8S = "Flannel vs Calico?", "how do I roll back a deployment"
WARM_QUESTIONS = [
    "how do I roll back a deployment",
    "what is a pod",
    "create a configmap from a file",
    "difference between a service and an ingress",
    "how to drain a node",
    "set resource limits on a container",
    "what is a statefulset used for",
    "mount a secret as a volume",
    "liveness vs readiness probe",
    "how does horizontal pod autoscaling work",
    "taints and tolerations",
    "run a job on a schedule (cronjob)",
    "expose a deployment with a NodePort service",
    "persistent volume claim access modes",
    "what is a daemonset",
    "network policy deny all ingress",
    "kubectl port-forward to a pod",
    "how to upgrade a cluster with kubeadm",
    "RBAC role vs clusterrole",
    "pod security admission levels",
    "init containers example",
    "scale a deployment to 5 replicas",
    "view logs of a crashed container",
    "node affinity required during scheduling",
    "what is etcd",
    "create a namespace with a resource quota",
    "service account token for a pod",
    "rolling update maxSurge maxUnavailable",
    "headless service DNS",
    "debug a pod stuck in Pending",
]

# In-process helpers, run in their own interpreter so the bench process never imports the package.
ST_ASK = """
import json, sys
from pathlib import Path
from assistant.config import resolve
from assistant.app.core import Assistant
from assistant.index.embed import SentenceTransformerEmbedder
index, q, *notes = sys.argv[1:]
a = Assistant(resolve([Path(n) for n in notes], Path(index)), embedder=SentenceTransformerEmbedder())
a.refresh()
print(json.dumps(a.ask(q).to_json()))
"""
WARM = """
import json, sys, time
from pathlib import Path
from assistant.config import resolve
from assistant.app.core import Assistant
index, questions, *notes = sys.argv[1:]
a = Assistant(resolve([Path(n) for n in notes], Path(index)))
a.ask("what is a pod")  # warm-up: loads the model, maps the index
times = []
for q in json.loads(questions):
    t = time.perf_counter()
    a.ask(q)
    times.append(time.perf_counter() - t)
print(json.dumps(times))
"""
# An MCP client (the SDK's stdio client) that starts `kt mcp`, times the first answer from the spawn, then calls
# search_notes once per question: prints {"first": seconds, "times": [seconds, ...]}.
MCP_CLIENT = """
import json, os, sys, time
import anyio
from mcp import ClientSession, StdioServerParameters, stdio_client
command, questions = json.loads(sys.argv[1]), json.loads(sys.argv[2])
async def main():
    params = StdioServerParameters(command=command[0], args=command[1:], env=dict(os.environ))
    start = time.perf_counter()
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        first = await session.call_tool("search_notes", {"question": questions[0]})
        first_seconds = time.perf_counter() - start
        if first.is_error or not first.structured_content["passages"]:
            raise SystemExit(f"kt mcp did not answer: {first.content}")
        times = []
        for q in questions:
            t = time.perf_counter()
            result = await session.call_tool("search_notes", {"question": q})
            times.append(time.perf_counter() - t)
            if result.is_error:
                raise SystemExit(f"kt mcp failed on {q!r}: {result.content}")
        def size(result):  # bytes an agent reads: the Markdown text and the structured JSON
            text = "".join(getattr(c, "text", "") for c in result.content)
            return len(text.encode()) + len(json.dumps(result.structured_content).encode())
        sizes = {"full": [], "brief": []}
        for q in questions[:5]:
            for detail in sizes:
                sizes[detail].append(size(await session.call_tool("search_notes", {"question": q, "detail": detail})))
        sizes["list_notes"] = [size(await session.call_tool("list_notes", {}))]  # the default page
    print(json.dumps({"first": first_seconds, "times": times, "sizes": sizes}))
anyio.run(main)
"""
# An MCP client that starts `kt mcp` on notes with no index yet and calls search_notes until it answers: prints
# {"first": seconds from the spawn to the first result, "status": its status, "answer": seconds to the first real
# answer, "calls": how many calls that took}. Each call returns at once while the index is built.
MCP_FIRST_BUILD = """
import json, os, sys, time
import anyio
from mcp import ClientSession, StdioServerParameters, stdio_client
command, question = json.loads(sys.argv[1]), sys.argv[2]
async def main():
    params = StdioServerParameters(command=command[0], args=command[1:], env=dict(os.environ))
    start = time.perf_counter()
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        first = status = None
        calls = 0
        while True:
            result = await session.call_tool("search_notes", {"question": question})
            calls += 1
            if result.is_error:
                raise SystemExit(f"kt mcp failed: {result.content}")
            if first is None:
                first, status = time.perf_counter() - start, result.structured_content["status"]
            if result.structured_content["status"] == "ready":
                break
            await anyio.sleep(0.5)
        answer = time.perf_counter() - start
    print(json.dumps({"first": first, "status": status, "answer": answer, "calls": calls}))
anyio.run(main)
"""
# `kt` itself, with a progress hook that stamps when each build stage starts (printed as JSON on stderr).
STAGED_KT = """
import json, sys, time
t0 = time.perf_counter()
import assistant.app.cli as cli
stages = {}
cli._progress = lambda: lambda stage, done, total: stages.setdefault(stage, time.perf_counter() - t0)
sys.argv = ["kt", *sys.argv[1:]]
try:
    cli.main()
finally:
    stages["end"] = time.perf_counter() - t0
    print("STAGES " + json.dumps(stages), file=sys.stderr)
"""


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str, str]:
    """Run a command; return (wall seconds, peak RSS in MB of that child, stdout, stderr)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)  # per-child rusage (RUSAGE_CHILDREN would be a running max)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if proc.returncode != 0:
        raise SystemExit(f"bench: command failed ({proc.returncode}): {' '.join(cmd)}\n{stderr[-3000:]}")
    return seconds, usage.ru_maxrss / 1024, stdout, stderr


def rebuilt(stdout: str, stderr: str) -> bool:
    """The run (re)built the whole index: the package changed under the bench (new chunker or schema)."""
    return any(s in stderr for s in ("rebuild", "building it", "re-chunking")) or '"rebuilt": true' in stdout


def repeat(cmd: list[str], env: dict[str, str], runs: int, before=None) -> tuple[list[float], list[float]]:
    """One untimed warm-up (page cache), then `runs` timed runs; `before()` runs untimed before each.
    A run that rebuilt the whole index measured something else: it is redone (up to 3 times)."""
    times, rss, redos = [], [], 0
    for warm_up in [True] + [False] * runs:
        while True:
            if before:
                before()
            seconds, mb, out, err = run(cmd, env)
            if warm_up or not rebuilt(out, err) or redos >= 3:
                break
            redos += 1
            print("· the index was rebuilt during a timed run (code changed?): redoing it", file=sys.stderr)
        if not warm_up:
            times.append(seconds)
            rss.append(mb)
    return times, rss


def notes_args(folders: list[Path]) -> list[str]:
    return [a for f in folders for a in ("--notes", str(f))]


def machine() -> str:
    lines = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")), "?")
    nproc = len(os.sched_getaffinity(0))
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    return f"nproc {nproc}, {cpu}, Python {platform.python_version()}, load average {load}"


def seed_onnx(home: Path) -> None:
    """Reuse an ONNX export from the user's cache if there is one (else `kt index` exports it once)."""
    sources = [os.environ.get("KT_HOME"), os.path.expanduser("~/.cache/kubernetes-therapy")]
    (home / "onnx").mkdir(parents=True, exist_ok=True)
    for src in filter(None, sources):
        for f in Path(src, "onnx").glob("*/model.onnx"):
            if not (home / "onnx" / f.parent.name).exists():
                shutil.copytree(f.parent, home / "onnx" / f.parent.name)


def imports_torch(importtime_log: str) -> bool:
    lines = [ln for ln in importtime_log.splitlines() if ln.startswith("import time:")]
    names = (ln.rsplit("|", 1)[-1].strip() for ln in lines)
    return any(re.match(r"(torch|transformers|sentence_transformers)(\.|$)", n) for n in names)


Row = Callable[[str, str, str, str, bool | None], None]  # figure, value, target, runs, ok


def mcp_figures(
    notes: list[Path], index: Path, env: dict[str, str], runs: int
) -> tuple[list[float], list[float], dict[str, list[int]]]:
    """`kt mcp` over these notes: start-to-first-answer (spawn, initialize, first search_notes) for each run, the
    search_notes round trips of the last run, one per question of the first 20 WARM_QUESTIONS, and the sizes of
    the answers to the first 5 in `full` and `brief` detail."""
    command = [*KT, "mcp", *notes_args(notes), "--index", str(index)]
    firsts, times, sizes = [], [], {}
    for _ in range(runs):
        _, _, out, _ = run([PY, "-c", MCP_CLIENT, json.dumps(command), json.dumps(WARM_QUESTIONS[:20])], env)
        data = json.loads(out)
        firsts.append(data["first"])
        times, sizes = data["times"], data["sizes"]
    return firsts, sorted(times), sizes


def mcp_rows(row: Row, notes: list[Path], index: Path, env: dict[str, str], runs: int, label: str) -> None:
    firsts, times, sizes = mcp_figures(notes, index, env, runs)
    p50, p90 = statistics.median(times) * 1000, statistics.quantiles(times, n=10)[8] * 1000
    row(
        f"MCP search_notes p50 (p90), {label}",
        f"{p50:.1f} ms ({p90:.1f} ms)",
        "p50 <= 20 ms",
        f"{len(times)} calls",
        p50 <= 20,
    )
    row(f"kt mcp start to first answer, {label}", f"{statistics.median(firsts):.2f} s", "-", str(runs), None)
    full, brief = (statistics.median(sizes[d]) / 1000 for d in ("full", "brief"))
    row(f"MCP answer size, full vs brief, {label}", f"{full:.1f} KB vs {brief:.1f} KB", "-", "5 q", None)
    listed = sizes["list_notes"][0] / 1024
    row(f"MCP list_notes default page, {label}", f"{listed:.1f} KB", "<= 8 KB", "1", listed <= 8)


def mcp_first_build(row: Row, notes: list[Path], scratch: Path, env: dict[str, str], label: str) -> None:
    """`kt mcp` on a fresh KT_HOME (the ONNX export copied in, as a user's first run after `make run` has it) and
    no index: from the spawn to the first search_notes result (a "building" one) and to the first real answer."""
    home, index = scratch / f"first-home-{label}", scratch / f"first-index-{label}"
    shutil.copytree(Path(env["KT_HOME"]) / "onnx", home / "onnx")  # the seed index exported it
    command = [*KT, "mcp", *notes_args(notes), "--index", str(index)]
    _, _, out, _ = run([PY, "-c", MCP_FIRST_BUILD, json.dumps(command), Q_K8S], env | {"KT_HOME": str(home)})
    data = json.loads(out)
    row(
        f"kt mcp first build: spawn to first result ({data['status']}), {label}",
        f"{data['first']:.2f} s",
        "< 2 s",
        "1",
        data["first"] < 2,
    )
    row(
        f"kt mcp first build: spawn to first answer, {label}",
        f"{data['answer']:.1f} s",
        "-",
        f"{data['calls']} calls",
        None,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="3 runs, skip the full build")
    ap.add_argument("--skip-build", action="store_true", help="reuse the last k8s index, no full build")
    ap.add_argument("--runs", type=int, default=None, help="runs per figure (default 5, --quick 3)")
    args = ap.parse_args()
    runs = args.runs or (3 if args.quick else 5)
    skip_build = args.skip_build or args.quick
    say = lambda msg: print(f"· {msg}", file=sys.stderr, flush=True)  # noqa: E731

    home, idx_seed, idx_k8s = STATE / "home", STATE / "idx-seed", STATE / "idx-k8s"
    env = {k: v for k, v in os.environ.items() if k not in ("KT_NOTES", "KT_INDEX")} | {"KT_HOME": str(home)}
    seed_onnx(home)
    say(machine())
    rows: list[tuple[str, str, str, str, bool | None]] = []  # figure, value, target, runs, ok

    def row(figure: str, value: str, target: str, n: str, ok: bool | None) -> None:
        rows.append((figure, value, target, n, ok))
        say(f"{figure}: {value}")

    say("seed index (exports the ONNX model into the bench KT_HOME if missing)")
    seconds, _, out, _ = run([*KT, "index", *notes_args([SEED]), "--index", str(idx_seed)], env)
    say(f"seed index: {seconds:.1f} s; {out.strip()}")

    def seconds_row(figure: str, times: list[float], limit: float, digits: int = 3) -> float:
        median = statistics.median(times)
        row(figure, f"{median:.{digits}f} s", f"<= {limit} s", str(len(times)), median <= limit)
        return median

    seconds_row("kt --help", repeat([*KT, "--help"], env, runs)[0], 0.15)

    ask_seed = [*KT, "ask", Q_SEED, "--json", *notes_args([SEED]), "--index", str(idx_seed)]
    seconds_row("cold kt ask --json, bundled notes", repeat(ask_seed, env, runs)[0], 0.35)

    from assistant.index.store import IndexStore

    verify = []
    for _ in range(max(runs, 5)):  # every process checks every file's checksum when it opens the index
        began = time.perf_counter()
        IndexStore(idx_seed).manifest(verify=True)
        verify.append(time.perf_counter() - began)
    seconds_row("index open + checksums, bundled notes", verify, 0.05, digits=4)

    with tempfile.TemporaryDirectory(dir=STATE, prefix="run-") as tmp:
        scratch = Path(tmp)
        mcp_first_build(row, [SEED], scratch, env, "bundled")
        if not args.quick:
            say("kt mcp's first build over k8s-docs + k8s-examples (takes minutes)")
            mcp_first_build(row, K8S, scratch, env, "k8s")
        k8s_notes = notes_args(K8S)
        if skip_build:
            say(f"skipping the full build; updating {idx_k8s} (a full build if it does not exist yet)")
            run([*KT, "index", *k8s_notes, "--index", str(idx_k8s)], env)
            row("full build, k8s docs + examples", "skipped", "<= 120 s", "-", None)
        else:
            say("full build over k8s-docs + k8s-examples (takes minutes)")
            fresh = scratch / "idx-build"
            seconds, _, out, err = run(
                [PY, "-c", STAGED_KT, "index", "--rebuild", "--json", *k8s_notes, "--index", str(fresh)], env
            )
            report = json.loads(out)
            stages = json.loads(err.rsplit("STAGES ", 1)[1])
            marks = sorted(stages.items(), key=lambda kv: kv[1])
            parts = [f"{a} {t2 - t1:.1f} s" for (a, t1), (_, t2) in zip(marks, marks[1:], strict=False)]
            say(f"build: start-up {marks[0][1]:.1f} s, {', '.join(parts)}; {report['embedded']} embedded")
            value = (
                f"{seconds:.1f} s, {report['chunks'] / seconds:.0f} chunks/s "
                f"({report['chunks']} chunks, {report['snippets']} snippets)"
            )
            row("full build, k8s docs + examples", value, "<= 120 s", "1", seconds <= 120)
            shutil.rmtree(idx_k8s, ignore_errors=True)
            fresh.rename(idx_k8s)

        ask_k8s = [*KT, "ask", Q_K8S, "--json", *k8s_notes, "--index", str(idx_k8s)]
        times, rss = repeat(ask_k8s, env, runs)
        kt_ask = seconds_row("cold kt ask --json, k8s docs + examples", times, 0.6)
        row("peak RSS of a cold kt ask (k8s)", f"{max(rss):.0f} MB", "<= 350 MB", str(runs), max(rss) <= 350)

        st_runs = max(2, runs // 2) if args.quick else runs
        times, _ = repeat([PY, "-c", ST_ASK, str(idx_k8s), Q_K8S, *map(str, K8S)], env, st_runs)
        st_ask = statistics.median(times)
        row(
            "same ask, query via sentence-transformers",
            f"{st_ask:.2f} s = {st_ask / kt_ask:.1f}x kt ask",
            ">= 10x kt ask",
            str(st_runs),
            st_ask / kt_ask >= 10,
        )

        _, _, out, _ = run([PY, "-c", WARM, str(idx_k8s), json.dumps(WARM_QUESTIONS), *map(str, K8S)], env)
        warm = sorted(json.loads(out))
        p50, p90 = statistics.median(warm) * 1000, statistics.quantiles(warm, n=10)[8] * 1000
        row(
            "warm REPL ask p50 (p90), k8s, snippets",
            f"{p50:.1f} ms ({p90:.1f} ms)",
            "p50 <= 15 ms",
            f"{len(warm)} q",
            p50 <= 15,
        )

        mcp_rows(row, K8S, idx_k8s, env, runs, "k8s")

        say("copying the corpora and the k8s index for the edit figures")
        copies = [scratch / "corpora" / f.name for f in K8S]
        for src, dst in zip(K8S, copies, strict=True):
            shutil.copytree(src, dst)
        idx_edit = scratch / "idx-edit"
        shutil.copytree(idx_k8s, idx_edit)
        reindex = [*KT, "index", "--json", *notes_args(copies), "--index", str(idx_edit)]
        run(reindex, env)  # adopt the copy (same content: nothing to embed)
        page = copies[0] / EDITED_PAGE
        if not page.exists():
            page = sorted(copies[0].rglob("*.md"))[0]
        edits = iter(range(10**6))

        def edit() -> None:
            with page.open("a") as f:
                f.write(f"\nBench edit {next(edits)}: a line appended to measure an incremental update.\n")

        seconds_row("re-index after editing one page", repeat(reindex, env, runs, before=edit)[0], 1.5, 2)
        seconds_row("re-index, nothing changed", repeat(reindex, env, runs)[0], 0.2)
        edit()
        _, _, _, err = run(
            [
                PY,
                "-X",
                "importtime",
                "-m",
                "assistant",
                "index",
                *notes_args(copies),
                "--index",
                str(idx_edit),
            ],
            env,
        )
        torch = imports_torch(err)
        row("re-index imports torch / transformers", "yes" if torch else "no", "no", "1", not torch)

    print_table(rows)


def print_table(rows: list[tuple[str, str, str, str, bool | None]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"kt bench — {machine()}", title_justify="left")
    for name in ("figure", "value", "target", "runs", ""):
        table.add_column(name)
    for figure, value, target, n, ok in rows:
        table.add_row(figure, value, target, n, "-" if ok is None else "OK" if ok else "MISS")
    Console(width=140).print(table)


if __name__ == "__main__":
    main()
