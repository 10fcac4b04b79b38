"""bot/settings.py is the one place Linli's environment variables are read and their defaults written.

Proves that every declared variable parses (default, empty, a value, a bad value), that the
code reads no variable anywhere else, and that ``.env.example`` and ``scripts/env.sh`` agree
with the declarations.
"""

from __future__ import annotations

import re
import subprocess
import tokenize
from pathlib import Path
from typing import Any, Dict, Iterator, Tuple

import pytest
import yaml

from bot import settings as config
from bot.settings import AREAS, ConfigurationError, SettingError, Variable, declared_variables, knowledge_variables

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("bot", "actions", "knowledge")
#: Variables Linli mentions or lists that are read by something else, and by whom.
NOT_LINLI_SETTINGS = {
    "ACTION_ENDPOINT_URL": "Rasa, through endpoints.yml",
    "KNOWLEDGE_LLM_API_KEY": "named by knowledge/config.yml's llm_api_key_env (bot.settings.named_secret)",
    "TEST_DATABASE_URL": "the tests",
    "TF_CPP_MIN_LOG_LEVEL": "TensorFlow", "RASA_TELEMETRY_ENABLED": "Rasa", "HF_HUB_OFFLINE": "huggingface_hub",
    "TRANSFORMERS_OFFLINE": "transformers", "SQLALCHEMY_SILENCE_UBER_WARNING": "SQLAlchemy",
}
#: A valid value other than the default, where the default's type does not suggest one.
SAMPLES = {
    "LINLI_CORS_ORIGINS": ("https://a.example, https://b.example/", ("https://a.example", "https://b.example")),
    "LINLI_TIMEZONE": ("Europe/Berlin", "Europe/Berlin"),
    "LINLI_LOG_FORMAT": ("JSON", "json"),
    "KNOWLEDGE_WARM_UP": ("Index", "index"),
    # A file Linli can read (the shipped example): WeChat.check refuses one that is missing or wrong.
    "WECHAT_TEMPLATES": ("deploy/wechat_templates.example.yml", "deploy/wechat_templates.example.yml"),
}
#: A Linli variable name: the prefixes Linli's settings use (names like LINLI_OUTBOX_* are prefixes, not names).
NAME = re.compile(r"(?<![A-Za-z0-9_$])((?:LINLI|RASA|ACTION|DATABASE|TRACKER|REDIS|HANDOFF|WECHAT|TELEGRAM|KNOWLEDGE)"
                  r"_[A-Z0-9_]*[A-Z0-9])(?![A-Za-z0-9_*<{])")
ENV_READ = re.compile(r"\bos\.environ\b|\bgetenv\(|\benviron\.get\(")
#: ``NAME=value`` or ``# NAME=value`` at the start of a line (``# e.g. NAME=value`` is an example).
ASSIGNMENT = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(\S*)", re.MULTILINE)


def sample(variable: Variable) -> Tuple[str, Any]:
    """A text for ``variable`` that is valid and not its default, and the value it parses to."""
    if variable.name in SAMPLES:
        return SAMPLES[variable.name]
    default = variable.default
    if isinstance(default, bool):
        return ("no", False) if default else ("Yes", True)
    if isinstance(default, int):
        return str(default + 7), default + 7
    if isinstance(default, float):
        return f" {default + 0.5} ", default + 0.5
    text = "s" * 32 if variable.secret else "some/other-value"  # long enough for every token check
    return text, text


def expected_default(variable: Variable) -> Any:
    """What an unset variable means: its default, or for ``KNOWLEDGE_<KEY>`` the value in config.yml."""
    key = next((k for k, v in knowledge_variables().items() if v.name == variable.name), None)
    if key is None:
        return variable.default
    data = yaml.safe_load((ROOT / "knowledge" / "config.yml").read_text(encoding="utf-8"))
    value = data[key]
    return value if isinstance(value, str) else variable.parse(str(value))


