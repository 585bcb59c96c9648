"""One Settings object: defaults, then a TOML file, then ASSISTANT_* env vars, then arguments."""
from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from ingest.limits import MB, Limits


def default_home() -> Path:
    """Per-user data dir (e.g. ~/.local/share/docs-assistant)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("docs-assistant", appauthor=False))


class Section(BaseModel):
    """A [section] of the settings: a key it does not define is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")
    # Keys a section had once, and what to do instead: a file that still sets one is told so, in one line.
    RETIRED: ClassVar[dict[tuple[str, ...], str]] = {}

    @model_validator(mode="before")
    @classmethod
    def _retired(cls, data):
        for keys, instead in cls.RETIRED.items():
            gone = [k for k in keys if isinstance(data, dict) and k in data]
            if gone:
                raise ValueError(f"{', '.join(gone)} {'is' if len(gone) == 1 else 'are'} gone: {instead}")
        return data


class ModelSettings(Section):
    precision: Literal["fp32", "int8"] = Field(
        "int8", description="The embedding model's weights for a new index: int8 (quantized: ingest about 2x "
                            "faster than fp32, vectors cosine ~0.99 to fp32, the same answers within noise; "
                            "answers still embed sentences in fp32) or fp32 (the default before issue 19; "
                            "bench/README.md). An index keeps the precision it was made with, whatever this says: "
                            "re-index into a fresh home (or a new knowledge base) to switch.")


class ChunkSettings(Section):
    size: int = Field(200, ge=32, le=250, description="Chunk length in MiniLM tokens; the model reads at most 256 "
                                                      "(with its 2 special tokens), anything longer is cut.")
    overlap: int = Field(40, ge=0, le=120, description="Tokens shared by consecutive chunks.")


class IngestSettings(Section):
    RETIRED = {("max_paragraphs",): "max_xml_nodes caps a .docx (its XML elements and attributes), max_html_elements "
                                    "an .html file; set those instead (docs/configuration.md)"}

    max_file_mb: float = Field(Limits.max_file_bytes // MB, gt=0, description="Files larger than this are refused; "
                                                                            "no file is read beyond it.")
    max_text_mb: float = Field(Limits.max_text_chars // MB, gt=0, description="A file whose text is longer than "
                               "this (in characters, 1 MB = 1,048,576) is refused once read: an ingest holds the "
                               "text, and its memory grows with it (bench/README.md, Big files).")
    max_unpacked_mb: float = Field(Limits.max_unpacked_bytes // MB, gt=0, description="A .docx, .xlsx, .pptx or "
                                   ".epub whose XML unpacks to more than this is refused before it is parsed (a zip "
                                   "bomb).")
    max_xml_nodes: int = Field(Limits.max_xml_nodes, ge=1, description="A .docx, .xlsx, .pptx or .epub "
                               "whose XML holds more elements and attributes than this is refused before it is parsed "
                               "(lxml builds ~165 bytes a node: the default is ~0.65 GB, a 171,000-paragraph "
                               "document in Word's markup). Also caps the cells of a file's tables, and a PDF page's "
                               "ruling lines (horizontal x vertical, before tables are looked for).")
    max_html_elements: int = Field(Limits.max_html_elements, ge=1, description="An .html file with more elements is "
                                   "refused before it is parsed (BeautifulSoup builds ~1 KB an element).")
    max_pages: int = Field(Limits.max_pages, ge=1, description="A .pdf with more pages is refused before its text is "
                           "read.")
    read_timeout: float = Field(Limits.read_timeout, ge=0, allow_inf_nan=False, description="Seconds a file that is "
                                "not .txt or .md may take to be parsed (in a worker process); one that takes longer "
                                "fails alone and the ingest goes on. 0: no limit, all files are parsed in the "
                                "ingesting process.")
    reader_memory_mb: float = Field(Limits.reader_memory_bytes // MB, ge=0, description="Memory the worker process "
                                    "that parses files other than .txt and .md may take beyond its own start (Linux: "
                                    "its address space, RLIMIT_AS); a file that needs more fails alone. 0: no "
                                    "limit.")
    ocr: bool = Field(True, description="Read image files (.png .jpg .jpeg .tif .tiff) and PDF pages without a text "
                      "layer by OCR (Tesseract, in the reader worker under read_timeout). false: images fail with "
                      "'OCR is off' and a PDF without text fails as before.")
    max_image_megapixels: float = Field(Limits.max_image_pixels / 1e6, gt=0, description="An image file, or a PDF page "
                                        "without text rendered at 300 dpi for OCR, with more pixels is refused before "
                                        "it is decoded or rendered (a decompression bomb).")
    watch_settle: float = Field(1.0, gt=0, le=60, allow_inf_nan=False, description="With --watch: seconds a "
                                "changed file's size and modification time must stay the same before it is read, so "
                                "a file still being written is never indexed half (docs/watch.md).")
    max_upload_mb: float = Field(25, gt=0, description="An uploaded file (chat UI or POST /documents) larger than "
                                                       "this is refused (HTTP 413); ingest big files with "
                                                       "`assistant ingest PATH`.")

    def limits(self):
        """These settings as ingest.limits.Limits."""
        return Limits(max_file_bytes=int(self.max_file_mb * MB), max_text_chars=int(self.max_text_mb * MB),
                      max_unpacked_bytes=int(self.max_unpacked_mb * MB), max_xml_nodes=self.max_xml_nodes,
                      max_html_elements=self.max_html_elements, max_pages=self.max_pages,
                      read_timeout=self.read_timeout, reader_memory_bytes=int(self.reader_memory_mb * MB),
                      ocr=self.ocr, max_image_pixels=int(self.max_image_megapixels * 1e6))



