"""Typed environment reading: good values parse, bad ones stop with the variable's name."""

import pytest

from caredesk.lib.env import ConfigError, Env, load_env_file


def env(**values: str) -> Env:
    return Env(values)


def test_text_returns_the_value():
    assert env(NAME="caredesk").text("NAME") == "caredesk"


def test_text_falls_back_to_default_when_unset_or_empty():
    assert env().text("NAME", "fallback") == "fallback"
    assert env(NAME="").text("NAME", "fallback") == "fallback"


def test_text_without_default_names_the_missing_variable():
    with pytest.raises(ConfigError, match=r"^NAME is required"):
        env().text("NAME")


def test_optional_is_none_when_unset_or_empty():
    assert env().optional("NAME") is None
    assert env(NAME="").optional("NAME") is None
    assert env(NAME="x").optional("NAME") == "x"


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", "yes", "on", " Yes "])
def test_flag_reads_true_spellings(raw):
    assert env(DEBUG=raw).flag("DEBUG", default=False) is True


@pytest.mark.parametrize("raw", ["0", "false", "no", "off", "", "False"])
def test_flag_reads_false_spellings(raw):
    assert env(DEBUG=raw).flag("DEBUG", default=True) is False


def test_flag_uses_default_when_unset():
    assert env().flag("DEBUG", default=True) is True


def test_flag_rejects_other_words_naming_the_variable():
    with pytest.raises(ConfigError, match=r"^DEBUG='maybe' is not a boolean"):
        env(DEBUG="maybe").flag("DEBUG", default=False)


def test_integer_parses_and_defaults():
    assert env(PORT="587").integer("PORT", 25) == 587
    assert env().integer("PORT", 25) == 25
    assert env(PORT="").integer("PORT", 25) == 25


def test_integer_rejects_non_numbers_naming_the_variable():
    with pytest.raises(ConfigError, match=r"^PORT='twelve' is not a whole number"):
        env(PORT="twelve").integer("PORT", 25)


def test_integer_below_minimum_names_the_variable_and_bound():
    with pytest.raises(ConfigError, match=r"^LEASE=2 must be at least 5"):
        env(LEASE="2").integer("LEASE", 60, minimum=5)


def test_items_splits_on_commas_and_drops_blanks():
    assert env(HOSTS=" a.example , b.example,, ").items("HOSTS", []) == [
        "a.example",
        "b.example",
    ]


def test_items_default_only_when_unset():
    assert env().items("HOSTS", ["localhost"]) == ["localhost"]
    assert env(HOSTS="").items("HOSTS", ["localhost"]) == []


def test_choice_accepts_a_listed_value_and_defaults():
    modes = ("development", "production")
    assert env(MODE="production").choice("MODE", "development", modes) == "production"
    assert env().choice("MODE", "development", modes) == "development"


def test_choice_rejects_an_unlisted_value_naming_the_variable():
    with pytest.raises(ConfigError, match=r"^MODE='staging' must be one of: development, prod"):
        env(MODE="staging").choice("MODE", "development", ("development", "production"))


def test_env_reads_os_environ_by_default(monkeypatch):
    monkeypatch.setenv("CAREDESK_TEST_VALUE", "from-os")
    assert Env().text("CAREDESK_TEST_VALUE") == "from-os"


def test_load_env_file_reads_pairs_skipping_comments_and_quotes(tmp_path):
    path = tmp_path / ".env"
    path.write_text(
        "# a comment\n"
        "\n"
        "PLAIN=value\n"
        'DOUBLE="quoted value"\n'
        "SINGLE='single'\n"
        "export EXPORTED=yes\n"
        "  SPACED = padded  \n"
        "WITH_EQUALS=a=b\n",
        encoding="utf-8",
    )
    values: dict[str, str] = {}
    load_env_file(path, values)
    assert values == {
        "PLAIN": "value",
        "DOUBLE": "quoted value",
        "SINGLE": "single",
        "EXPORTED": "yes",
        "SPACED": "padded",
        "WITH_EQUALS": "a=b",
    }


def test_load_env_file_does_not_override_existing_values(tmp_path):
    path = tmp_path / ".env"
    path.write_text("KEEP=from-file\nNEW=from-file\n", encoding="utf-8")
    values = {"KEEP": "from-environment"}
    load_env_file(path, values)
    assert values == {"KEEP": "from-environment", "NEW": "from-file"}


def test_load_env_file_missing_file_is_nothing_to_do(tmp_path):
    values: dict[str, str] = {}
    load_env_file(tmp_path / "absent.env", values)
    assert values == {}


def test_load_env_file_malformed_line_names_file_and_line(tmp_path):
    path = tmp_path / ".env"
    path.write_text("GOOD=1\n# comment\nthis line has no equals sign\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_env_file(path, {})
    assert str(caught.value).startswith(f"{path}:3: expected KEY=VALUE")
