"""Which files a list of paths means: folders walked recursively, hidden and unsupported skipped."""
from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ingest.decode import SNIFF_BYTES, is_binary
from ingest.errors import FileTooLarge, NothingToIngest, NotARegularFile, PathNotFound, UnreadableFile
from ingest.limits import megabytes
from ingest.ocr import IMAGE_SUFFIXES

SUPPORTED_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx", ".csv", ".xlsx", ".pptx",
                                ".eml", ".epub"}) | IMAGE_SUFFIXES
# What a user reads in a message: the suffixes, and text files without one (LICENSE, README, ...).
SUPPORTED_LIST = ", ".join(sorted(SUPPORTED_SUFFIXES)) + ", and plain text without an extension"


def source_for(path: str | os.PathLike) -> str:
    """A file's identity in the store: its resolved absolute posix path, `stored_name` escaped."""
    # Absolute and resolved, so ingesting the same file again through another relative
    # path, or through a symlink, updates it instead of adding a duplicate.
    return stored_name(Path(path).expanduser().resolve().as_posix())


ATTACHMENT = "#"  # between a mail's source and an attachment's name: the attachment's source (`mail.eml#a.pdf`)


def attachment_source(mail_source: str, name: str) -> str:
    """The source of a mail's attachment."""
    return f"{mail_source}{ATTACHMENT}{name}"


def mail_of(source: str) -> str | None:
    """The source of the mail an attachment's source names; None for any other source."""
    folder = source.rfind("/") + 1  # an attachment's name has no "/", and may hold "#" ("Invoice #12.pdf")
    at = source.lower().find(".eml" + ATTACHMENT, folder)
    return source[:at + 4] if at >= 0 else None


def under(source: str, path: str) -> bool:
    """Whether `source` is the source `path`, lies in the folder `path`, or is an attachment of the mail `path`."""
    return source == path or source.startswith(path.rstrip("/") + "/") or (
        path.lower().endswith(".eml") and source.startswith(path + ATTACHMENT))


def stored_name(path: str) -> str:
    """A path as the store can keep it (valid UTF-8). Linux allows any bytes in a name but "/" and NUL; a name
    that is not UTF-8 (Python's os.fsdecode gives its bytes as U+DC80..U+DCFF) is escaped losslessly: in that
    name alone, each backslash is doubled and each such byte written \\xHH, so the bytes can be read back
    (os.fsencode of the name unescaped). A name that is UTF-8 is kept as it is."""
    if _is_utf8(path):
        return path
    return "/".join(name if _is_utf8(name) else printable(name.replace("\\", "\\\\")) for name in path.split("/"))


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def os_reason(exc: OSError) -> str:
    """A short lower-case reason for an OS error: 'permission denied', 'is a folder', ..."""
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, IsADirectoryError):
        return "is a folder"
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if exc.errno == errno.ENAMETOOLONG:
        return "name too long"
    return (exc.strerror or type(exc).__name__).lower()


