"""The documents nobody here wrote: fetched as Debian packages (`apt-get download`, unpacked with `dpkg-deb -x`),
each file checked against the sha256 written below, so the eval set's answers are known to be in them."""
from __future__ import annotations

import gzip
import hashlib
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import AssistantError


class CorpusUnavailable(AssistantError):
    """A package could not be fetched or unpacked, or a file is not the one the eval set was written on."""


@dataclass(frozen=True)
class Package:
    """A Debian package, the licence of the files taken from it (its copyright file), and those files by sha256
    (of the file as used: a `.gz` is checked once uncompressed)."""

    name: str
    licence: str
    files: dict[str, str]


ZLIB = Package("zlib1g-dev", "Zlib (zlib1g-dev's copyright, Files: *)", {
    "usr/share/doc/zlib1g-dev/crc-doc.1.0.pdf.gz": "064f9252d6e2e15ea56c2bd18e160e5c9c84bcd137c11a7af497aaa511ace998",
})
BZIP2 = Package("bzip2-doc", "BSD-variant (bzip2-doc's copyright, Julian R Seward)", {
    "usr/share/doc/bzip2/manual.pdf.gz": "1dd1f12b3dcb0894481708881ed8d052c769f3820c06839c702c8cfad973d7d3",
})
_HTML = "usr/share/doc/libffi8/html/"
LIBFFI = Package("libffi-dev", "MIT (the permission notice in the manual itself)", {_HTML + name: digest for name, digest in {
    "Introduction.html": "02b287115840d8cc291c54e78b90e78d5f868ff47ec357d3100569daf815bd4e",
    "The-Basics.html": "e52e0840c0815deed45a4d86ee46245353e468ba1af7027758be91ac6d0d2ca5",
    "Simple-Example.html": "54fa929149f7111b4df476fc0cae3b9d7bb12c5469e58971e9e1084a748c0cb0",
    "Types.html": "2fc17af4387364b7a5f9f84bff39fde35c795ac845561505cadabe05c15e81c4",
    "Primitive-Types.html": "8a7e2326af4d6e88dd5dfddfcb81140205c6065a87896bd02bcb81514e6dda5c",
    "Structures.html": "fdac27f7f1bf5d319c0ae6f003f8b2f62854cdf5869572423938059692a415be",
    "Size-and-Alignment.html": "794438a9b7f97fc9cb158f7f03adfb655e2cd7beb0f0843a3191fd17ffea9796",
    "Arrays-Unions-Enums.html": "10eaf0b7b2693e49ef4dcf792928e1ba503a9c3450ddf607a3804cb09b320f3b",
    "Complex.html": "26792b2a83c6b2977a899390e16f5f975d12c0aca6035d9b9e32cf776f8f087e",
    "Multiple-ABIs.html": "cdb09f02a7008551b40e2871d13f21ac2428e93d48fc75c8f1b36c368ef44178",
    "The-Closure-API.html": "05d13136fcc67eadfe546eba50d0a5fd56c7d4495fe95da624f638a4a4de20ae",
    "Closure-Example.html": "6fb8d6c2c4b8d1df4d2f16daf803c31d543a9aab25c375bc645f53089d328388",
    "Thread-Safety.html": "7c2588743019172591487355b866acaed968048f9590d3299cbec50f7b4ff787",
    "Memory-Usage.html": "2991f3ba261dcb4d87482e6972c31936cdd28be98a572906bd6593c0de5943e2",
    "Missing-Features.html": "cee5974171005de22ba5df733409fbe287e034596746700af90136252569f099",
}.items()})
_LOCALES = "usr/share/i18n/locales/"
LOCALES = Package("locales", "no copyright claimed: each file says the FSF claims no copyright interest in its "
                  "locale data", {_LOCALES + name: digest for name, digest in {
    "is_IS": "a33c6cc55dd60ea7fad8817ab5b290742515c568d13c9abe423a53bb1228a025",
    "de_CH": "e0eb1088984e4fed062a31bee95084398d4805f25f14990d1ae952bd2513f363",
    "ja_JP": "48efa346adfb8a2f57eddf87e5674fac177ed85dd69039a03808f4503c88b49e",
    "pt_BR": "d6c0ed824362c93bd5c07e3127808293bc23ddf6d51da85456952f2fe39e79ae",
    "fi_FI": "26bb222632a89b4c31ba087b391de008b3cda16a0c58a89e0f980574b6d94af3",
    "nb_NO": "dac75c6f40fd7fb9439fbcaed8dbe6913527fac749b82c53e92d3b9321a09627",
    "ko_KR": "4f6e005d4186838ca3bacef98a4fead870f0404e9b5776417b3a8db4deb20f8e",
    "tr_TR": "9b1352c938911f9c3f5860d837f9c296fa7e4af997cab9f653b256f471bb2e9b",
    "el_GR": "6df692808a044860895cad7b52a21b6ff4a22b5147774e1ca1e9ce995a171613",
    "hu_HU": "2de829d7a102f59a4b30ca95b11cc30ea4140cabe6a1301a966306ed814fd807",
    "pl_PL": "be188c0fca42aa7ee271600244cc3971eb914197b7e5e5e36fdf1868fb659a06",
    "en_ZA": "0c4d4f67ebad88dead20fbf297a2282a1e000a9c8993c04108898d8779ccd720",
    "es_MX": "bb8e203ce8f79a58dea501c2ef35725fe83d124977f4bf14f801a1a0f7ac1e21",
    "en_NZ": "bffc4946bf26c29666b434d68e8ec01e1623345a65747d20fdfe1ab1a47f4a3c",
}.items()})
PACKAGES = (ZLIB, BZIP2, LIBFFI, LOCALES)


