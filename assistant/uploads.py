"""Uploads, for the chat UI and `POST /documents` alike: copy files into the knowledge base's uploads
folder (`<home>/uploads/` for the default one, `<home>/kb/NAME/uploads/` for another) under safe
names, then ingest them from there.

One service so both front ends have the same limits (`[ingest] max_upload_mb` per file, the types
of `ingest.files.SUPPORTED_SUFFIXES`, no empty file), the same name handling (`safe_name`) and the
same report. It imports neither Gradio nor FastAPI. The UI reports a refused file in its line of the
report and ingests the rest of the drop; the API first calls `check_uploads`, so a request with one
refused file is an HTTP error and changes nothing.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import time
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Annotated, Literal

from pydantic import Field

from ingest.errors import EmptyDocument, FileTooLarge, IngestError, UnreadableFile, UnsupportedFile
from ingest.files import SUPPORTED_SUFFIXES, source_for
from ingest.limits import MB
from ingest.progress import IngestProgress
from ingest.report import FileResult, IngestReport

_MAX_NAME = 120
_MAX_NAME_BYTES = 200  # file systems allow 255 bytes a name; 120 CJK characters are 360
_LOCK = threading.Lock()  # one drop at a time: the sweep must not take another drop's copies for abandoned ones
_UNSAFE = re.compile(r"[^\w .()+,@=-]+")  # \w is Unicode-aware: letters of any script stay


@dataclass(frozen=True)
class UploadResult:
    """What happened to one uploaded file: an ingest status or 'failed' with the reason."""

    name: Annotated[str, Field(description="The file name as given, without any folder part.")]
    status: Literal["added", "updated", "unchanged", "failed"]
    source: Annotated[str, Field(description="The indexed copy in `<home>/uploads/`; empty when it failed.")] = ""
    chunks: int = 0
    error: str | None = None


@dataclass(frozen=True)
class UploadReport:
    """The result of one drop (or one `POST /documents`): a line per file, in the order given."""

    files: Annotated[list[UploadResult], Field(description="One line per uploaded file, in the order sent.")]
    seconds: float = 0.0

    def to_dict(self) -> dict:
        """The `ingest --json` report of the stored copies, plus `files`: each upload by the name it was given.

        A refused file has no copy: it is listed in `failed` under its given name."""
        results = tuple(FileResult(r.name if r.status == "failed" else r.source, r.status, r.chunks, r.error)
                        for r in self.files)
        embedded = sum(r.chunks for r in self.files if r.status in ("added", "updated"))
        report = IngestReport(results=results, chunks=embedded, seconds=self.seconds)
        return {**report.to_dict(), "files": [asdict(r) for r in self.files]}


def max_upload_bytes(settings) -> int:
    """The largest file an upload may be, from `[ingest] max_upload_mb`."""
    return int(settings.ingest.max_upload_mb * MB)


def shown_name(name: str | os.PathLike) -> str:
    """The name an upload is reported under: the given name without any folder part (`../../x.txt` -> `x.txt`);
    "upload" for a name that is nothing else (an HTTP file part may come with an empty file name)."""
    return PurePosixPath(str(name).replace("\\", "/")).name or "upload"


def uploads_dir(root: str | os.PathLike) -> Path:
    """The folder uploads are copied into (created on demand), in a knowledge base's folder (`kb.root`: the
    home for the default one)."""
    folder = Path(root) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def safe_name(name: str) -> str:
    """A plain file name for an uploaded file: no folders, no leading dots, no control characters."""
    name = unicodedata.normalize("NFKC", str(name)).replace("\\", "/")
    name = PurePosixPath(name).name  # drops any folder part, including ../ and absolute paths
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name).strip(" .")
    name = re.sub(r"_{2,}", "_", name)
    stem, suffix = os.path.splitext(name)
    if not stem.strip("_ "):
        stem = "upload"
    suffix = suffix[:16]
    stem = stem[:_MAX_NAME - len(suffix)]
    while len((stem + suffix).encode("utf-8")) > _MAX_NAME_BYTES:
        stem = stem[:-1]
    return stem.rstrip(" .") + suffix


def destination(root: str | os.PathLike, name: str) -> Path:
    """Where an upload called `name` is stored; always directly inside the uploads folder."""
    folder = uploads_dir(root).resolve()
    path = folder / safe_name(name)
    if path.resolve().parent != folder:  # belt and braces: a symlink planted in the folder
        raise ValueError(f"refusing to write outside {folder}: {name!r}")
    return path


def check_uploads(settings, files: list[tuple[str | os.PathLike, str]]) -> None:
    """Raise the refusal of the first (temp path, original name) upload that would be refused, if any.

    FileTooLarge, UnsupportedFile, EmptyDocument or UnreadableFile: what the HTTP API answers with
    before anything is copied, so a bad file in a request leaves the index as it was."""
    for temp, name in files:
        refusal = _refusal(settings, Path(temp), shown_name(name))
        if refusal:
            raise refusal


def ingest_uploads(assistant, files: list[tuple[str | os.PathLike, str]],
                   progress: IngestProgress | None = None) -> UploadReport:
    """Copy (temp path, original name) uploads into the uploads folder and ingest them.

    A refused file (see `check_uploads`) gets a `failed` line with the reason; the others go on.

    A refused or failed file never costs what was there before: a file that replaced an
    earlier upload of the same name is put back, a new one that failed is deleted. Two files
    of one drop that would get the same name are not both kept: the later one is refused.
    What a run that died left behind (copies never indexed, backups) is cleaned up first.
    """
    started = time.perf_counter()
    # The store's write lock, not only ours: another process's upload must not be swept as abandoned.
    with _LOCK, assistant.store.writer():
        sweep_uploads(assistant)
        results = _ingest_uploads(assistant, files, progress)
    return UploadReport(results, time.perf_counter() - started)


def _ingest_uploads(assistant, files, progress) -> list[UploadResult]:
    root = assistant.kb.root
    results: dict[int, UploadResult] = {}
    staged: list[tuple[int, str, Path, Path | None]] = []  # (index, name, copy, backup of the old copy)
    incoming = uploads_dir(root) / ".incoming"  # hidden, so `assistant ingest uploads/` skips it
    taken: dict[Path, str] = {}  # destination -> the name of the file of this drop that has it
    for i, (temp, name) in enumerate(files):
        shown = shown_name(name)
        refusal = _refusal(assistant.settings, Path(temp), shown)
        if refusal:
            results[i] = UploadResult(shown, "failed", error=str(refusal))
            continue
        try:
            dest = destination(root, shown)
            if dest in taken:
                results[i] = UploadResult(shown, "failed", error=(
                    f"{shown}: another file in this drop ({taken[dest]}) is also stored as {dest.name}; "
                    "upload this one on its own or rename it, so neither overwrites the other"))
                continue
            incoming.mkdir(exist_ok=True)
            backup = None
            if dest.exists():
                backup = _backup_path(dest)
                shutil.copy2(dest, backup)
            _copy_atomic(Path(temp), dest, incoming)
        except (OSError, ValueError) as exc:
            results[i] = UploadResult(shown, "failed", error=f"{shown}: could not store the upload ({exc})")
            continue
        taken[dest] = shown
        staged.append((i, shown, dest, backup))
    if staged:
        try:
            report = assistant.ingest([dest for _, _, dest, _ in staged], progress=progress)
        except BaseException:
            for _, _, dest, backup in staged:
                _restore(dest, backup)
            raise
        by_source = {r.source: r for r in report.results}
        for i, shown, dest, backup in staged:
            result = by_source.get(source_for(dest))
            if result is None or result.status == "failed":
                _restore(dest, backup)
                error = result.error if result else "not ingested"
                results[i] = UploadResult(shown, "failed", error=error)
            else:
                if backup:
                    backup.unlink(missing_ok=True)
                results[i] = UploadResult(shown, result.status, result.source, result.chunks)
    return [results[i] for i in sorted(results)]


def sweep_uploads(assistant) -> list[str]:
    """Undo what an upload that died half-way left: copies never indexed, backups, temp files.

    Returns the names of the copies removed or put back.
    """
    folder = uploads_dir(assistant.kb.root)
    incoming = folder / ".incoming"
    committed = assistant.store.committed()
    swept = []
    for backup in sorted(incoming.glob("*.old")) if incoming.is_dir() else ():
        dest = folder / backup.name[:-len(".old")]
        if dest.is_file() and committed.get(source_for(dest)) == _sha256(dest):
            backup.unlink(missing_ok=True)  # the new copy was indexed: the backup is stale
        else:
            os.replace(backup, dest)  # the indexed version is the backed-up one: put it back
            swept.append(dest.name)
    for temp in incoming.glob("new-*") if incoming.is_dir() else ():
        temp.unlink(missing_ok=True)
    for copy in sorted(folder.iterdir()):
        if not copy.name.startswith(".") and copy.is_file() and source_for(copy) not in committed:
            copy.unlink(missing_ok=True)  # copied, never indexed: the run died before ingesting it
            swept.append(copy.name)
    return swept


def is_upload(root: str | os.PathLike, source: str) -> bool:
    """Whether an indexed source is a copy the UI made (so removing it may delete the file)."""
    folder = uploads_dir(root).resolve()
    return Path(source).parent == folder


def _refusal(settings, temp: Path, name: str) -> IngestError | None:
    """Why an upload is refused before it is copied, or None. The type is judged by the stored name's suffix."""
    try:
        size = temp.stat().st_size
    except OSError:
        return UnreadableFile(f"{name}: the upload did not arrive; try again")
    suffix = Path(safe_name(name)).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        kinds = ", ".join(sorted(SUPPORTED_SUFFIXES))
        return UnsupportedFile(f"{name}: unsupported file type '{suffix or 'none'}' (supported: {kinds})")
    if size > max_upload_bytes(settings):
        return FileTooLarge(f"{name}: {size / MB:.1f} MB is over the {settings.ingest.max_upload_mb:g} MB upload "
                            "limit ([ingest] max_upload_mb); ingest big files with `assistant ingest PATH`")
    if size == 0:
        return EmptyDocument(f"{name}: file is empty")
    return None


def _copy_atomic(src: Path, dest: Path, scratch: Path) -> None:
    fd, tmp = tempfile.mkstemp(dir=scratch, prefix="new-")
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)  # readers never see half a file
    finally:
        Path(tmp).unlink(missing_ok=True)


def _backup_path(dest: Path) -> Path:
    # Named after its upload, so a sweep after a crash knows which copy it belongs to.
    return dest.parent / ".incoming" / (dest.name + ".old")


def _sha256(path: Path) -> str:
    from ingest.sync import capped_sha256

    return capped_sha256(path)


def _restore(dest: Path, backup: Path | None) -> None:
    if backup is None:
        dest.unlink(missing_ok=True)
    else:
        os.replace(backup, dest)
