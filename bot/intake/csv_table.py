"""Reading a CSV file a person exported from a spreadsheet or another tool.

UTF-8 with or without a byte-order mark; `,` or `;` between cells, whichever the header line
uses more. Rows come with the line they start on, so a rejection can say where to look.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


class UnreadableFile(Exception):
    """The file cannot be read as a table at all (missing, not UTF-8, no header)."""


@dataclass(frozen=True, slots=True)
class Row:
    line: int  # where the row starts in the file (the header is line 1)
    cells: dict[str, str]  # header -> cell, cells stripped of surrounding spaces
    problem: str | None = None  # set when the row cannot be mapped (wrong number of cells)


@dataclass(frozen=True, slots=True)
class Table:
    path: Path
    header: list[str]
    delimiter: str
    rows: int  # data rows, counted by a first pass (the progress bar's total)

    def __iter__(self) -> Iterator[Row]:
        with self.path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f, delimiter=self.delimiter)
            next(reader)
            done = reader.line_num
            for cells in reader:
                line, done = done + 1, reader.line_num
                if not any(c.strip() for c in cells):
                    continue  # a blank line
                if len(cells) != len(self.header):
                    yield Row(
                        line,
                        {},
                        f"has {len(cells)} cells, the header has {len(self.header)}",
                    )
                    continue
                if any("\x00" in c for c in cells):  # no database stores it as text
                    yield Row(line, {}, "a cell holds a NUL character (\\x00)")
                    continue
                yield Row(line, {h: c.strip() for h, c in zip(self.header, cells, strict=True)})


def open_table(path: str | Path) -> Table:
    """Check the file can be read from end to end and find its header and separator.

    Raises UnreadableFile with the reason. The whole file is decoded here, so a broken byte
    late in a large file stops the import before any row is stored, not halfway.
    """
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            first = f.readline()
            delimiter = ";" if first.count(";") > first.count(",") else ","
            reader = csv.reader(itertools.chain([first], f), delimiter=delimiter)
            header = next(reader, None)
            rows = sum(1 for cells in reader if any(c.strip() for c in cells))
    except FileNotFoundError:
        raise UnreadableFile(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UnreadableFile(f"{path}: is a directory") from None
    except OSError as exc:
        raise UnreadableFile(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"{path}: not UTF-8 text (byte {exc.start}); save it as CSV UTF-8"
        ) from None
    except csv.Error as exc:
        raise UnreadableFile(f"{path}: not a CSV table ({exc})") from None
    if not header or not any(h.strip() for h in header):
        raise UnreadableFile(f"{path}: empty file, or no header line")
    names = [h.strip() for h in header]
    if "" in names:
        raise UnreadableFile(f"{path}: column {names.index('') + 1} of the header has no name")
    seen = set()
    for name in names:
        if name.lower() in seen:
            raise UnreadableFile(f"{path}: column {name!r} appears twice in the header")
        seen.add(name.lower())
    return Table(path, names, delimiter, rows)
