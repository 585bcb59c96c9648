"""Which files a list of paths means: folders walked recursively, hidden and unsupported skipped."""
from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import NothingToIngest, PathNotFound, UnreadableFile

SUPPORTED_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"})
_SUPPORTED_LIST = ", ".join(sorted(SUPPORTED_SUFFIXES))


def source_for(path: str | os.PathLike) -> str:
    """A file's identity in the store: its resolved absolute posix path."""
    # Absolute and resolved, so ingesting the same file again through another relative
    # path, or through a symlink, updates it instead of adding a duplicate.
    return Path(path).expanduser().resolve().as_posix()


def os_reason(exc: OSError) -> str:
    """A short lower-case reason for an OS error: 'permission denied', 'is a folder', ..."""
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, IsADirectoryError):
        return "is a folder"
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    return (exc.strerror or type(exc).__name__).lower()


@dataclass(frozen=True)
class Discovery:
    """The files to ingest, and the folders under the given paths that could not be read."""

    files: tuple[Path, ...]
    unreadable: dict[Path, str]  # resolved folder -> one-line error, e.g. "private: cannot read folder (...)"


def discover(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """The files to ingest under paths: resolved, sorted, de-duplicated."""
    return list(scan(paths).files)


def scan(paths: Iterable[str | os.PathLike]) -> Discovery:
    """Like discover(), but also says which subfolders could not be read, and why."""
    found: set[Path] = set()
    unreadable: dict[Path, str] = {}
    for given in paths:
        path = Path(given).expanduser()
        if not path.exists():  # also true of a symlink whose target is gone
            raise PathNotFound(f"No such file or folder: {given}")
        if path.is_dir():
            files, blocked = _walk_folder(path, given)
            found.update(files)
            unreadable.update(blocked)
        else:
            # Named explicitly: kept even if unsupported, so the caller reports it as failed.
            found.add(path.resolve())
    return Discovery(tuple(sorted(found)), unreadable)


def _walk_folder(folder: Path, given: object) -> tuple[list[Path], dict[Path, str]]:
    files: list[Path] = []
    unreadable: dict[Path, str] = {}
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
                    if Path(entry.name).suffix.lower() in SUPPORTED_SUFFIXES:
                        files.append(Path(entry.path).resolve())
            except OSError:
                continue
    if unreadable:  # "empty" or "no supported files" would be wrong: we could not look everywhere
        return files, unreadable
    if not saw_file:
        raise NothingToIngest(f"Folder is empty: {given}")
    if not files:
        raise NothingToIngest(f"No supported files in {given} (supported: {_SUPPORTED_LIST})")
    return files, unreadable
