"""Loading generated rows with PostgreSQL COPY: a few seconds where the ORM would take hours."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from django.db import connection, models

CHUNK_ROWS = 20_000
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text(value: object) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_ESCAPES)
    return str(value)


class Table:
    """Rows for one model's table, kept as COPY text lines, with ids taken from its sequence.

    Ids are handed out before the rows are written so that rows can refer to each other
    (an admission to its latest review) without a second pass of updates.
    """

    def __init__(self, model: type[models.Model], fields: Sequence[str], label: str) -> None:
        self.model = model
        self.label = label
        self.name = model._meta.db_table
        self.fields = tuple(fields)
        self.columns = [model._meta.pk.column] + [model._meta.get_field(f).column for f in fields]
        self.lines: list[str] = []
        self._first_id = 0
        self._next_id = 0

    def reserve(self) -> None:
        """Take the next id from the table's sequence; the rest follow on from it."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s))", [self.name, "id"])
            self._first_id = self._next_id = cursor.fetchone()[0]

    def new_id(self) -> int:
        """An id for a row about to be added."""
        self._next_id += 1
        return self._next_id - 1

    def add(self, row_id: int, **values: object) -> None:
        """Add one row, every field given at creation named once."""
        if len(values) != len(self.fields):
            raise TypeError(f"{self.name} rows need exactly {', '.join(self.fields)}.")
        self.lines.append(f"{row_id}\t" + "\t".join([_text(values[f]) for f in self.fields]))

    def copy(self, on_rows: Callable[[int], object] = lambda n: None) -> None:
        """COPY the rows into the table, then move its sequence past the ids used."""
        quote = connection.ops.quote_name
        sql = f"COPY {quote(self.name)} ({', '.join(quote(c) for c in self.columns)}) FROM STDIN"
        with connection.cursor() as cursor:
            with cursor.cursor.copy(sql) as copy:
                for start in range(0, len(self.lines), CHUNK_ROWS):
                    chunk = self.lines[start : start + CHUNK_ROWS]
                    copy.write("\n".join(chunk) + "\n")
                    on_rows(len(chunk))
            used = self._next_id > self._first_id
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, %s), %s, %s)",
                [self.name, "id", self._next_id - 1 if used else self._first_id, used],
            )
        self.lines = []


def prepare(tables: Iterable[Table]) -> None:
    """Get the transaction ready to load: other writers kept out, triggers made cheap."""
    names = ", ".join(connection.ops.quote_name(t.name) for t in tables)
    with connection.cursor() as cursor:
        # Keeps other writers out while ids are handed out and the rows written.
        cursor.execute(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE")
        # pgtrigger's triggers look this setting up on every row and, when it is missing,
        # catch the error in a subtransaction whose rollback rescans every deferred foreign
        # key check queued so far: quadratic time. An empty list ignores no trigger.
        cursor.execute("SELECT set_config('pgtrigger.ignore', '{}', true)")