def same(variable: Variable, text: str, expected: Any) -> bool:
    """Whether ``text`` (from a file) states the value ``expected``; empty states an empty default."""
    if expected in (None, "", ()):
        return text == ""
    return text != "" and variable.value(text) == expected


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No Linli variable set (scripts/env.sh's exports included); settings() forgets what it read."""
    for name in declared_variables():
        monkeypatch.delenv(name, raising=False)
    config.reload()
    yield monkeypatch
    config.reload()


# ---------------------------------------------------------------- (1) each field parses
def test_every_variable_is_declared_once_and_names_its_area_field() -> None:
    names = [v.name for area in AREAS.values() for v in area.variables().values()]
    names += [v.name for v in knowledge_variables().values()]
    assert len(names) == len(set(names)) == len(declared_variables())
    assert len(names) > 80  # every area, and every key of knowledge/config.yml
    for variable in declared_variables().values():
        if variable.secret:
            assert variable.default in (None, ""), f"{variable.name}: a secret has no default"


def test_unset_and_empty_variables_give_the_defaults(clean_env: pytest.MonkeyPatch) -> None:
    everything = config.settings()
    for name, area in AREAS.items():
        assert getattr(everything, name) == area(), name  # the dataclass defaults are the declared ones
    for name in declared_variables():
        clean_env.setenv(name, "  ")
    config.reload()
    assert config.settings() == everything
    assert config.settings().network.rasa_port == 5005 and config.settings().handoff.timeout_seconds == 300.0
    assert config.settings().knowledge.config_overrides == {}


@pytest.mark.parametrize("area_name", sorted(AREAS))
def test_every_field_reads_its_variable(area_name: str, clean_env: pytest.MonkeyPatch) -> None:
    area = AREAS[area_name]
    expected = {}
    for field_name, variable in area.variables().items():
        text, value = sample(variable)
        clean_env.setenv(variable.name, text)
        expected[field_name] = value
    read = area.from_env()
    for field_name, value in expected.items():
        assert getattr(read, field_name) == value, area.variables()[field_name].name
        assert area.read(field_name) == value


TYPED = (config._bool, config._int, config._count, config._float, config._timezone)


@pytest.mark.parametrize("name", sorted(n for n, v in declared_variables().items() if v.parse in TYPED or v.choices))
def test_a_malformed_value_is_refused_with_the_variable_name(name: str) -> None:
    variable = declared_variables()[name]
    with pytest.raises(SettingError, match=re.escape(name)) as refused:
        variable.value("not-a-good-value")
    assert isinstance(refused.value, ValueError) and isinstance(refused.value, ConfigurationError)
    assert "not-a-good-value" in str(refused.value)


def test_bounds_and_combinations_are_checked(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("LINLI_OUTBOX_LEASE", "0.5")
    with pytest.raises(ValueError, match="LINLI_OUTBOX_LEASE must be at least 1"):
        config.Outbox.from_env()
    clean_env.setenv("LINLI_OUTBOX_LEASE", "60")
    clean_env.setenv("LINLI_OUTBOX_WAIT", "9")
    assert config.Outbox.from_env().wait == 3.0  # capped, as the desk never waits longer
    clean_env.setenv("LINLI_ENABLE_API", "true")
    with pytest.raises(ConfigurationError, match="needs RASA_AUTH_TOKEN"):
        config.settings()
    clean_env.setenv("LINLI_ENABLE_API", "false")
    clean_env.setenv("LINLI_METRICS_TOKEN", "short")
    config.reload()
    with pytest.raises(ConfigurationError, match="LINLI_METRICS_TOKEN is too short") as refused:
        config.settings()
    assert "short" not in str(refused.value).replace("too short", "")  # a secret is never echoed


def test_settings_are_read_once_until_reloaded(clean_env: pytest.MonkeyPatch) -> None:
    first = config.settings()
    clean_env.setenv("HANDOFF_TIMEOUT_SECONDS", "42")
    assert config.settings() is first and first.handoff.timeout_seconds == 300.0
    assert config.Handoff.from_env().timeout_seconds == 42.0  # per-call readers see the change
    config.reload()
    assert config.settings().handoff.timeout_seconds == 42.0


def test_credentials_yml_keys_win_over_the_channel_variables(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("WECHAT_REPLY_TIMEOUT", "7")
    clean_env.setenv("WECHAT_TOKEN", "from-env")
    wechat = config.WeChat.from_env({"reply_timeout": 2, "token": "", "unrelated": "x"})
    assert wechat.reply_timeout == 2.0 and wechat.token == "from-env"  # empty key: the variable
    assert config.Telegram.from_env({"polling": True}).polling is True
    with pytest.raises(SettingError, match="reply_timeout"):
        config.WeChat.from_env({"reply_timeout": "soon"})


def test_knowledge_overrides_are_typed_and_reach_the_config(clean_env: pytest.MonkeyPatch) -> None:
    from knowledge.config import load_config

    clean_env.setenv("KNOWLEDGE_TOP_K", "9")
    clean_env.setenv("KNOWLEDGE_GENERATOR", "extractive")
    assert config.Knowledge.from_env().config_overrides == {"top_k": 9, "generator": "extractive"}
    cfg = load_config()
    assert cfg.top_k == 9 and cfg.generator == "extractive"
    clean_env.setenv("KNOWLEDGE_MIN_SUPPORT", "most")
    with pytest.raises(SettingError, match="KNOWLEDGE_MIN_SUPPORT must be a number"):
        load_config()


# ---------------------------------------------------------------- (2) read nowhere else
def _sources() -> Iterator[Path]:
    for top in SOURCES:
        yield from sorted((ROOT / top).rglob("*.py"))


def test_no_module_but_bot_settings_reads_the_environment() -> None:
    readers = []
    for path in _sources():
        if path == ROOT / "bot" / "settings.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if ENV_READ.search(line.split("#", 1)[0]):
                readers.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not readers, "read the variable through bot.settings (declare it there):\n" + "\n".join(readers)


def test_every_variable_the_code_mentions_is_declared() -> None:
    mentioned: Dict[str, set] = {}
    for path in _sources():
        with path.open("rb") as handle:
            for token in tokenize.tokenize(handle.readline):
                if token.type in (tokenize.STRING, tokenize.COMMENT):
                    for match in NAME.finditer(token.string):
                        mentioned.setdefault(match.group(1), set()).add(str(path.relative_to(ROOT)))
    assert "HANDOFF_TIMEOUT_SECONDS" in mentioned  # the scan finds names
    unknown = {n: sorted(p) for n, p in mentioned.items() if n not in declared_variables() and n not in NOT_LINLI_SETTINGS}
    assert not unknown, f"declare these in bot/settings.py (or list who reads them): {unknown}"


# ---------------------------------------------------------------- (3) .env.example
def test_env_example_lists_every_variable_with_the_code_default() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    listed: Dict[str, str] = {}
    for match in ASSIGNMENT.finditer(text):
        name = match.group(2)
        assert name not in listed, f"{name} is listed twice in .env.example"
        listed[name] = match.group(3)
    declared = declared_variables()
    missing = sorted(set(declared) - set(listed))
    assert not missing, f"add to .env.example: {missing}"
    strangers = sorted(set(listed) - set(declared) - set(NOT_LINLI_SETTINGS))
    assert not strangers, f".env.example lists variables nothing reads: {strangers}"
    wrong = {name: (listed[name], expected_default(variable)) for name, variable in declared.items()
             if not same(variable, listed[name], expected_default(variable))}
    assert not wrong, f".env.example shows other defaults than bot/settings.py (shown, code): {wrong}"
    assert all(listed[n] == "" for n, v in declared.items() if v.secret), "secrets are shown empty"


# ---------------------------------------------------------------- (4) scripts/env.sh
def test_env_sh_sets_what_the_shell_and_rasa_read_with_the_code_defaults(tmp_path: Path) -> None:
    # Sourced in an empty environment from a folder without .env: only its own defaults.
    out = subprocess.run(["env", "-i", "PATH=/usr/bin:/bin", "bash", "-c",
                          f"set -u; source {ROOT / 'scripts' / 'env.sh'} && env -0"],
                         cwd=tmp_path, capture_output=True, check=True).stdout.decode()
    exported = dict(item.split("=", 1) for item in out.split("\0") if "=" in item)
    declared = declared_variables()
    for name, value in exported.items():
        if name in declared:
            assert same(declared[name], value, expected_default(declared[name])), f"scripts/env.sh: {name}={value!r}"
        else:
            assert name in NOT_LINLI_SETTINGS or name in ("PATH", "PWD", "SHLVL", "_", "OLDPWD"), name
    assert exported["ACTION_ENDPOINT_URL"] == f"http://127.0.0.1:{declared['ACTION_PORT'].default}/webhook"
    # What the shell scripts and the Makefile use, and what endpoints.yml substitutes, is set.
    used = set()
    for path in [ROOT / "Makefile", *sorted((ROOT / "scripts").glob("*.sh"))]:
        used |= {n for n in re.findall(r"\$\$?\{?([A-Z][A-Z0-9_]*)", path.read_text()) if n in declared}
    used |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)\}", (ROOT / "endpoints.yml").read_text()))
    assert used >= {"LINLI_HOST", "RASA_PORT", "ACTION_PORT", "KNOWLEDGE_INDEX", "ACTION_ENDPOINT_URL"}
    unset = used - {"LINLI_REST_TOKEN"} - set(exported)  # run.sh reads LINLI_REST_TOKEN with a :- default
    assert not unset, f"scripts/env.sh must set what the shell scripts or endpoints.yml read: {sorted(unset)}"
