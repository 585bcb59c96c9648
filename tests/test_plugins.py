"""Answerer plugins: a real installed distribution (dist-info with an entry point) adds a kind with its own
options, through the same hook as the built-ins (assistant/answerers/__init__.py)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support import clean_env

PLUGIN = '''
"""A plugin answerer: quotes the top passage after its own prefix."""
from pydantic import BaseModel, Field

from assistant.answer import Answer, Citation
from assistant.answerers import Kind
from assistant.answerers.base import Answerer, abstain, speak


class Options(BaseModel, extra="forbid"):
    prefix: str = Field("Echo:", description="Put before the quoted passage.")
    words: int = Field(12, ge=1, description="Words of the passage to quote.")


KIND = Kind("Echo (a test plugin)", "echo_answerer", options=Options)


class Echo(Answerer):
    def __init__(self, options):
        self.options = options

    def answer(self, request):
        if not request.hits:
            yield from speak(abstain("nothing was retrieved"))
            return
        chunk = request.hits[0].chunk
        quote = " ".join(chunk.text.split()[:self.options.words])
        citation = Citation(n=1, source=chunk.source, title=chunk.title, text=chunk.text, sentence=chunk.text,
                            start=chunk.start, end=chunk.end, score=1.0, chunk_id=chunk.id)
        yield from speak(Answer(text=f"{self.options.prefix} {quote} [1]", citations=(citation,)))


def make(settings, embedder, options):
    return Echo(options)
'''


COMMAND = '''
"""A plugin command: greets, and counts the documents of the knowledge base through the application service."""
from typing import Annotated

import typer

from assistant.commandline import KbOption, open_service


def hello(name: Annotated[str, typer.Argument(metavar="NAME")], kb: KbOption = None) -> None:
    """Say hello and how many documents are indexed."""
    print(f"Hello {name}: {len(open_service(kb).sources())} documents")
'''


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory) -> Path:
    """A folder on PYTHONPATH holding the plugin module and its installed metadata (what pip would write)."""
    root = tmp_path_factory.mktemp("plugin")
    (root / "echo_answerer.py").write_text(textwrap.dedent(PLUGIN))
    (root / "hello_command.py").write_text(textwrap.dedent(COMMAND))
    info = root / "echo_answerer-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: echo-answerer\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[docs_assistant.answerers]\necho = echo_answerer:KIND\n"
                                           "broken = no_such_module:KIND\n"
                                           "[docs_assistant.commands]\nhello = hello_command:hello\n"
                                           "ask = hello_command:hello\ngone = no_such_module:command\n")
    return root


def run(plugin_path: Path, *args: str, config: Path | None = None) -> subprocess.CompletedProcess:
    env = clean_env(PYTHONPATH=os.pathsep.join([str(plugin_path), str(Path(__file__).resolve().parents[1])]))
    if config:
        env["ASSISTANT_CONFIG"] = str(config)
    return subprocess.run([sys.executable, "-m", "assistant", *args], env=env, capture_output=True, text=True,
                          timeout=300)


def test_a_plugin_lists_with_its_options(plugin_path, tmp_path):
    done = run(plugin_path, "--home", str(tmp_path), "answerers", "--json")
    assert done.returncode == 0, done.stderr
    rows = {row["kind"]: row for row in json.loads(done.stdout)}
    assert list(rows)[:3] == ["extractive", "llm", "top-passage"]  # built-ins first, through the same hook
    assert rows["echo"]["available"] and [o["name"] for o in rows["echo"]["options"]] == ["prefix", "words"]
    assert "broken" not in rows and "answerer plugin 'broken'" in done.stderr  # a broken plugin is left out, said


def test_a_plugin_answers_with_its_options(plugin_path, sample_home, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[answer.options.echo]\nprefix = "Quoted:"\nwords = 3\n')
    done = run(plugin_path, "--home", str(sample_home), "ask", "--answerer", "echo", "--json",
               "Who denied involvement?", config=config)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["answer"].startswith("Quoted: ") and len(answer["answer"].split()) == 5  # prefix, 3 words, [1]
    assert answer["citations"][0]["source"].endswith(".txt")


@pytest.mark.parametrize("toml, message", [
    ('[answer.options.echo]\nwords = 0\n', "[answer.options.echo] words: Input should be greater than or equal to 1"),
    ('[answer.options.echo]\ncolour = "red"\n', "[answer.options.echo] colour: Extra inputs are not permitted"),
    ('[answer.options.extractive]\nwords = 3\n', "[answer.options.extractive]: the extractive answerer takes no options"),
])
def test_bad_options_are_one_line(plugin_path, sample_home, tmp_path, toml, message):
    config = tmp_path / "config.toml"
    config.write_text(toml)
    kind = "extractive" if "extractive" in toml else "echo"
    done = run(plugin_path, "--home", str(sample_home), "ask", "--answerer", kind, "Who?", config=config)
    assert done.returncode == 1 and done.stderr.strip().splitlines()[-1] == f"Error: {message}", done.stderr


def test_a_plugin_adds_a_command_through_the_same_hook_as_chat_eval_and_serve(plugin_path, sample_home):
    done = run(plugin_path, "--home", str(sample_home), "hello", "Ada")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Hello Ada: 5 documents"
    listed = run(plugin_path, "--help")
    commands = [line.split()[0] for line in listed.stdout.split("Commands:")[1].splitlines() if line.strip()]
    assert {"chat", "eval", "serve", "hello"} <= set(commands) and "gone" not in commands
    # A name that is taken keeps the built-in; a plugin that fails to load is left out; both are said.
    assert "command 'ask' (hello_command:hello) is left out" in listed.stderr
    assert "command 'gone' (no_such_module:command) failed to load" in listed.stderr
    assert "Usage: python -m assistant ask [OPTIONS] QUESTION" in run(plugin_path, "ask", "--help").stdout
