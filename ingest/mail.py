"""E-mail messages (.eml, RFC 5322 / MIME) through the standard library's `email` package."""
from __future__ import annotations

import mimetypes
import re
from email import policy
from email.parser import BytesParser

from ingest.decode import is_binary
from ingest.errors import FileTooLarge, UnreadableFile, UnsupportedFile
from ingest.files import printable
from ingest.limits import Limits
from ingest.rawtext import RawText

HEADERS = ("From", "To", "Cc", "Date", "Subject")
MAX_PARTS = 1_000  # MIME parts of one message: more is a bomb, not mail
_ENCRYPTED = frozenset({"multipart/encrypted", "application/pkcs7-mime", "application/x-pkcs7-mime"})


def read_eml(data: bytes, name: str, limits: Limits = Limits()) -> RawText:
    """The headers (From, To, Cc, Date, Subject) as a first block, then the text/plain body, or the text/html one
    read as HTML, then the names of the attachments. Title: the Subject. The attachments' bytes come with the
    text (RawText.attachments), each under a name of its own, to be read as documents of their own."""
    if is_binary(data):
        raise UnsupportedFile(f"{name}: looks like a binary file, not text")
    try:
        message = BytesParser(policy=policy.default).parsebytes(data)
        headers = [f"{key}: {' '.join(str(value).split())}" for key in HEADERS if (value := message.get(key))]
        if not headers:
            raise UnreadableFile(f"{name}: not an e-mail message (none of the headers {', '.join(HEADERS)})")
        parts = 0
        for part in message.walk():
            parts += 1
            if parts > MAX_PARTS:
                raise FileTooLarge(f"{name}: more than {MAX_PARTS:,} MIME parts")
            if part.get_content_type() in _ENCRYPTED:
                raise UnreadableFile(f"{name}: e-mail is encrypted (S/MIME or PGP)")
        body = _body(message, name, limits)
        files = _attachments(message)
        attachments = [file_name for file_name, _ in files]
    except (UnreadableFile, FileTooLarge, UnsupportedFile):
        raise
    except Exception:  # the parser is lenient; what fails beyond it is a damaged MIME structure  # noqa: BLE001
        raise UnreadableFile(f"{name}: not a valid e-mail message") from None
    blocks = ["\n".join(headers), body, "Attachments: " + ", ".join(attachments) if attachments else ""]
    subject = " ".join(str(message.get("Subject", "")).split())
    return RawText("\n\n".join(block for block in blocks if block), subject or None, attachments=tuple(files))


def _attachments(message) -> list[tuple[str, bytes]]:
    """(name, bytes) of each attachment: its file name without folders (`attachment-N.ext` from its type when it
    has none), made unique within the mail (`a (2).pdf`); an attached message as .eml bytes."""
    files: list[tuple[str, bytes]] = []
    taken: set[str] = set()
    for number, part in enumerate(message.iter_attachments(), start=1):
        given = re.sub(r"[\x00-\x1f\x7f]", "", re.split(r"[/\\]", part.get_filename() or "")[-1]).strip(" .")
        base = printable(given) or f"attachment-{number}{mimetypes.guess_extension(part.get_content_type()) or ''}"
        unique, copy = base, 1
        while unique.lower() in taken:
            copy += 1
            stem, dot, suffix = base.rpartition(".")
            unique = f"{stem} ({copy}).{suffix}" if dot and stem else f"{base} ({copy})"
        taken.add(unique.lower())
        if part.get_content_type() == "message/rfc822":  # a forwarded message: its own bytes, as an .eml file
            inner = part.get_payload(0) if part.is_multipart() else part.get_content()
            files.append((unique if unique.lower().endswith(".eml") else unique + ".eml", inner.as_bytes()))
        else:
            files.append((unique, part.get_payload(decode=True) or b""))
    return files


def _body(message, name: str, limits: Limits) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        text = part.get_content()
    except (LookupError, UnicodeError):  # an unknown or wrong charset: its bytes as UTF-8, damage replaced
        text = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    if part.get_content_subtype() == "html":
        from ingest.readers import read_html

        return read_html(text.encode("utf-8"), name, limits).text
    return text.strip()
