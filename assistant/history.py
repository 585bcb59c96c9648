"""Saved conversations: every turn asked through the chat UI or the native API, kept per owner in the home.

One SQLite file (`conversations.sqlite3` in the home) in WAL mode: any number of readers, one writer at a
time, each turn written in one transaction, so a process killed mid-turn loses at most that turn and the file
opens cleanly after. Several processes (two `chat` tabs, a `serve`) may write the same conversation: a turn's
number is taken inside its write transaction, so none is lost or numbered twice.

The schema carries its version (`PRAGMA user_version`); MIGRATIONS brings an older file up to date when it is
opened. A file that is not a database, or stays locked, is one HistoryUnavailable naming the file: the caller
answers without history and says so.

An owner is the name of whoever asks: a UI user, an API key's name, or LOCAL when no login is set up.
Nobody reads, changes or finds another owner's conversations: to them they do not exist.
"""
from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from assistant.access import LOCAL  # noqa: F401  (the owner when nobody logs in; re-exported for callers)
from assistant.errors import HistoryUnavailable, InvalidConversationInput, UnknownConversation
from assistant.text_input import require_text

FILE_NAME = "conversations.sqlite3"
TITLE_CHARS = 80  # a new conversation is titled with its first question, cut here
COMMENT_CHARS = 2000  # the longest comment a rating may carry
LISTED = 200  # the most conversations a list or search gives, most recently active first
BUSY_SECONDS = 10.0  # how long a write waits for another writer before the file counts as locked

MIGRATIONS: dict[int, str] = {  # schema version -> the SQL that brings the version before it up to it
    1: """
    CREATE TABLE conversations (
        id TEXT PRIMARY KEY, owner TEXT NOT NULL, title TEXT NOT NULL,
        created REAL NOT NULL, updated REAL NOT NULL);
    CREATE INDEX conversations_by_owner ON conversations (owner, updated DESC);
    CREATE TABLE turns (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL, answerer TEXT NOT NULL,
        kb TEXT NOT NULL, created REAL NOT NULL, rating INTEGER, comment TEXT, rated REAL,
        UNIQUE (conversation, seq));
    CREATE VIRTUAL TABLE turns_text USING fts5 (question, answer, tokenize = 'unicode61 remove_diacritics 2');
    """,
}
SCHEMA_VERSION = max(MIGRATIONS)


@dataclass(frozen=True)
class Turn:
    """One question and the answer given to it (Answer.to_dict()), with how the asker rated it."""

    id: int
    seq: int
    question: str
    answer: dict
    answerer: str
    kb: str
    created: float
    rating: int | None = None  # +1 thumbs up, -1 thumbs down
    comment: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Conversation:
    """A conversation's header; `turns` holds its turns when it was read whole, else is empty."""

    id: str
    owner: str
    title: str
    created: float
    updated: float
    count: int  # how many turns it has
    turns: tuple[Turn, ...] = field(default=())

    def to_dict(self) -> dict:
        data = asdict(self)
        data["turns"] = [t.to_dict() for t in self.turns]
        return data