TOP_K_MAX = 50  # the most passages a question may be answered from: the setting, `--top-k`, an HTTP request's top_k


class RetrievalSettings(Section):
    top_k: int = Field(6, ge=1, le=TOP_K_MAX, description="Passages handed to the answerer.")
    dense_k: int = Field(200, ge=1, description="Candidates from the dense (embedding) search.")
    bm25_k: int = Field(200, ge=1, description="Candidates from the BM25 search.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant: score = w / (rrf_k + rank).")
    dense_weight: float = Field(1.0, ge=0, description="Weight of the dense ranking in the fusion.")
    bm25_weight: float = Field(1.0, ge=0, description="Weight of the BM25 ranking in the fusion.")
    rare_term_chunks: int = Field(5, ge=0, description="A query term like an identifier (a digit or an underscore: an "
                                  "error code, a ticket or part number, a snake_case name) found in at most this many "
                                  "chunks, or any term found in one, puts the chunks holding it first; 0: off.")
    max_query_chars: int = Field(1000, ge=50, description="Longer questions are truncated for retrieval (and in the "
                                                          "reply, which repeats the question).")
    max_history_turns: int = Field(20, ge=0, description="Earlier turns of a conversation kept for follow-ups; "
                                                        "older ones are dropped.")



class AnswerSettings(Section):
    RETIRED = {
        ("min_score",): "a fitted model now decides when to decline; set min_confidence (0-1) instead "
                        "(docs/answering.md)",
        # the sentence picker the reader replaced
        ("min_overlap", "relative_cutoff", "duplicate_similarity"):
            "the trained reader now picks the answer's sentences; remove it (extra_margin sets how many join the best "
            "one; docs/answering.md)",
    }

    kind: str = Field("extractive", description="Which answerer replies: extractive (default, offline), llm (needs "
                                                "[llm]) or top-passage (a plain baseline).")
    max_sentences: int = Field(3, ge=1, le=10, description="Sentences in an extractive answer at most.")
    min_confidence: float = Field(0.1, ge=0, le=1, description="Decline when the fitted answerability model gives "
                                  "the reader's answer less than this chance of being right: the one operating "
                                  "point of declining (0: never decline; see docs/answering.md).")
    reader: Path | None = Field(None, description="An ONNX span reader made by bench/train_reader.py, used in "
                                "place of the shipped one (whose sha256 is checked on load); docs/reader.md.")
    options: dict[str, dict] = Field({}, description="Each answerer plugin's own options, as a table per kind: "
                                     "`[answer.options.KIND]` (`assistant answerers` lists them; docs/answerers.md).")
    extra_margin: float = Field(2.0, ge=0, description="Further sentences join the answer when the reader's "
                                "margin for a phrase in them is within this of the best phrase's (0: the best "
                                "sentence alone).")



