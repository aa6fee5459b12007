"""Where the notes and the index live, and how answers are shown. Each setting comes from, in order: a command
line option, the environment (KT_NOTES, KT_INDEX, KT_TOP_K, KT_COLOR or NO_COLOR), the config file
(config.toml in the user config dir, or $KT_CONFIG), and the defaults (the bundled notes and index/)."""

from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_NOTES = PROJECT_ROOT / "corpus"
BUNDLED_INDEX = PROJECT_ROOT / "index"
APP_NAME = "kubernetes-therapy"
DEFAULT_TOP_K = 5
COLORS = ("auto", "always", "never")
CONFIG_EXAMPLE = """\
# kt's settings; a command line option or an environment variable overrides each of them.
notes = ["~/notes/kubernetes"]   # folders or single files; relative paths start at this file's folder
index = "~/.cache/kt-index"      # default: a folder per set of notes under the user cache dir
top_k = 5                        # passages and snippets per answer
color = "auto"                   # auto (when the output is a terminal), always, never
"""


class ConfigError(Exception):
    """A setting that cannot be used (a bad config file or environment variable): a usage error."""


@dataclass(frozen=True)
class Settings:
    notes: tuple[Path, ...]
    index: Path
    top_k: int = DEFAULT_TOP_K
    color: str = "auto"
    # Where each setting came from ("--notes", "KT_NOTES", "config", "default"), for `kt status`.
    sources: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    config_file: Path | None = None
    # One-line notices for the front end to show on stderr (stdout may be JSON or JSON-RPC): a setting that
    # does not hold, and is not an error.
    notices: tuple[str, ...] = field(default=(), compare=False, hash=False)


def user_data_dir() -> Path:
    env = os.environ.get("KT_HOME")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir(APP_NAME))


def config_file() -> Path:
    """$KT_CONFIG, else config.toml in $KT_HOME when set (tests, throwaway setups), else in the user config dir
    (~/.config/kubernetes-therapy on Linux)."""
    if os.environ.get("KT_CONFIG"):
        return Path(os.environ["KT_CONFIG"]).expanduser()
    if os.environ.get("KT_HOME"):
        return Path(os.environ["KT_HOME"]) / "config.toml"
    if sys.platform.startswith("linux"):  # what platformdirs answers, without importing it on every start
        base = os.environ.get("XDG_CONFIG_HOME", "").strip() or os.path.expanduser("~/.config")
        return Path(base) / APP_NAME / "config.toml"
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME)) / "config.toml"


def load_config(path: Path) -> dict[str, Any]:
    """The config file's settings, checked; {} when there is no file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise ConfigError(f"{path}: cannot be read ({e.strerror})") from None
    import tomllib

    try:
        config = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"{path}: not valid TOML ({e})") from None
    known = {"notes", "index", "top_k", "color"}
    if unknown := sorted(set(config) - known):
        raise ConfigError(f"{path}: unknown setting {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    notes = config.get("notes")
    if isinstance(notes, str):
        config["notes"] = notes = [notes]
    if notes is not None and not (isinstance(notes, list) and notes and all(isinstance(n, str) for n in notes)):
        raise ConfigError(f"{path}: notes must be a path or a list of paths")
    if "index" in config and not isinstance(config["index"], str):
        raise ConfigError(f"{path}: index must be a path")
    if "top_k" in config:
        config["top_k"] = _top_k(config["top_k"], f"{path}: top_k")
    if "color" in config:
        config["color"] = _color(config["color"], f"{path}: color")
    base = path.parent  # relative paths in the file start at the file, not at wherever kt runs
    for key in ("notes", "index"):
        if key in config:
            paths = [base / Path(p).expanduser() for p in (config[key] if key == "notes" else [config[key]])]
            config[key] = paths if key == "notes" else paths[0]
    return config


def _top_k(value: object, what: str) -> int:
    try:
        k = int(value) if isinstance(value, int | str) and not isinstance(value, bool) else None
    except ValueError:
        k = None
    if k is None or not 1 <= k <= 50:
        raise ConfigError(f"{what} must be a whole number from 1 to 50, not {value!r}")
    return k


def _color(value: object, what: str) -> str:
    if value not in COLORS:
        raise ConfigError(f"{what} must be one of {', '.join(COLORS)}, not {value!r}")
    return str(value)


def resolve(
    notes: list[Path] | None = None,
    index: Path | None = None,
    top_k: int | None = None,
    color: str | None = None,
) -> Settings:
    """The settings in force: options given here, then the environment, then the config file, then defaults."""
    path = config_file()
    config = load_config(path)
    notices = []
    if os.environ.get("KT_CONFIG") and not path.exists():  # the default file may well not exist; this one should
        notices.append(f"KT_CONFIG names {path}, which does not exist: no config file read")
    env = os.environ
    sources: dict[str, str] = {}

    def pick(key: str, option: object, option_name: str, env_name: str) -> tuple[Any, str]:
        if option is not None and option != []:
            return option, option_name
        if env.get(env_name):
            return env[env_name], env_name
        if key in config:
            return config[key], "config"
        return None, "default"

    raw_notes, sources["notes"] = pick("notes", notes, "--notes", "KT_NOTES")
    if isinstance(raw_notes, str):  # KT_NOTES: several paths joined by ':'
        raw_notes = [Path(p) for p in raw_notes.split(os.pathsep) if p]
    given = [Path(os.path.abspath(os.path.expanduser(p))) for p in raw_notes or [BUNDLED_NOTES]]
    folders = tuple(dict.fromkeys(given))  # `--notes corpus --notes ./corpus`: one folder, one index

    raw_index, sources["index"] = pick("index", index, "--index", "KT_INDEX")
    if raw_index is None:
        if folders == (BUNDLED_NOTES,):
            raw_index = BUNDLED_INDEX
        else:
            key = hashlib.sha256("\n".join(str(f.resolve()) for f in folders).encode()).hexdigest()[:16]
            raw_index = user_data_dir() / "indexes" / key

    raw_k, sources["top_k"] = pick("top_k", top_k, "--top", "KT_TOP_K")
    k = DEFAULT_TOP_K if raw_k is None else _top_k(raw_k, sources["top_k"])

    raw_color, sources["color"] = pick("color", color, "--color", "KT_COLOR")
    if sources["color"] in ("config", "default") and env.get("NO_COLOR"):  # https://no-color.org
        raw_color, sources["color"] = "never", "NO_COLOR"
    shade = "auto" if raw_color is None else _color(raw_color, sources["color"])

    return Settings(
        folders,
        Path(os.path.abspath(os.path.expanduser(raw_index))),
        top_k=k,
        color=shade,
        sources=sources,
        config_file=path,
        notices=tuple(notices),
    )


def history_file(index: Path) -> Path:
    """The REPL's history for one notes set (named by its index folder): questions about one set of notes do
    not turn up when asking about another."""
    key = hashlib.sha256(str(index.resolve()).encode()).hexdigest()[:16]
    return user_data_dir() / "histories" / key