def fetch(package: Package, cache: Path) -> dict[str, Path]:
    """The package's files, checked, as {path in the package: file in cache} (a `.gz` uncompressed); the package is
    downloaded and unpacked once per cache. CorpusUnavailable, naming the cause, on any failure."""
    root = cache / package.name
    if not all(_unpacked(root, path).exists() for path in package.files):
        _download(package.name, cache, root)
        for path in package.files:
            if path.endswith(".gz") and (root / path).exists():
                _unpacked(root, path).write_bytes(gzip.decompress((root / path).read_bytes()))
    found = {}
    for path, digest in package.files.items():
        file = _unpacked(root, path)
        if not file.exists():
            raise CorpusUnavailable(f"{package.name}: has no {path} any more")
        actual = hashlib.sha256(file.read_bytes()).hexdigest()
        if actual != digest:
            raise CorpusUnavailable(f"{package.name}: {path} has changed (sha256 {actual[:12]}…, expected "
                                    f"{digest[:12]}…): the eval set's answers were checked on the earlier file")
        found[path] = file
    return found


def _unpacked(root: Path, path: str) -> Path:
    return root / path.removesuffix(".gz")


def _download(name: str, cache: Path, root: Path) -> None:
    for tool in ("apt-get", "dpkg-deb"):
        if shutil.which(tool) is None:
            raise CorpusUnavailable(f"{tool} is not installed: the real-documents corpus is made of Debian packages")
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    for old in debs.glob(f"{name}_*.deb"):
        old.unlink()
    _run(["apt-get", "download", "-qq", name], debs, f"apt-get download {name}")
    deb = next(debs.glob(f"{name}_*.deb"), None)
    if deb is None:
        raise CorpusUnavailable(f"apt-get download {name} wrote no .deb")
    shutil.rmtree(root, ignore_errors=True)
    _run(["dpkg-deb", "-x", str(deb), str(root)], cache, f"dpkg-deb -x {deb.name}")


def _run(command: list[str], cwd: Path, what: str) -> None:
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CorpusUnavailable(f"{what} failed: {exc}") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        hint = " (run apt-get update first)" if "Unable to locate" in last else ""
        raise CorpusUnavailable(f"{what} failed: {last}{hint}")