class LLMSettings(Section):
    base_url: str | None = Field(None, description="An OpenAI-compatible endpoint (Ollama, llama.cpp server, vLLM, "
                                                   "LM Studio, OpenAI), e.g. http://127.0.0.1:11434/v1.")
    model: str = Field("", description="The model name the endpoint serves (e.g. llama3.2); ignored for a GGUF file.")
    api_key: SecretStr | None = Field(None, description="The endpoint's key; set it in the environment, never in a "
                                                        "file you share. Never printed or logged.")
    gguf: Path | None = Field(None, description="A local GGUF model file, run by an in-process llama.cpp server "
                                                "(needs `pip install -e '.[llm]' in the repository`); used when base_url is "
                                                "unset.")
    context_tokens: int = Field(4096, ge=512, description="The model's context window; passages are fitted into it.")
    max_tokens: int = Field(256, ge=16, description="Longest answer the model may write, in tokens.")
    temperature: float = Field(0.0, ge=0, le=2, description="Sampling temperature; 0 answers the same way each time.")
    timeout: float = Field(120.0, gt=0, description="Seconds to wait for the model before giving up.")
    threads: int | None = Field(None, ge=1, description="CPU threads for a GGUF model (default: all cores).")
    min_support: float = Field(0.5, ge=0, le=1, description="A generated sentence is supported when a sentence of a "
                               "passage it cites is at least this similar (cosine); see docs/answering.md.")
    unsupported: Literal["remove", "mark"] = Field(
        "remove", description="A generated sentence its cited passage does not support is removed (default) or "
                              "shown marked as unsupported.")


class ServerSettings(Section):
    api_keys: list[SecretStr] = Field([], description="Keys `assistant serve` accepts as `Authorization: Bearer KEY` "
                                      "(every route but /health needs one when any is set). Set them in the "
                                      "environment: a JSON list, or ASSISTANT_API_KEYS=key1,key2. Never printed "
                                      "or logged.")
    named_keys: dict[str, SecretStr] = Field({}, description="Keys with a name, accepted as api_keys are: the name "
                                             "is what [access.NAME] rules and saved conversations know the caller "
                                             "by (docs/access.md). A plain api_keys entry may do everything. Set them "
                                             "in the environment: ASSISTANT_SERVER__NAMED_KEYS='{\"ci\": \"KEY\"}'. "
                                             "Never printed or logged.")
    max_body_mb: float = Field(1, gt=0, description="Request bodies larger than this are refused (HTTP 413).")
    ingest_roots: list[Path] = Field([], description="Folders POST /ingest may read from (after resolving symlinks); "
                                                     "empty: POST /ingest is refused (HTTP 403).")
    max_upload_files: int = Field(20, ge=1, description="Files one POST /documents may carry; its body may be up to "
                                                        "this many times [ingest] max_upload_mb (HTTP 413 beyond).")

    @field_validator("api_keys")
    @classmethod
    def _no_empty_key(cls, keys: list[SecretStr]) -> list[SecretStr]:
        if any(not key.get_secret_value().strip() for key in keys):
            raise ValueError("an API key is empty")
        return keys

    @field_validator("named_keys")
    @classmethod
    def _named(cls, keys: dict[str, SecretStr]) -> dict[str, SecretStr]:
        if any(not name.strip() for name in keys):
            raise ValueError("a named key's name is empty")
        cls._no_empty_key(list(keys.values()))
        return {name.strip(): key for name, key in keys.items()}

    @model_validator(mode="after")
    def _each_key_once(self):
        keys = [key.get_secret_value() for key in [*self.api_keys, *self.named_keys.values()]]
        if len(set(keys)) != len(keys):
            raise ValueError("the same API key is given twice (api_keys, named_keys): each key is one caller")
        return self

    def has_keys(self) -> bool:
        """Whether any key is set: then every route but /health needs one."""
        return bool(self.api_keys or self.named_keys)