def printable(text: str) -> str:
    """A path as it can be shown: bytes that are not UTF-8 become \\xNN escapes."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that no undecodable byte produced
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


_SPECIAL = ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a character device"),
            (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def not_regular(name: str, mode: int) -> NotARegularFile:
    """The one message for a FIFO, socket or device."""
    kind = next((label for test, label in _SPECIAL if test(mode)), "not a file")
    return NotARegularFile(f"{printable(name)}: not a regular file ({kind}); only regular files are ingested")


def open_regular(path: Path) -> BinaryIO:
    """Open a regular file for reading. Never blocks: a FIFO or device is refused, not read."""
    # O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever. The check is on the
    # opened descriptor, so a file swapped for a FIFO after it was listed is caught too.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "is a folder")
        if not stat.S_ISREG(mode):
            raise not_regular(Path(path).name, mode)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def not_found(given: object) -> PathNotFound:
    """The one message for a path that does not exist."""
    return PathNotFound(f"No such file or folder: {printable(str(given))}")


def too_large(name: str, size: int, limit: int) -> FileTooLarge:
    """The one message for a file over the size limit."""
    return FileTooLarge(f"{printable(name)}: {megabytes(size)} is over the {megabytes(limit)} limit; "
                        "raise [ingest] max_file_mb to read it")


@dataclass(frozen=True)
class Discovery:
    """The files to ingest, and the folders under the given paths that could not be read."""

    files: tuple[Path, ...]
    unreadable: dict[Path, str]  # resolved folder -> one-line error, e.g. "private: cannot read folder (...)"
    skipped: tuple[Path, ...] = ()  # files in the folders that are not of a supported type, resolved and sorted


def scan(paths: Iterable[str | os.PathLike], allow_empty: bool = False) -> Discovery:
    """The files to ingest under paths (resolved, sorted, de-duplicated), the subfolders that could not be read
    and why, and the files skipped as unsupported.

    A folder with no supported file is NothingToIngest, unless `allow_empty` (a watched folder may be empty)."""
    found: set[Path] = set()
    unreadable: dict[Path, str] = {}
    skipped: set[Path] = set()
    for given in paths:
        path = Path(given).expanduser()
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:  # also a symlink whose target is gone
            raise not_found(given) from None
        except OSError as exc:
            raise UnreadableFile(f"{printable(path.name)}: cannot read ({os_reason(exc)})") from None
        if stat.S_ISDIR(mode):
            files, blocked, passed = _walk_folder(path, given, allow_empty)
            found.update(files)
            unreadable.update(blocked)
            skipped.update(passed)
        elif not stat.S_ISREG(mode):  # named explicitly: refused now, before anything is read
            raise not_regular(path.name, mode)
        else:
            # Named explicitly: kept even if unsupported, so the caller reports it as failed.
            found.add(path.resolve())
    return Discovery(tuple(sorted(found)), unreadable, tuple(sorted(skipped - found)))


def supported(path: Path) -> bool:
    """Whether a file found in a folder is ingested: a supported suffix, or none and text inside (sniffed like
    git, on the first 8 KB). An empty or unreadable file without a suffix is not."""
    suffix = path.suffix.lower()
    if suffix or path.name.endswith("."):
        return suffix in SUPPORTED_SUFFIXES
    try:
        with open_regular(path) as fh:
            head = fh.read(SNIFF_BYTES)
    except (OSError, NotARegularFile):
        return False
    return bool(head) and not is_binary(head)


def _walk_folder(folder: Path, given: object,
                 allow_empty: bool) -> tuple[list[Path], dict[Path, str], list[Path]]:
    files: list[Path] = []
    unreadable: dict[Path, str] = {}
    skipped: list[Path] = []
    saw_file = False
    visited: set[tuple[int, int]] = set()  # (device, inode) of real folders: survives symlink loops
    pending = [folder]
    while pending:
        current = pending.pop()
        try:
            info = current.stat()
            if (info.st_dev, info.st_ino) in visited:
                continue
            visited.add((info.st_dev, info.st_ino))
            entries = list(os.scandir(current))
        except OSError as exc:
            if current == folder:
                raise UnreadableFile(f"{given}: cannot read folder ({os_reason(exc)})") from None
            # Not skipped silently: the caller reports it, and must not prune what it may still hold.
            unreadable[current.resolve()] = f"{current.name}: cannot read folder ({os_reason(exc)})"
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir():  # follows symlinks; loops are cut by `visited`
                    pending.append(Path(entry.path))
                elif entry.is_file():  # regular files only: no FIFOs, sockets or broken links
                    saw_file = True
                    (files if supported(Path(entry.path)) else skipped).append(Path(entry.path).resolve())
            except OSError:
                continue
    if unreadable or allow_empty:  # with an unreadable folder, "empty" would be wrong: we could not look everywhere
        return files, unreadable, skipped
    if not saw_file:
        raise NothingToIngest(f"Folder is empty: {given}")
    if not files:
        raise NothingToIngest(f"No supported files in {given} (supported: {SUPPORTED_LIST})")
    return files, unreadable, skipped
