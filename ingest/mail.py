"""E-mail messages (.eml, RFC 5322 / MIME) through the standard library's `email` package."""
from __future__ import annotations

from email import policy
from email.parser import BytesParser

from ingest.decode import is_binary
from ingest.errors import FileTooLarge, UnreadableFile, UnsupportedFile
from ingest.limits import Limits
from ingest.rawtext import RawText

HEADERS = ("From", "To", "Cc", "Date", "Subject")
MAX_PARTS = 1_000  # MIME parts of one message: more is a bomb, not mail
_ENCRYPTED = frozenset({"multipart/encrypted", "application/pkcs7-mime", "application/x-pkcs7-mime"})


def read_eml(data: bytes, name: str, limits: Limits = Limits()) -> RawText:
    """The headers (From, To, Cc, Date, Subject) as a first block, then the text/plain body, or the text/html one
    read as HTML, then the names of the attachments (their content is not read). Title: the Subject."""
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
        attachments = [part.get_filename() or part.get_content_type() for part in message.iter_attachments()]
    except (UnreadableFile, FileTooLarge, UnsupportedFile):
        raise
    except Exception:  # the parser is lenient; what fails beyond it is a damaged MIME structure  # noqa: BLE001
        raise UnreadableFile(f"{name}: not a valid e-mail message") from None
    blocks = ["\n".join(headers), body, "Attachments: " + ", ".join(attachments) if attachments else ""]
    subject = " ".join(str(message.get("Subject", "")).split())
    return RawText("\n\n".join(block for block in blocks if block), subject or None)


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
