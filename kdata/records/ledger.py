"""The file checks ``load_raw`` keeps for the checks across records, a million in tens of megabytes.

Most records need nothing more once their file is checked and their references and dates are: their id
is their file's name, and they hold no parent, no text and no quote still to verify. Such a record is kept
as one entry of its table's listing (its file name without ``.yaml``, the string the listing made); its
``FileResult`` is made again, equal, when asked for. Every other result is kept whole.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Final

from kdata.records.listing import display
from kdata.records.scan import FileResult

#: States of a file name in a table's listing.
LISTED: Final = 0  # not checked yet, or checked and invalid, or its record is kept whole
PLAIN: Final = 1  # its record gives its file name as id, and nothing else is kept of it
PLAIN_SETTLED: Final = 2  # the same, and its quotes were anchored and dropped where it was checked

#: A record key: (table, id).
Key = tuple[str, str]


class Ledger(Mapping[Key, FileResult]):
    """(table, id) -> the check of the file that holds that id, for every record read so far.

    Args:
        folders: Each table's folder, as the listing wrote it before each file name (``<folder>/<name>``).
        stems: Each table's file names without ``.yaml``, in listing order (kept, not copied).
    """

    def __init__(self, folders: dict[str, str], stems: dict[str, dict[str, int]]) -> None:
        self._folders = folders
        self._stems = stems
        self._kept: dict[Key, FileResult] = {}

    def add(self, result: FileResult) -> None:
        """Keep ``result`` (of a valid record) as the holder of its (table, id), which must be free."""
        rid = result.id
        assert rid is not None, "only a record with an id is held"
        if self._plain(result):
            self._stems[result.table][rid] = PLAIN_SETTLED if result.settled else PLAIN
        else:
            self._kept[(result.table, rid)] = result

    def _plain(self, result: FileResult) -> bool:
        """Whether all that is kept of ``result`` can be made again from its table, id and ``settled``."""
        r = result
        return (
            not (r.issues or r.quotes or r.refs or r.record is not None or r.bound or r.said)
            and r.parent is None
            and r.sha256 is None
            and r.published is None
            and r.path == f"{self._folders.get(r.table)}/{r.id}.yaml"
            and r.name == display(r.path)
        )

    def _made(self, table: str, rid: str, state: int) -> FileResult:
        path = f"{self._folders[table]}/{rid}.yaml"
        name = display(path)
        return FileResult(table, path, path if name == path else name, rid, settled=state == PLAIN_SETTLED)

    def __getitem__(self, key: Key) -> FileResult:
        found = self._kept.get(key)
        if found is not None:
            return found
        state = self._stems.get(key[0], {}).get(key[1], LISTED)
        if state == LISTED:
            raise KeyError(key)
        return self._made(key[0], key[1], state)

    def __contains__(self, key: object) -> bool:
        if key in self._kept:
            return True
        if not isinstance(key, tuple) or len(key) != 2:
            return False
        return self._stems.get(key[0], {}).get(key[1], LISTED) != LISTED

    def __iter__(self) -> Iterator[Key]:
        for table, stems in self._stems.items():
            yield from ((table, rid) for rid, state in stems.items() if state != LISTED)
        yield from self._kept

    def __len__(self) -> int:
        return len(self._kept) + sum(1 for stems in self._stems.values() for state in stems.values() if state)

    def items_of(self, table: str) -> Iterator[tuple[Key, FileResult]]:
        """The records of one table, without looking at the others."""
        for rid, state in self._stems.get(table, {}).items():
            if state != LISTED:
                yield (table, rid), self._made(table, rid, state)
        yield from ((key, result) for key, result in self._kept.items() if key[0] == table)

    def kept(self) -> Iterator[tuple[Key, FileResult]]:
        """The records kept whole: those with a parent, a text, an issue or a quote still to verify."""
        return iter(self._kept.items())