class UISettings(Section):
    users: list[SecretStr] = Field([], description="Accounts of the chat UI, each \"user:password\" (the password "
                                   "may hold colons). When set, `assistant chat` asks for a login; without any it "
                                   "refuses a host beyond localhost unless --insecure. Set them in the environment: "
                                   "a JSON list, or ASSISTANT_UI_USERS=alice:pw1,bob:pw2. Never printed or logged.")

    @field_validator("users")
    @classmethod
    def _user_and_password(cls, users: list[SecretStr]) -> list[SecretStr]:
        for entry in users:
            name, colon, password = entry.get_secret_value().partition(":")
            if not (name.strip() and colon and password):
                raise ValueError('each user is "name:password", with neither part empty')
        return users

    def accounts(self) -> list[tuple[str, str]]:
        """(user, password) pairs, as Gradio's `auth=` takes them."""
        pairs = (entry.get_secret_value().partition(":") for entry in self.users)
        return [(name.strip(), password) for name, _, password in pairs]


class AccessRule(Section):
    """`[access.NAME]`: the knowledge bases a UI user or named API key may read and change (assistant/access.py)."""

    read: list[str] = Field([], description="Knowledge bases NAME may ask, list and read; \"*\" for every one.")
    change: list[str] = Field([], description="Knowledge bases NAME may also ingest into, upload to, remove from, "
                                              "create and delete; \"*\" for every one. Change implies read.")

    @model_validator(mode="before")
    @classmethod
    def _known_actions(cls, data):
        unknown = [key for key in data if key not in cls.model_fields] if isinstance(data, dict) else []
        if unknown:
            raise ValueError(f"unknown action {unknown[0]!r}: a rule has read and change (docs/access.md)")
        return data

    @field_validator("read", "change")
    @classmethod
    def _base_names(cls, names: list[str]) -> list[str]:
        from assistant.access import EVERY
        from assistant.errors import InvalidKnowledgeBaseName
        from assistant.kbnames import check_name

        try:
            return [name if name == EVERY else check_name(name) for name in names]
        except InvalidKnowledgeBaseName as exc:
            raise ValueError(str(exc)) from None


