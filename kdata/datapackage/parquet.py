"""Read Parquet files with pyarrow's file reader rather than ``pq.read_table``.

``pq.read_table`` goes through ``pyarrow.dataset``, whose import pulls in pandas:
about 0.3 s of a command's start-up on a 2-core machine (measured), for
commands that only check or compare tables and never need pandas.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any


def read_parquet(source: str | Path | IO[bytes], columns: list[str] | None = None, threads: bool = True) -> Any:
    """The Arrow table in a Parquet file (or only ``columns`` of it).

    Args:
        source: A path or a binary file object.
        columns: The columns to read; default: all.
        threads: Decode on Arrow's thread pool. Pass False in commands that read small
            files and exit: a pool started only to be torn down at exit has aborted a
            process under load ("terminate called without an active exception").
    """
    import pyarrow.parquet as pq

    with pq.ParquetFile(source) as handle:
        return handle.read(columns=columns, use_threads=threads)
