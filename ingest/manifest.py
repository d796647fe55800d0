"""Manifests: the size and git blob SHA-1 of every file of a data folder, and their checks.

A data folder's ``MANIFEST.tsv`` (``path``, ``bytes``, ``git_blob_sha1``, tab-separated, paths
relative to the folder) says what its files must hold; ``meta ingest`` refuses a file that
differs from it and a file that it lists and a source reads but that is missing (unless
``--no-verify``). Folders that ship without one get theirs here:

- ``../shared/data/obsscaling`` is read-only, so its manifest is ``ingest/manifests/
  obsscaling.tsv`` (:data:`PROJECT`), written once with ``python -m ingest.manifest
  ../shared/data/obsscaling --out ingest/manifests/obsscaling.tsv`` and checked against the
  blob SHAs its ``SOURCE.md`` lists;
- this project's PCFG runs (``runs/pcfg``, or ``$META_PCFG_RUNS``) have ``MANIFEST.tsv`` in
  the runs folder, which ``meta pcfg grid`` updates for the results file it appends to
  (:func:`update_manifest`); ``python -m ingest.manifest runs/pcfg`` rewrites it whole.

Examples
--------
>>> git_blob_sha1(b"hello\\n")  # git hash-object of a file holding 'hello'
'ce013625030ba8dba906f756967f9e9ca394464a'
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

NAME = "MANIFEST.tsv"
HEADER = "path\tbytes\tgit_blob_sha1"
PROJECT = Path(__file__).resolve().parent / "manifests"  # {folder name}.tsv
NOT_LISTED = frozenset({NAME, "SOURCE.md"})


def git_blob_sha1(data: bytes) -> str:
    """The SHA-1 that ``git hash-object`` gives these bytes."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass(frozen=True)
class Manifest:
    """The manifest of one data folder.

    Attributes
    ----------
    folder : Path
        The data folder whose files it lists.
    label : str
        How messages name it: ``hitchhiker/MANIFEST.tsv``, ``ingest/manifests/obsscaling.tsv``.
    entries : dict of str to (int, str)
        Path inside the folder -> (bytes, git blob SHA-1).
    """

    folder: Path
    label: str
    entries: dict[str, tuple[int, str]]

    def check(self, rel: str, data: bytes, name: str) -> str | None:
        """Why ``data``, the bytes of ``rel`` (named ``name`` in messages), differ from the
        entry, or None when they match or the manifest does not list ``rel``."""
        expected = self.entries.get(rel)
        if expected is None or expected == (len(data), git_blob_sha1(data)):
            return None
        size = (f"{len(data)} bytes, {expected[0]} expected" if len(data) != expected[0]
                else "same size, other bytes")
        return f"{name} differs from {self.label} ({size}): the file is corrupted or truncated"


def read_manifest(path: Path, folder: Path, label: str) -> Manifest:
    """Parse a manifest file (a header line, then ``path<TAB>bytes<TAB>sha1`` lines)."""
    entries = {}
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        if line:
            rel, size, sha = line.split("\t")
            entries[rel] = (int(size), sha)
    return Manifest(folder, label, entries)


def find_manifest(folder: Path) -> Manifest | None:
    """The manifest of a data folder: its own ``MANIFEST.tsv``, else the project's
    ``ingest/manifests/<folder name>.tsv``; None when there is neither."""
    own = folder / NAME
    if own.is_file():
        return read_manifest(own, folder, f"{folder.name}/{NAME}")
    kept = PROJECT / f"{folder.name}.tsv"
    if kept.is_file():
        return read_manifest(kept, folder, f"ingest/manifests/{kept.name}")
    return None


def glob_regex(pattern: str) -> re.Pattern:
    """A regex matching the relative paths that ``Path.glob(pattern)`` finds ('**/' is any
    number of folders, '*' and '?' stay within one).

    Examples
    --------
    >>> bool(glob_regex("evals/**/*.json").fullmatch("evals/a/b/x.json"))
    True
    >>> bool(glob_regex("Amber/*.csv").fullmatch("Amber/sub/x.csv"))
    False
    """
    out = []
    for token in re.split(r"(\*\*/|\*|\?)", pattern):
        out.append({"**/": "(?:[^/]+/)*", "*": "[^/]*", "?": "[^/]"}.get(token) or re.escape(token))
    return re.compile("".join(out))


def listed(manifest: Manifest, pattern: str) -> list[str]:
    """The paths the manifest lists that match a glob pattern (relative to its folder)."""
    regex = glob_regex(pattern)
    return sorted(rel for rel in manifest.entries if regex.fullmatch(rel))


def manifest_lines(folder: Path, rels: Iterable[str]) -> dict[str, str]:
    """Manifest lines (``path<TAB>bytes<TAB>sha1``) of files of ``folder``, by path."""
    lines = {}
    for rel in rels:
        data = (folder / rel).read_bytes()
        lines[rel] = f"{rel}\t{len(data)}\t{git_blob_sha1(data)}"
    return lines


def write_manifest(folder: Path, out: Path | None = None, pattern: str = "**/*") -> Path:
    """Write the manifest of every file of ``folder`` matching ``pattern`` (not the manifest
    itself, ``SOURCE.md`` or hidden files) to ``out`` (default ``folder/MANIFEST.tsv``)."""
    folder = Path(folder)
    out = Path(out) if out is not None else folder / NAME
    rels = sorted(
        p.relative_to(folder).as_posix() for p in folder.glob(pattern)
        if p.is_file() and p.name not in NOT_LISTED
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    lines = manifest_lines(folder, rels)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join([HEADER, *(lines[r] for r in rels)]) + "\n", encoding="utf-8")
    return out


def update_manifest(folder: Path, rels: Iterable[str]) -> Path | None:
    """Rewrite the entries of ``rels`` in ``folder/MANIFEST.tsv`` from the files as they are
    now (dropping those that no longer exist) and keep every other entry; no manifest is
    created for nothing. Returns the manifest, or None."""
    path = folder / NAME
    kept = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines()[1:]:
            if line:
                kept[line.split("\t", 1)[0]] = line
    rels = list(rels)
    for rel in rels:
        kept.pop(rel, None)
    kept |= manifest_lines(folder, [r for r in rels if (folder / r).is_file()])
    if not kept and not path.is_file():
        return None
    path.write_text("\n".join([HEADER, *(kept[r] for r in sorted(kept))]) + "\n",
                    encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    """``python -m ingest.manifest FOLDER [--out FILE] [--glob PATTERN]``."""
    parser = argparse.ArgumentParser(
        prog="python -m ingest.manifest",
        description="Write the MANIFEST.tsv (size and git blob SHA-1 of every file) of a data "
        "folder.",
    )
    parser.add_argument("folder", type=Path)
    parser.add_argument("--out", type=Path, help="where to write it (default FOLDER/MANIFEST.tsv)")
    parser.add_argument("--glob", default="**/*", help="files to list (default: all)")
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        print(f"Error: {args.folder} is not a folder.", file=sys.stderr)
        return 1
    print(write_manifest(args.folder, args.out, args.glob))
    return 0


if __name__ == "__main__":
    sys.exit(main())
