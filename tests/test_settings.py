"""Settings: TOML file, env vars, arguments, and one-line errors for bad ones."""
from __future__ import annotations

import pytest

from assistant import ConfigError, Settings


def test_toml_then_env_then_arguments(tmp_path, monkeypatch):
    config = tmp_path / "settings.toml"
    config.write_text('[retrieval]\ntop_k = 9\nrrf_k = 30\n\n[answer]\nmin_confidence = 0.6\n')
    monkeypatch.setenv("ASSISTANT_RETRIEVAL__RRF_K", "20")
    settings = Settings.load(config, home=tmp_path)
    assert (settings.retrieval.top_k, settings.retrieval.rrf_k, settings.answer.min_confidence) == (9, 20, 0.6)
    assert settings.home == tmp_path


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match=r"^Config file not found: .*nope\.toml$"):
        Settings.load(tmp_path / "nope.toml")


def test_invalid_value_is_one_line(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text('[chunk]\nsize = 4000\n')
    with pytest.raises(ConfigError) as err:
        Settings.load(config, home=tmp_path)
    assert str(err.value) == "Invalid settings: chunk.size: Input should be less than or equal to 250"


def test_invalid_precision_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_MODEL__PRECISION", "int4")
    with pytest.raises(ConfigError) as err:
        Settings.load(home=tmp_path)
    assert str(err.value) == "Invalid settings: model.precision: Input should be 'fp32' or 'int8'"
    monkeypatch.setenv("ASSISTANT_MODEL__PRECISION", "int8")
    assert Settings.load(home=tmp_path).model.precision == "int8"


@pytest.mark.parametrize("toml, message", [
    ("[retrieval]\ntop_kk = 3\n", "unknown setting [retrieval] top_kk; did you mean [retrieval] top_k?"),
    ("top_kk = 3\n", "unknown setting top_kk; did you mean [retrieval] top_k?"),
    ("[ingest]\nread_timout = 5\n", "unknown setting [ingest] read_timout; did you mean [ingest] read_timeout?"),
    ("[answer]\nzzz = 1\n", "unknown setting [answer] zzz (docs/configuration.md lists them all)"),
])
def test_an_unknown_key_is_an_error_naming_the_closest_valid_one(tmp_path, toml, message):
    config = tmp_path / "typo.toml"
    config.write_text(toml)
    with pytest.raises(ConfigError) as err:
        Settings.load(config, home=tmp_path)
    assert str(err.value) == f"Invalid settings: {message}"


def test_an_unknown_nested_environment_variable_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_RETRIEVAL__TOPK", "3")
    with pytest.raises(ConfigError, match=r"^Invalid settings: unknown setting \[retrieval\] topk; did you mean "
                                          r"\[retrieval\] top_k\?$"):
        Settings.load(home=tmp_path)


def test_the_retired_score_floor_says_what_replaced_it(tmp_path):
    config = tmp_path / "old.toml"
    config.write_text("[answer]\nmin_score = 0.5\n")
    with pytest.raises(ConfigError) as err:
        Settings.load(config, home=tmp_path)
    assert str(err.value) == ("Invalid settings: answer: Value error, min_score is gone: a fitted model now decides "
                              "when to decline; set min_confidence (0-1) instead (docs/answering.md)")
    assert "\n" not in str(err.value)


def test_the_retired_sentence_rules_say_what_replaced_them(tmp_path):
    config = tmp_path / "old.toml"
    config.write_text("[answer]\nmin_overlap = 0.2\nrelative_cutoff = 0.7\n")
    with pytest.raises(ConfigError) as err:
        Settings.load(config, home=tmp_path)
    assert str(err.value) == ("Invalid settings: answer: Value error, min_overlap, relative_cutoff are gone: the "
                              "trained reader now picks the answer's sentences; remove it (extra_margin sets how "
                              "many join the best one; docs/answering.md)")


def test_a_reader_file_that_does_not_exist_is_one_line_on_the_first_question(tmp_path, sample_home, embedder):
    from assistant import Assistant
    from vectorstore.errors import ModelError

    assistant = Assistant.open(home=sample_home, embedder=embedder, answer={"reader": str(tmp_path / "nope.onnx")})
    with pytest.raises(ModelError) as err:
        assistant.ask("Who denied involvement?")
    assert str(err.value).startswith("Cannot load the reader model") and "\n" not in str(err.value)


def test_configuration_docs_list_every_setting_as_it_is():
    from pathlib import Path

    from assistant.settings import settings_table

    docs = (Path(__file__).resolve().parents[1] / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert settings_table() in docs, "docs/configuration.md is stale: paste assistant.settings.settings_table()"


def test_evals_docs_list_every_answerer_as_registered():
    from pathlib import Path

    from assistant.answerers import answerers_table

    docs = (Path(__file__).resolve().parents[1] / "docs" / "evals.md").read_text(encoding="utf-8")
    assert answerers_table() in docs, "docs/evals.md is stale: paste assistant.answerers.answerers_table()"