class History:
    """The conversations file of one home. Thread-safe: each thread keeps its own connection."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._local = threading.local()

    @classmethod
    def of(cls, settings) -> History:
        """The conversations file of a home (also when the index is on a Chroma server)."""
        return cls(Path(settings.home) / FILE_NAME)

    # -- reading ------------------------------------------------------------------------------------------------

    def conversations(self, owner: str, search: str | None = None, limit: int = LISTED) -> list[Conversation]:
        """The owner's conversations, most recently active first; with `search`, those whose title, questions or
        answers hold every word of it (a word matches as a prefix: "encrypt" finds "encryption")."""
        sql = ("SELECT c.*, (SELECT COUNT(*) FROM turns t WHERE t.conversation = c.id) FROM conversations c "
               "WHERE c.owner = ?")
        args: list = [owner]
        words = _words(require_text(search or "", "search"))
        if words:
            sql += (" AND (c.id IN (SELECT t.conversation FROM turns t JOIN turns_text x ON x.rowid = t.id "
                    "WHERE turns_text MATCH ?) OR (" +
                    " AND ".join("c.title LIKE ? ESCAPE '\\'" for _ in words) + "))")
            args.append(" ".join(f'"{w}"*' for w in words))
            args.extend(f"%{_like(w)}%" for w in words)
        sql += " ORDER BY c.updated DESC LIMIT ?"
        args.append(limit)
        return [_conversation(row) for row in self._read(sql, args)]

    def conversation(self, owner: str, cid: str) -> Conversation:
        """One of the owner's conversations with all its turns; UnknownConversation if it has none of that id."""
        rows = self._read("SELECT c.*, (SELECT COUNT(*) FROM turns t WHERE t.conversation = c.id) "
                          "FROM conversations c WHERE c.id = ? AND c.owner = ?", [cid, owner])
        if not rows:
            raise UnknownConversation(f"No conversation {cid!r}")
        turns = self._read("SELECT id, seq, question, answer, answerer, kb, created, rating, comment FROM turns "
                           "WHERE conversation = ? ORDER BY seq", [cid])
        return _conversation(rows[0], tuple(_turn(row) for row in turns))

    def rated(self) -> list[tuple[Conversation, Turn]]:
        """Every rated turn of every owner, each with its conversation read up to that turn (for the eval export)."""
        out, read = [], {}  # each conversation is read once, however many of its turns are rated
        for owner, cid, seq in self._read("SELECT c.owner, c.id, t.seq FROM turns t JOIN conversations c "
                                          "ON c.id = t.conversation WHERE t.rating IS NOT NULL "
                                          "ORDER BY c.created, t.seq", []):
            if cid not in read:
                read[cid] = self.conversation(owner, cid)
            out.append((read[cid], next(t for t in read[cid].turns if t.seq == seq)))
        return out

    # -- writing ------------------------------------------------------------------------------------------------

    def start(self, owner: str, title: str = "") -> Conversation:
        """A new, empty conversation of the owner; untitled, its first question titles it."""
        now = time.time()
        cid = uuid.uuid4().hex
        title = _title(require_text(title, "title"))
        with self._write() as db:
            db.execute("INSERT INTO conversations VALUES (?, ?, ?, ?, ?)", (cid, owner, title, now, now))
        return Conversation(cid, owner, title, now, now, 0)

    def add_turn(self, owner: str, cid: str | None, question: str, answer: dict, answerer: str, kb: str) -> Turn:
        """Save one answered question at the end of the owner's conversation `cid` (None: a new one, titled by
        the question). The turn's number is taken in the same transaction, so concurrent writers lose nothing."""
        if cid is None:
            cid = self.start(owner, question).id
        now = time.time()
        with self._write() as db:
            self._own(db, owner, cid)
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM turns WHERE conversation = ?", (cid,)).fetchone()[0]
            row = db.execute("INSERT INTO turns (conversation, seq, question, answer, answerer, kb, created) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (cid, seq, question, json.dumps(answer, ensure_ascii=False), answerer, kb, now))
            db.execute("INSERT INTO turns_text (rowid, question, answer) VALUES (?, ?, ?)",
                       (row.lastrowid, question, str(answer.get("answer") or "")))
            db.execute("UPDATE conversations SET updated = ?, title = CASE title WHEN '' THEN ? ELSE title END "
                       "WHERE id = ?", (now, _title(question), cid))
        return Turn(row.lastrowid, seq, question, answer, answerer, kb, now)

    def rename(self, owner: str, cid: str, title: str) -> None:
        title = _title(require_text(title, "title"))
        if not title:
            raise InvalidConversationInput("A conversation's title cannot be empty")
        with self._write() as db:
            self._own(db, owner, cid)
            db.execute("UPDATE conversations SET title = ? WHERE id = ?", (title, cid))

    def delete(self, owner: str, cid: str) -> None:
        """Remove the owner's conversation and its turns."""
        with self._write() as db:
            self._own(db, owner, cid)
            db.execute("DELETE FROM turns_text WHERE rowid IN (SELECT id FROM turns WHERE conversation = ?)", (cid,))
            db.execute("DELETE FROM conversations WHERE id = ?", (cid,))

    def rate(self, owner: str, turn_id: int, rating: int, comment: str | None = None) -> str | None:
        """Thumbs up (+1) or down (-1) on one of the owner's turns, with an optional comment (at most
        COMMENT_CHARS); a later rating replaces an earlier one. The comment as kept (stripped; None if empty)."""
        if rating not in (1, -1):
            raise InvalidConversationInput("A rating is 1 (thumbs up) or -1 (thumbs down)")
        comment = require_text(comment or "", "comment").strip() or None
        if comment and len(comment) > COMMENT_CHARS:
            raise InvalidConversationInput(f"A comment is at most {COMMENT_CHARS:,} characters "
                                           f"(this one has {len(comment):,})")
        with self._write() as db:
            found = db.execute("SELECT 1 FROM turns t JOIN conversations c ON c.id = t.conversation "
                               "WHERE t.id = ? AND c.owner = ?", (turn_id, owner)).fetchone()
            if found is None:
                raise UnknownConversation(f"No turn {turn_id}")
            db.execute("UPDATE turns SET rating = ?, comment = ?, rated = ? WHERE id = ?",
                       (rating, comment, time.time(), turn_id))
        return comment

    # -- the file -----------------------------------------------------------------------------------------------

    def check(self) -> None:
        """Open the file (making or migrating it); HistoryUnavailable if it cannot be used."""
        self._db()

    def _own(self, db: sqlite3.Connection, owner: str, cid: str) -> None:
        if db.execute("SELECT 1 FROM conversations WHERE id = ? AND owner = ?", (cid, owner)).fetchone() is None:
            raise UnknownConversation(f"No conversation {cid!r}")

    def _read(self, sql: str, args: list) -> list:
        try:
            return self._db().execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise self._unavailable(exc) from None

    def _write(self):
        return _Transaction(self)

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            try:
                db = self._open()
            except sqlite3.Error as exc:
                raise self._unavailable(exc) from None
            self._local.db = db
        return db

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA foreign_keys = ON")
            db.execute("PRAGMA synchronous = NORMAL")  # WAL: a power cut may lose the last turns, never the file
            _migrate(db, self.path)
        except BaseException:
            db.close()
            raise
        return db

    def _unavailable(self, exc: sqlite3.Error) -> HistoryUnavailable:
        reason = str(exc)
        if "locked" in reason or "busy" in reason:
            reason = f"locked by another program for over {BUSY_SECONDS:g} s"
        return HistoryUnavailable(f"Conversation history {self.path} cannot be used: {reason}")


class _Transaction:
    """`with history._write() as db:` one immediate (write-locked) transaction, committed or rolled back whole."""

    def __init__(self, history: History):
        self.history = history

    def __enter__(self) -> sqlite3.Connection:
        self.db = self.history._db()
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self.history._unavailable(exc) from None
        return self.db

    def __exit__(self, kind, exc, tb) -> None:
        if kind is None:
            try:
                self.db.execute("COMMIT")
                return
            except sqlite3.Error as error:
                self.db.execute("ROLLBACK")
                raise self.history._unavailable(error) from None
        self.db.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            raise self.history._unavailable(exc) from None


def _migrate(db: sqlite3.Connection, path: Path) -> None:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise sqlite3.DatabaseError(f"it was written by a newer version (schema {version}; this one knows up to "
                                    f"{SCHEMA_VERSION})")
    for target in range(version + 1, SCHEMA_VERSION + 1):
        db.execute("BEGIN IMMEDIATE")
        try:
            # another process may have just done it; statement by statement, as executescript() would commit
            if db.execute("PRAGMA user_version").fetchone()[0] < target:
                for statement in _statements(MIGRATIONS[target]):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {target}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _conversation(row, turns: tuple[Turn, ...] = ()) -> Conversation:
    cid, owner, title, created, updated, count = row
    return Conversation(cid, owner, title, created, updated, count, turns)


def _turn(row) -> Turn:
    tid, seq, question, answer, answerer, kb, created, rating, comment = row
    return Turn(tid, seq, question, json.loads(answer), answerer, kb, created, rating, comment)


def _title(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TITLE_CHARS else text[:TITLE_CHARS - 1].rstrip() + "…"


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


def _like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# -- what a conversation becomes outside ---------------------------------------------------------------------------

def to_markdown(conversation: Conversation) -> str:
    """The conversation as Markdown: each question, its answer, and the answer's numbered sources."""
    from datetime import datetime, timezone

    from assistant.answer import page_label

    lines = [f"# {conversation.title or 'Conversation'}", ""]
    for turn in conversation.turns:
        when = datetime.fromtimestamp(turn.created, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        lines += [f"## {turn.question}", "", f"*{when} · {turn.answerer} · knowledge base {turn.kb}*", "",
                  turn.answer.get("answer") or "", ""]
        citations = turn.answer.get("citations") or []
        if citations:
            lines.append("Sources:")
            for c in citations:
                page = page_label(c.get("page_kind") or "page", c["page"]) if c.get("page") is not None else ""
                where = ", ".join(x for x in (c["source"], page) if x)
                quote = " ".join((c.get("sentence") or c.get("text") or "").split())
                lines.append(f"{c['n']}. {where}" + (f": “{quote}”" if quote else ""))
            lines.append("")
        if turn.rating:
            lines += [f"Rated {'👍' if turn.rating > 0 else '👎'}" + (f": {turn.comment}" if turn.comment else ""), ""]
    return "\n".join(lines).rstrip() + "\n"


def to_case(conversation: Conversation, turn: Turn) -> dict:
    """The eval case (docs/evals.md format) a rated turn stands for, with the conversation's earlier questions as
    its history:
    - thumbs up on an answer: the answer is right, and its gold sources are the ones it cited;
    - thumbs up on a decline, or thumbs down on an answer with no comment: the assistant must decline;
    - thumbs down with a comment, or on a decline: the right answer is for a person to fill in (`answers` is
      empty until then, and the comment is the case's note)."""
    answer = turn.answer
    declined = bool(answer.get("abstained"))
    case: dict = {"id": f"{conversation.id[:8]}-{turn.seq}", "question": turn.question}
    if turn.rating == 1 and not declined:
        case["answers"] = [answer.get("short") or answer.get("answer") or ""]
        case["sources"] = sorted({c["source"] for c in answer.get("citations") or []})
    elif (turn.rating == 1 and declined) or (turn.rating == -1 and not declined and not turn.comment):
        case["answers"] = None
    else:
        case["answers"] = []
        case["note"] = turn.comment or "declined, but the asker expected an answer"
        case["given"] = answer.get("answer") or ""
    history = [t.question for t in conversation.turns if t.seq < turn.seq]
    if history:
        case["history"] = history
    return case
