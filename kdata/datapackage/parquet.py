"""Read Parquet files with pyarrow's file reader rather than ``pq.read_table``.

``pq.read_table`` goes through ``pyarrow.dataset``, whose import pulls in pandas:
about 0.3 s of a command's start-up on a 2-core machine (measured), for
commands that only check or compare tables and never need pandas.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

from kdata.errors import PackageError


def read_parquet(source: str | Path | IO[bytes], columns: list[str] | None = None, threads: bool = True) -> Any:
    """The Arrow table in a Parquet file (or only ``columns`` of it).

    Args:
        source: A path or a binary file object.
        columns: The columns to read; default: all.
        threads: Decode on Arrow's thread pool. Pass False in commands that read small
            files and exit: a pool started only to be torn down at exit has aborted a
            process under load ("terminate called without an active exception").

    Raises:
        PackageError: The bytes are not a readable Parquet file (damaged, or not Parquet at all):
            one line naming the file. A missing file raises ``OSError`` as before.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        with pq.ParquetFile(source) as handle:
            return handle.read(columns=columns, use_threads=threads)
    except (pa.ArrowException, ValueError) as exc:  # ArrowInvalid, ArrowIOError...: damaged bytes
        name = source if isinstance(source, (str, Path)) else getattr(source, "name", "a Parquet stream")
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PackageError(f"{name}: not a readable Parquet file ({first}).") from None
