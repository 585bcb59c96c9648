"""The README's screenshots of the chat UI, taken in Debian's Chromium (Playwright) on a real app.

    python bench/screenshots.py --home H --out docs/screenshots      # H: a home with data/sample ingested

Writes phone-start/answer and desktop-start/answer/why/documents PNGs. Not a test: it checks nothing, it
draws; tests/test_browser.py checks the same steps.
"""
from __future__ import annotations

import argparse
import shutil
import socket
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-quic"]
WAIT = 180_000  # ms: a stuck page, not a speed
NOTES = "# Festival notes\n\nThe zorblat festival is held every March in Quentinville. Its mascot is a purple llama."


def ask(page, question: str):
    """Type a question, press Enter, wait for the answer's citations (or notice); the answer's element."""
    count = page.locator('#chat [data-testid="bot"]').count()
    page.locator("#question textarea").fill(question)
    page.locator("#question textarea").press("Enter")
    page.wait_for_function(f"document.querySelectorAll('#chat [data-testid=\"assistant\"]').length > {count}")
    answer = page.locator('#chat [data-testid="bot"] >> nth=-1')
    answer.locator(".cites, .notice, .error").first.wait_for(timeout=WAIT)
    return answer


def shoot(url: str, out: Path, scratch: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for name, viewport, scale in (("phone", {"width": 390, "height": 844}, 2),
                                      ("desktop", {"width": 1280, "height": 800}, 1)):
            context = browser.new_context(viewport=viewport, device_scale_factor=scale)
            page = context.new_page()
            page.goto(url)
            page.wait_for_selector("#chat")
            page.screenshot(path=out / f"{name}-start.png")
            answer = ask(page, "Who denied involvement?")
            answer.locator("a.cite-ref", has_text="[1]").first.click()
            answer.locator("details.cite[open] mark").first.wait_for()
            if name == "desktop":
                answer.locator("details.cite").first.locator("a.open-doc").click()
                page.locator("#viewer mark").wait_for()
            page.evaluate("document.activeElement && document.activeElement.blur()")
            if name == "desktop":  # show the question too, not only the answer's end
                page.evaluate("document.querySelector('#chat [role=log]').scrollTop = 0")
            page.screenshot(path=out / f"{name}-answer.png")
            if name == "desktop":
                page.get_by_role("tab", name="Why this answer").click()
                page.locator("#why table").wait_for()
                page.screenshot(path=out / "desktop-why.png")
                page.get_by_role("tab", name="Documents").click()
                (scratch / "festival-notes.md").write_text(NOTES)
                (scratch / "scan.pdf").write_bytes(b"%PDF-1.4 truncated")
                page.locator("#upload input[type=file]").set_input_files([str(scratch / "festival-notes.md"),
                                                                         str(scratch / "scan.pdf")])
                page.locator("#upload-results li.added").wait_for(timeout=WAIT)
                page.wait_for_function("getComputedStyle(document.querySelector('#sources')).opacity === '1' && "
                                       "getComputedStyle(document.querySelector('#header')).opacity === '1'")
                page.screenshot(path=out / "desktop-documents.png")
            context.close()
        browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True, help="a home with data/sample ingested (copied first)")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"error: {CHROMIUM} is missing (apt-get install chromium)", file=sys.stderr)
        return 1
    from assistant import Assistant
    from ui import build_app

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="screenshots-") as scratch:
        home = Path(scratch) / "home"
        shutil.copytree(args.home, home)  # the upload must not change the given home
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        app = build_app(Assistant.open(home=home))
        app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
        try:
            shoot(f"http://127.0.0.1:{port}/", args.out, Path(scratch))
        finally:
            app.close()
    print(f"wrote {len(list(args.out.glob('*.png')))} screenshots to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
