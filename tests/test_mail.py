"""An .eml's attachments as documents of their own (issue 19): `mail.eml#report.pdf`, synced, removed and replaced
with their mail. Every mail is written by the standard library's email package, every attachment by its library."""
from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

from ingest.readers import read_file
from test_formats import SALES
from test_loading import write
from test_pdf_tables import report_pdf, row_line


def mail(*attachments: tuple[str | None, str, bytes], subject: str = "Harbour figures") -> bytes:
    """A mail from Ada with a text body and (file name, MIME type, bytes) attachments; an `message/rfc822` one is a
    whole message given as bytes."""
    from email import message_from_bytes, policy

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Ada <ada@example.org>", "bob@example.org", subject
    message.set_content("Hi Bob,\n\nThe figures you asked for are attached.\n\nAda")
    for name, kind, data in attachments:
        if kind == "message/rfc822":
            message.add_attachment(message_from_bytes(data, policy=policy.default), filename=name)
            continue
        main, sub = kind.split("/")
        if main == "text":
            message.add_attachment(data.decode(), subtype=sub, filename=name)
        else:
            message.add_attachment(data, maintype=main, subtype=sub, filename=name)
    return message.as_bytes()


PDF = ("report.pdf", "application/pdf", report_pdf(SALES))
CSV = ("crew.csv", "text/csv", b"Name,Role\nMargaret Oduya,lighthouse keeper\n")
NOTE = ("note #2.txt", "text/plain", b"The ferry to Marram Bay leaves at seven.")
TOOL = ("tool.exe", "application/octet-stream", b"MZ\x90\x00" + bytes(200))


def names(report, status: str) -> list[str]:
    return sorted(Path(source).name for source in report.sources(status))


def test_the_attachments_are_named_and_their_bytes_kept():
    forwarded = mail(NOTE, subject="Ferry times")
    raw = read_file("m.eml", mail(PDF, ("../../etc/passwd.txt", "text/plain", b"x"), ("report.pdf", *PDF[1:]),
                                  (None, "text/csv", b"a,b\n1,2\n"), ("old.eml", "message/rfc822", forwarded)))
    assert [name for name, _ in raw.attachments] == ["report.pdf", "passwd.txt", "report (2).pdf",
                                                     "attachment-4.csv", "old.eml"]
    assert raw.attachments[0][1] == PDF[2] and raw.text.endswith(
        "Attachments: report.pdf, passwd.txt, report (2).pdf, attachment-4.csv, old.eml")
    assert read_file("old.eml", raw.attachments[4][1]).title == "Ferry times"


def test_supported_attachments_are_documents_cited_by_their_own_source(tmp_path, make_assistant):
    docs = tmp_path / "docs"
    box = write(docs / "figures.eml", mail(PDF, CSV, NOTE, TOOL))
    assistant = make_assistant()
    report = assistant.ingest([docs])
    assert report.failed == []
    assert names(report, "added") == ["figures.eml", "figures.eml#crew.csv", "figures.eml#note #2.txt",
                                      "figures.eml#report.pdf"]
    assert report.skipped == (f"{box}#tool.exe",)
    answer = assistant.ask("What was the West's revenue in Q3?")
    assert answer.citations[0].source == f"{box}#report.pdf" and row_line("West", "Q3") in answer.citations[0].text
    assert answer.citations[0].page == 2
    answer = assistant.ask("Who was the lighthouse keeper?")
    assert answer.citations[0].source == f"{box}#crew.csv" and "Margaret Oduya" in answer.text
    assert sorted(Path(r.source).name for r in assistant.sources()) == names(report, "added")


def test_a_mail_and_its_attachments_are_synced_as_one(tmp_path, make_assistant):
    docs = tmp_path / "docs"
    box = write(docs / "figures.eml", mail(PDF, CSV, NOTE))
    write(docs / "other.txt", b"The harbour office opens at nine.")
    assistant = make_assistant()
    assert len(assistant.ingest([docs]).sources("added")) == 5

    again = assistant.ingest([docs])  # nothing is read twice
    assert again.sources("added") == again.sources("updated") == [] and len(again.sources("unchanged")) == 5

    box.write_bytes(mail(CSV, ("note #2.txt", "text/plain", b"The ferry to Marram Bay leaves at eight.")))
    changed = assistant.ingest([box])  # the mail alone, not its folder: its dropped attachment goes all the same
    assert names(changed, "updated") == ["figures.eml", "figures.eml#note #2.txt"]
    assert names(changed, "unchanged") == ["figures.eml#crew.csv"]
    assert names(changed, "removed") == ["figures.eml#report.pdf"]
    assert "eight" in assistant.ask("When does the ferry to Marram Bay leave?").text

    assistant.remove(str(box))  # removing the mail removes its attachments
    assert [Path(r.source).name for r in assistant.sources()] == ["other.txt"]
    assert names(assistant.ingest([docs]), "added") == ["figures.eml", "figures.eml#crew.csv", "figures.eml#note #2.txt"]

    box.unlink()  # deleted: pruned with its folder, or named as gone (what --watch does)
    assert names(assistant.ingest([docs], gone=[box]), "removed") == ["figures.eml", "figures.eml#crew.csv",
                                                                "figures.eml#note #2.txt"]
    assert [Path(r.source).name for r in assistant.sources()] == ["other.txt"]


def test_a_bad_attachment_fails_alone_with_one_line(tmp_path, make_assistant):
    docs = tmp_path / "docs"
    write(docs / "figures.eml", mail(("broken.pdf", "application/pdf", b"%PDF-1.4 not really"), NOTE))
    report = make_assistant().ingest([docs])
    assert names(report, "added") == ["figures.eml", "figures.eml#note #2.txt"]
    [failed] = report.failed
    assert Path(failed.source).name == "figures.eml#broken.pdf"
    assert failed.error.startswith("figures.eml#broken.pdf: not a valid PDF (") and "\n" not in failed.error


def test_a_mail_that_turns_unreadable_keeps_its_attachments(tmp_path, make_assistant):
    docs = tmp_path / "docs"
    box = write(docs / "figures.eml", mail(CSV))
    assistant = make_assistant()
    assistant.ingest([docs])
    box.write_bytes(b"no headers here, only text\n")
    report = assistant.ingest([docs], prune=True)
    assert [Path(r.source).name for r in report.failed] == ["figures.eml"] and report.sources("removed") == []
    assert sorted(Path(r.source).name for r in assistant.sources()) == ["figures.eml", "figures.eml#crew.csv"]
