"""The generated settings module (``app/settings.py`` of a golden service): names in any
case, pydantic's booleans, whole numbers, JSON lists, the `.env` search, and the errors
that stop start-up when a value is not what Hayhooks would accept."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

from support.golden_app import ImportFn


@pytest.fixture
def settings(golden_import: ImportFn, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    for key in list(os.environ):
        if key.lower().startswith("hayhooks_"):
            monkeypatch.delenv(key)
    return golden_import("app.settings")


def test_setting_matches_any_case_and_is_none_when_absent(
    settings: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert settings.setting("HAYHOOKS_ROOT_PATH") is None
    monkeypatch.setenv("hayhooks_Root_Path", "/api")
    assert settings.setting("HAYHOOKS_ROOT_PATH") == "/api"


TRUE_WORDS = ["true", "TRUE", "1", "yes", "On", "t", "Y"]
FALSE_WORDS = ["false", "0", "No", "off", "f", "N"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(word, True) for word in TRUE_WORDS] + [(word, False) for word in FALSE_WORDS],
)
def test_env_flag_reads_pydantic_booleans(
    settings: ModuleType, monkeypatch: pytest.MonkeyPatch, value: str, expected: bool
) -> None:
    monkeypatch.setenv("HAYHOOKS_SHOW_TRACEBACKS", value)
    assert settings.env_flag("HAYHOOKS_SHOW_TRACEBACKS") is expected


def test_env_flag_default_when_unset(settings: ModuleType) -> None:
    assert settings.env_flag("HAYHOOKS_MONITORING_ENABLED", default=True) is True
    assert settings.env_flag("HAYHOOKS_SHOW_TRACEBACKS") is False


@pytest.mark.parametrize("value", ["maybe", "", " true", "2"])
def test_env_flag_rejects_other_values(
    settings: ModuleType, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("HAYHOOKS_SHOW_TRACEBACKS", value)
    with pytest.raises(RuntimeError) as failed:
        settings.env_flag("HAYHOOKS_SHOW_TRACEBACKS")
    assert str(failed.value) == (
        "HAYHOOKS_SHOW_TRACEBACKS must be a boolean (true/false, 1/0, yes/no, on/off), "
        f"not {value!r}"
    )


@pytest.mark.parametrize(
    ("value", "expected"), [("42", 42), (" 60 ", 60), ("60.0", 60), ("1_000", 1000), ("-1", -1)]
)
def test_env_int_reads_pydantic_integers(
    settings: ModuleType, monkeypatch: pytest.MonkeyPatch, value: str, expected: int
) -> None:
    """Hayhooks' pydantic-settings reads these as whole numbers (checked against 2.1.0)."""
    assert settings.env_int("HAYHOOKS_CORS_MAX_AGE", 600) == 600
    monkeypatch.setenv("HAYHOOKS_CORS_MAX_AGE", value)
    assert settings.env_int("HAYHOOKS_CORS_MAX_AGE", 600) == expected


@pytest.mark.parametrize("value", ["ten", "60.5", "6e1", "0x10", ""])
def test_env_int_rejects_what_pydantic_rejects(
    settings: ModuleType, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("HAYHOOKS_CORS_MAX_AGE", value)
    with pytest.raises(RuntimeError) as failed:
        settings.env_int("HAYHOOKS_CORS_MAX_AGE", 600)
    assert str(failed.value) == f"HAYHOOKS_CORS_MAX_AGE must be a whole number, not {value!r}"


@pytest.mark.parametrize(
    ("value", "expected"),
    [('["https://a.example"]', ["https://a.example"]), ("  []  ", []), ('["a", "b"]', ["a", "b"])],
)
def test_env_list_reads_json_lists_of_strings(
    settings: ModuleType, monkeypatch: pytest.MonkeyPatch, value: str, expected: list[str]
) -> None:
    assert settings.env_list("HAYHOOKS_CORS_ALLOW_ORIGINS", ["*"]) == ["*"]
    monkeypatch.setenv("HAYHOOKS_CORS_ALLOW_ORIGINS", value)
    assert settings.env_list("HAYHOOKS_CORS_ALLOW_ORIGINS", ["*"]) == expected


# An empty value is not "unset" (pydantic-settings fails to decode it), and a JSON string is
# not a list: handed to CORSMiddleware, a string would match origins by substring.
@pytest.mark.parametrize(
    "value", ["", "https://a.example", '"https://a.example"', "[1]", '{"a": 1}', '["a", null]']
)
def test_env_list_rejects_what_pydantic_settings_rejects(
    settings: ModuleType, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("HAYHOOKS_CORS_ALLOW_ORIGINS", value)
    with pytest.raises(RuntimeError) as failed:
        settings.env_list("HAYHOOKS_CORS_ALLOW_ORIGINS", ["*"])
    assert str(failed.value) == (
        "HAYHOOKS_CORS_ALLOW_ORIGINS must be a JSON list of strings, for example '[\"*\"]', "
        f"not {value!r}"
    )


def test_find_dotenv_walks_up_to_the_first_file(settings: ModuleType, tmp_path: Path) -> None:
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    (tmp_path / ".env").write_text("X=1\n", encoding="utf-8")
    assert settings.find_dotenv(str(deep)) == str(tmp_path / ".env")
    (tmp_path / "a" / ".env").mkdir()  # a folder named .env is not a file: passed over
    assert settings.find_dotenv(str(deep)) == str(tmp_path / ".env")
    (deep / ".env").write_text("X=2\n", encoding="utf-8")
    assert settings.find_dotenv(str(deep)) == str(deep / ".env")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_find_dotenv_accepts_a_fifo(settings: ModuleType, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / ".env")
    assert settings.find_dotenv(str(tmp_path)) == str(tmp_path / ".env")


def test_find_dotenv_none_at_the_root(settings: ModuleType) -> None:
    root = os.path.abspath(os.sep)
    expected = os.path.join(root, ".env") if os.path.isfile(os.path.join(root, ".env")) else None
    assert settings.find_dotenv(root) == expected


def test_prepare_process_loads_dotenv_without_override_then_extends_path(
    settings: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text(
        "HAYHOOKS_ROOT_PATH=/fromdotenv\n"
        f"HAYHOOKS_ADDITIONAL_PYTHON_PATH={tmp_path / 'lib'}\n"
        "HAYHOOKS_CORS_MAX_AGE=5\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HAYHOOKS_CORS_MAX_AGE", "60")
    monkeypatch.setattr(sys, "path", list(sys.path))
    for key in ("HAYHOOKS_ROOT_PATH", "HAYHOOKS_ADDITIONAL_PYTHON_PATH"):
        monkeypatch.setenv(key, "placeholder")  # recorded, so the test's end removes them
        monkeypatch.delenv(key)
    settings.prepare_process()
    assert os.environ["HAYHOOKS_ROOT_PATH"] == "/fromdotenv"
    assert os.environ["HAYHOOKS_CORS_MAX_AGE"] == "60"
    assert sys.path[-1] == str(tmp_path / "lib")


def test_prepare_process_without_dotenv_does_not_import_dotenv(
    settings: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(settings, "find_dotenv", lambda start: None)
    monkeypatch.delitem(sys.modules, "dotenv", raising=False)
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = list(sys.path)
    settings.prepare_process()
    assert "dotenv" not in sys.modules
    assert sys.path == before
