"""CSV as people open it: UTF-8 with a byte order mark (Excel on Chinese Windows reads it as
UTF-8 only then), streamed in chunks, and no cell that Excel would run as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

#: A cell starting with one of these is a formula to Excel (OWASP's list, tab and CR included).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """A cell as text, with a leading ' when Excel would otherwise read it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_chunks(header: list[str], rows: Iterable[list[str]], *, every: int = 200) -> Iterator[str]:
    """The header and rows (cells already text) as CSV chunks; the first starts with the BOM."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(header)
    yield "\ufeff" + flush()
    for count, row in enumerate(rows, start=1):
        writer.writerow(row)
        if count % every == 0:
            yield flush()
    yield flush()
