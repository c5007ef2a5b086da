"""Reading a CSV file for an import, the same way for every kind of record.

The whole file is checked before anything is written: every problem is
reported with the line it starts on, and the caller imports nothing until the
file is clean. Unknown columns are refused (a typo in a header would otherwise
lose a column without a word).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

MAX_ROWS = 50_000


class RowInvalid(Exception):
    """One row (or the file) cannot be imported; the message is shown as it is."""


@dataclass
class ImportReport:
    dry_run: bool
    noun: str = "row"
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        if self.errors:
            return f"{len(self.errors)} error(s) in {self.rows} row(s); nothing imported"
        verb = "would be" if self.dry_run else "were"
        return (
            f"{self.rows} {self.noun}(s): {self.created} {verb} created, {self.updated} {verb} "
            f"updated, {self.unchanged} unchanged"
        )


def messages(error: ValidationError) -> str:
    """A model's validation errors as one line, field by field."""
    if hasattr(error, "error_dict"):
        return "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in error.message_dict.items())
    return "; ".join(error.messages)


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise RowInvalid(
            f"the file is not UTF-8 (byte {error.start}); save it as 'CSV UTF-8' and try again"
        ) from None


class _Lines:
    """Iterates a file's lines, noting the first non-blank line of the row being read."""

    def __init__(self, text: str) -> None:
        self._lines = iter(io.StringIO(text, newline=""))
        self.number = 0
        self.row_start: int | None = None

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.number += 1
        if self.row_start is None and line.strip("\r\n"):
            self.row_start = self.number
        return line


def rows(
    text: str, required: tuple[str, ...], optional: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, str]]]:
    """Each non-blank row with the line it starts on; RowInvalid for a bad header."""
    lines = _Lines(text)
    reader = csv.DictReader(lines)
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    if not header:
        raise RowInvalid("the file is empty")
    missing = [c for c in required if c not in header]
    if missing:
        raise RowInvalid(f"missing column(s): {', '.join(missing)}")
    unknown = [c for c in header if c not in required + optional]
    if unknown:
        raise RowInvalid(
            f"unknown column(s): {', '.join(unknown)}; known: {', '.join(required + optional)}"
        )
    reader.fieldnames = header
    while True:
        lines.row_start = None  # a quoted value may span lines: report where the row starts
        try:
            record = next(reader)
        except StopIteration:
            return
        line = lines.row_start or lines.number
        if None in record:
            raise RowInvalid(f"line {line}: more values than columns")
        if any((value or "").strip() for value in record.values()):
            yield line, record
