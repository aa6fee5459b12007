"""The conventions people expect of a CLI: --version, shell completion, a config file whose settings give way
to the environment and to options (and are shown by `kt status`), --notes with a single file, and clear errors
for notes that cannot be used."""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant import __version__
from assistant.app.cli import app
from assistant.app.core import Assistant
from assistant.config import BUNDLED_INDEX, BUNDLED_NOTES, DEFAULT_TOP_K, ConfigError, config_file, resolve

ROOT = Path(__file__).resolve().parents[1]
# rich reads these when a console is made: the tests run without the developer's own
runner = CliRunner(env={"NO_COLOR": None, "FORCE_COLOR": None})


def where(seed_assistant: Assistant) -> list[str]:
    s = seed_assistant.settings
    return ["--notes", str(s.notes[0]), "--index", str(s.index)]


# --- --version and completion ---------------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_is_the_package_version(flag: str) -> None:
    result = runner.invoke(app, [flag])
    assert result.exit_code == 0 and result.stdout == f"kt {__version__}\n"
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"] == __version__


def test_version_needs_no_notes_and_no_index(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--version", "--notes", str(tmp_path / "missing")])
    assert result.exit_code == 0 and result.stdout.startswith("kt ")


def test_shell_completion_completes_commands() -> None:
    env = {"_KT_COMPLETE": "complete_bash", "COMP_WORDS": "kt st", "COMP_CWORD": "1"}
    assert runner.invoke(app, [], prog_name="kt", env=env).stdout.split() == ["status"]
    env = {"_KT_COMPLETE": "complete_bash", "COMP_WORDS": "kt ask --j", "COMP_CWORD": "2"}
    assert runner.invoke(app, [], prog_name="kt", env=env).stdout.split() == ["--json"]


def complete(words: str) -> list[str]:
    """What bash completion offers for the last word of `words` (empty after a trailing space)."""
    cword = len(words.split()) - (0 if words.endswith(" ") else 1)
    env = {"_KT_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    result = runner.invoke(app, [], prog_name="kt", env=env)
    assert result.exit_code == 0 and not result.stderr, result.output
    return result.stdout.split()


def test_kt_open_completes_note_names_and_their_lines_not_files_here(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    (notes / "net").mkdir(parents=True)
    (notes / "kube-basics.md").write_text("# Basics\n\nPods.\n\n## Rollback\n\nkubectl rollout undo.\n")
    (notes / "net" / "kube-dns.md").write_text("# DNS\n")
    (notes / "other.md").write_text("# Other\n")
    (notes / "kubernetes_therapy.egg-info").mkdir()  # what the shell's file completion offered
    (notes / "kubernetes_therapy.egg-info" / "PKG-INFO.md").write_text("# no\n")
    assert complete(f"kt open --notes {notes} kube") == ["kube-basics.md"]
    assert complete(f"kt --notes {notes} open ne") == ["net/kube-dns.md"]
    assert complete(f"kt open --notes {notes} ") == ["kube-basics.md", "net/kube-dns.md", "other.md"]
    # FILE: completes to FILE:LINE of each section, the form answers show (zsh and fish show the heading too)
    assert complete(f"kt open --notes {notes} kube-basics.md:") == ["kube-basics.md:1", "kube-basics.md:5"]
    env = {"_KT_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": f"kt open --notes {notes} kube-basics.md:"}
    assert "Basics › Rollback" in runner.invoke(app, [], prog_name="kt", env=env).stdout


def test_color_completes_its_three_values() -> None:
    assert complete("kt --color ") == ["auto", "always", "never"]
    assert complete("kt ask --color a") == ["auto", "always"]
    assert complete("kt status --color n") == ["never"]


def test_install_completion_writes_the_shell_script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The shell is named, not detected: a test run with no shell among its parents (a detached CI step) must pass.
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    result = runner.invoke(app, ["--install-completion", "bash"], prog_name="kt", env={"HOME": str(tmp_path)})
    assert result.exit_code == 0, result.output
    script = next(tmp_path.rglob("kt.sh")).read_text()
    assert "_KT_COMPLETE=complete_bash" in script
    assert "kt.sh" in (tmp_path / ".bashrc").read_text()


# --- the config file and precedence ---------------------------------------------------------------------------


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "conf" / "config.toml"
    path.parent.mkdir()
    monkeypatch.setenv("KT_CONFIG", str(path))
    for name in ("KT_TOP_K", "KT_COLOR", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    return path


def test_config_file_lives_in_the_user_config_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    from platformdirs import user_config_dir

    for name in ("KT_CONFIG", "KT_HOME"):
        monkeypatch.delenv(name, raising=False)  # conftest's KT_HOME would otherwise hold it
    assert config_file() == Path(user_config_dir("kubernetes-therapy")) / "config.toml"


def test_defaults_without_a_config_file(config: Path) -> None:
    s = resolve()
    assert (s.notes, s.index, s.top_k, s.color) == ((BUNDLED_NOTES,), BUNDLED_INDEX, DEFAULT_TOP_K, "auto")
    assert set(s.sources.values()) == {"default"}


def test_config_then_environment_then_options(config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config.write_text('notes = ["../from-config"]\nindex = "idx"\ntop_k = 3\ncolor = "never"\n')
    s = resolve()
    assert s.notes == (tmp_path / "from-config",) and s.index == config.parent / "idx"  # relative to the file
    assert (s.top_k, s.color) == (3, "never")
    assert s.sources == {"notes": "config", "index": "config", "top_k": "config", "color": "config"}

    monkeypatch.setenv("KT_NOTES", str(tmp_path / "env-a") + ":" + str(tmp_path / "env-b"))
    monkeypatch.setenv("KT_INDEX", str(tmp_path / "env-idx"))
    monkeypatch.setenv("KT_TOP_K", "7")
    monkeypatch.setenv("KT_COLOR", "always")
    s = resolve()
    assert s.notes == (tmp_path / "env-a", tmp_path / "env-b") and s.index == tmp_path / "env-idx"
    assert (s.top_k, s.color) == (7, "always")
    assert s.sources == {"notes": "KT_NOTES", "index": "KT_INDEX", "top_k": "KT_TOP_K", "color": "KT_COLOR"}

    s = resolve([tmp_path / "flag"], tmp_path / "flag-idx", top_k=2, color="auto")
    assert s.notes == (tmp_path / "flag",) and s.index == tmp_path / "flag-idx"
    assert (s.top_k, s.color) == (2, "auto")
    assert s.sources == {"notes": "--notes", "index": "--index", "top_k": "--top", "color": "--color"}


def test_no_color_is_an_environment_setting(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config.write_text('color = "always"\n')
    monkeypatch.setenv("NO_COLOR", "1")
    assert (resolve().color, resolve().sources["color"]) == ("never", "NO_COLOR")
    assert resolve(color="always").color == "always"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("top_k = [", "not valid TOML"),
        ("topk = 3", "unknown setting topk"),
        ("top_k = 0", "top_k must be a whole number from 1 to 50"),
        ('color = "purple"', "color must be one of auto, always, never"),
        ("notes = 5", "notes must be a path or a list of paths"),
    ],
)
def test_a_bad_config_file_is_a_usage_error(config: Path, text: str, message: str) -> None:
    config.write_text(text + "\n")
    with pytest.raises(ConfigError, match=message):
        resolve()
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 2
    assert str(config) in result.stderr and message in result.stderr and "Traceback" not in result.output


def test_bad_top_k_in_the_environment_is_a_usage_error(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KT_TOP_K", "many")
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 2 and "KT_TOP_K must be a whole number" in result.stderr


def test_top_k_from_config_environment_and_option(
    config: Path, seed_assistant: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    def passages(*extra: str) -> int:
        result = runner.invoke(app, ["ask", "an example of a storage class", "--json", *where(seed_assistant), *extra])
        assert result.exit_code == 0, result.output
        return len(json.loads(result.stdout)["passages"])

    config.write_text("top_k = 3\n")
    assert passages() == 3
    monkeypatch.setenv("KT_TOP_K", "2")
    assert passages() == 2
    assert passages("-k", "4") == 4


def test_status_shows_each_setting_and_where_it_came_from(
    config: Path, seed_assistant: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    config.write_text('top_k = 4\ncolor = "never"\n')
    monkeypatch.setenv("KT_COLOR", "always")
    result = runner.invoke(app, ["status", *where(seed_assistant)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"config:  {config} (in use)"
    assert lines[1].endswith("(--notes)") and lines[2].endswith("(--index)")
    assert lines[3] == "top-k:   4 (config); color: always (KT_COLOR)"
    info = json.loads(runner.invoke(app, ["status", "--json", *where(seed_assistant)]).stdout)
    assert info["config"] == str(config) and info["top_k"] == 4 and info["color"] == "always"
    assert info["sources"] == {"notes": "--notes", "index": "--index", "top_k": "config", "color": "KT_COLOR"}


# --- which notes ------------------------------------------------------------------------------------------------


def test_notes_may_be_a_single_file(tmp_path: Path, seed_assistant: Assistant) -> None:
    note = tmp_path / "runbook.md"
    shutil.copy(BUNDLED_NOTES / "kubernetes-therapy.md", note)
    common = ["--notes", str(note), "--index", str(tmp_path / "idx")]
    result = runner.invoke(app, ["index", "--json", *common])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["added"] == ["runbook.md"]
    result = runner.invoke(app, ["ask", "how can I roll a deployment back to its previous version", "--json", *common])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["passages"][0]["path"] == "runbook.md"
    assert answer["snippets"][0]["code"].startswith("kubectl rollout undo")


def test_an_empty_notes_folder_is_an_error_naming_it(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    (empty / "sub" / "picture.png").write_bytes(b"\x89PNG")
    (empty / ".hidden").mkdir()
    (empty / ".hidden" / "secret.md").write_text("# not read: hidden folders are skipped\n")
    for command in (["ask", "anything"], ["index"], ["status"]):
        result = runner.invoke(app, [*command, "--notes", str(empty), "--index", str(tmp_path / "idx")])
        assert result.exit_code == 1, result.output
        assert f"no notes in {empty}" in result.stderr
        assert all(kind in result.stderr for kind in (".md", ".markdown", ".txt", ".yaml", ".yml"))
    assert not (tmp_path / "idx").exists()


def test_a_file_that_is_not_a_note_is_an_error(tmp_path: Path) -> None:
    other = tmp_path / "diagram.png"
    other.write_bytes(b"\x89PNG")
    result = runner.invoke(app, ["ask", "x", "--notes", str(other)])
    assert result.exit_code == 1 and re.search(r"diagram\.png is not a note \(kt reads \.md", result.stderr)


def test_readme_documents_exit_codes_and_config() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "config.toml" in readme and "--install-completion" in readme
    section = readme[readme.index("Exit codes") :]
    for code in ("0", "1", "2", "130"):
        assert re.search(rf"`{code}`", section), code


def test_kt_config_naming_a_missing_file_says_so_on_stderr(
    config: Path, seed_assistant: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not config.exists()  # the fixture's KT_CONFIG names a file nobody wrote
    assert resolve().notices == (f"KT_CONFIG names {config}, which does not exist: no config file read",)
    result = runner.invoke(app, ["status", "--json", *where(seed_assistant)])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["config"] == str(config)  # stdout stays clean JSON
    assert result.stderr == f"kt: KT_CONFIG names {config}, which does not exist: no config file read\n"

    config.write_text("top_k = 3\n")
    assert resolve().notices == ()
    monkeypatch.delenv("KT_CONFIG")  # the default file (under KT_HOME) may be missing: nothing to say
    assert resolve().notices == () and not resolve().config_file.exists()  # type: ignore[union-attr]


def test_readme_examples_work_from_a_clone(seed_assistant: Assistant) -> None:
    """A clone has no ../shared folder: the README's examples name files of the repository (or the user's own)."""
    readme = (ROOT / "README.md").read_text()
    assert "../shared" not in readme
    sets = re.findall(r"^kt eval (\S+)", readme, re.M)
    assert sets and all((ROOT / name).is_file() for name in sets), sets
    result = runner.invoke(app, ["eval", str(ROOT / sets[0]), "--json", *where(seed_assistant)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["format"] == "seed" and report["questions"] >= 8 and report["metrics"]["command-hit@3"] == 1.0