class Settings(BaseSettings):
    """Everything a user can tune; see `assistant --help` and docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", env_nested_delimiter="__", extra="forbid")

    home: Path = Field(default_factory=default_home, description="Where the store and caches live.")
    chroma_url: str | None = Field(None, description="Use a Chroma server (`chroma run`) instead of a local store.")
    model_dir: Path | None = Field(None, description="all-MiniLM-L6-v2 directory; default: the packaged one.")
    embed_batch_size: int = Field(64, ge=1, description="Texts per embedding batch.")
    model: ModelSettings = ModelSettings()
    chunk: ChunkSettings = ChunkSettings()
    ingest: IngestSettings = IngestSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    answer: AnswerSettings = AnswerSettings()
    llm: LLMSettings = LLMSettings()
    server: ServerSettings = ServerSettings()
    ui: UISettings = UISettings()
    access: dict[str, AccessRule] = Field({}, description="Who may read and change which knowledge bases: "
                                          "[access.NAME] read = [...], change = [...] for a [ui] users name or a "
                                          "[server] named_keys name; NAME without a rule, and a plain api_keys key, "
                                          "may do everything (docs/access.md). In the environment: "
                                          "ASSISTANT_ACCESS='{\"alice\": {\"read\": [\"*\"]}}'.")

    @model_validator(mode="after")
    def _rules_name_someone(self):
        from assistant.access import check_rules

        check_rules(self)
        return self

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings) -> tuple[PydanticBaseSettingsSource, ...]:
        from pydantic_settings import TomlConfigSettingsSource

        config = os.environ.get("ASSISTANT_CONFIG")
        sources: tuple[PydanticBaseSettingsSource, ...] = (
            init_settings, env_settings, _CommaList(settings_cls, "ASSISTANT_API_KEYS", "server", "api_keys"),
            _CommaList(settings_cls, "ASSISTANT_UI_USERS", "ui", "users"))
        if config:
            sources += (TomlConfigSettingsSource(settings_cls, toml_file=Path(config)),)
        return sources

    @classmethod
    def load(cls, config: str | Path | None = None, **overrides) -> Settings:
        """Settings from a TOML file (or $ASSISTANT_CONFIG), env vars, then overrides."""
        from assistant.errors import ConfigError

        previous = os.environ.get("ASSISTANT_CONFIG")
        if config is not None:
            if not Path(config).is_file():
                raise ConfigError(f"Config file not found: {config}")
            os.environ["ASSISTANT_CONFIG"] = str(config)
        try:
            return cls(**{k: v for k, v in overrides.items() if v is not None})
        except ValidationError as exc:
            raise ConfigError(f"Invalid settings: {'; '.join(map(_problem, exc.errors()))}") from exc
        except ValueError as exc:  # e.g. a TOML syntax error
            raise ConfigError(f"Invalid settings file {config}: {exc}") from exc
        finally:
            if config is not None:
                if previous is None:
                    os.environ.pop("ASSISTANT_CONFIG", None)
                else:
                    os.environ["ASSISTANT_CONFIG"] = previous

    @property
    def store_dir(self) -> Path:
        """The local Chroma store, shared by every knowledge base of the home (assistant/kb.py)."""
        return self.home / "chroma"


def _problem(error: dict) -> str:
    """One validation error as a user reads it; an unknown key names the closest valid one, in its own section
    first, then anywhere (`top_k` set outside [retrieval])."""
    if error["type"] != "extra_forbidden":
        where = ".".join(map(str, error["loc"]))
        return f"{where}: {error['msg']}" if where else error["msg"]
    *outer, key = map(str, error["loc"])
    section = outer[0] if outer else None
    known = [(s, name) for s, name, _ in _leaves()]
    for pool, cutoff in (([k for k in known if k[0] == section], 0.6), (known, 0.75)):
        names = [name for _, name in pool]
        if close := difflib.get_close_matches(key, names, n=1, cutoff=cutoff):
            return f"unknown setting {_toml_key(section, key)}; did you mean {_toml_key(*pool[names.index(close[0])])}?"
    return f"unknown setting {_toml_key(section, key)} (docs/configuration.md lists them all)"


def _toml_key(section: str | None, name: str) -> str:
    return f"[{section}] {name}" if section else name


def _leaves(model: type[BaseModel] | None = None, section: str | None = None):
    """(section, name, field) of every setting a user sets, in the order of the classes above."""
    for name, field in (model or Settings).model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            yield from _leaves(kind, name)
        else:
            yield section, name, field


class _CommaList(PydanticBaseSettingsSource):
    """A list of secrets without JSON: ASSISTANT_API_KEYS=key1,key2 or ASSISTANT_UI_USERS=alice:pw1,bob:pw2.

    The nested variable (ASSISTANT_SERVER__API_KEYS, ASSISTANT_UI__USERS) wins over it. An entry cannot
    hold a comma; use the nested variable's JSON list for one that does."""

    def __init__(self, settings_cls, env: str, section: str, name: str):
        super().__init__(settings_cls)
        self.env, self.section, self.name = env, section, name

    def get_field_value(self, field, field_name):  # pragma: no cover - __call__ does the work
        return None, field_name, False

    def __call__(self) -> dict:
        items = [item.strip() for item in os.environ.get(self.env, "").split(",") if item.strip()]
        return {self.section: {self.name: items}} if items else {}


def settings_table() -> str:
    """The Markdown table of every setting (docs/configuration.md holds a copy; a test keeps it current)."""
    rows = ["| TOML key | environment variable | default | meaning |", "|---|---|---|---|"]
    for section, name, field in _leaves():
        env = "ASSISTANT_" + (f"{section}__{name}" if section else name).upper()
        default = "(per-user data dir)" if field.default_factory else field.default
        rows.append(f"| `{_toml_key(section, name)}` | `{env}` | `{default}` | {field.description} |")
    return "\n".join(rows)
