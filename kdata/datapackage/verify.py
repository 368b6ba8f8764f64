"""Verify a built package: every file's bytes and sha256, types, keys and twins.

frictionless does not count or hash Parquet files read as tables, and reads CSV
row by row in Python; this check covers every file and runs on Arrow.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from kdata.datapackage.conformance import (
    Expected,
    current_version,
    expected,
    models_schema,
    package_format,
    parquet_problems,
    resource_problems,
    stray_problems,
)
from kdata.datapackage.read import load_descriptor, table_file
from kdata.errors import PackageError
from kdata.fs import read_whole, sha256_file

#: Table Schema type -> the Arrow type id names Parquet columns must have.
_ARROW_TYPES = {"string": "string", "integer": "int64", "number": "double", "boolean": "bool", "date": "date32[day]"}


def _csv_options(schema: dict[str, Any]) -> dict[str, Any]:
    """How pyarrow reads a table's CSV file with its Table Schema's types."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    types = {f["name"]: pa.type_for_alias(_ARROW_TYPES[f["type"]].replace("[day]", "")) for f in schema["fields"]}
    options = pacsv.ConvertOptions(
        column_types=types, strings_can_be_null=True, null_values=[""], true_values=["true"], false_values=["false"]
    )
    # A quote may span lines: the writer quotes such cells, and Arrow splits its input into blocks
    # at newlines unless told that values may hold them.
    parse = pacsv.ParseOptions(newlines_in_values=True)
    read = pacsv.ReadOptions(use_threads=False, block_size=_CSV_BLOCK)
    return {"read_options": read, "parse_options": parse, "convert_options": options}


#: Bytes of CSV read at a time when it is compared with its Parquet twin block by block.
_CSV_BLOCK = 8 << 20


def _read_csv(path: Path, schema: dict[str, Any]) -> Any:
    import pyarrow.csv as pacsv

    return pacsv.read_csv(path, **_csv_options(schema))


def _csv_equals(path: Path, schema: dict[str, Any], table: Any) -> bool:
    """Whether the CSV holds ``table``'s columns and rows, read a block at a time (never the whole file at once).

    False on any difference or read error: the caller then reads the file whole to say what differs.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    try:
        with pacsv.open_csv(path, **_csv_options(schema)) as reader:
            if reader.schema.names != table.column_names:
                return False
            offset = 0
            for batch in reader:
                rows = batch.num_rows
                if offset + rows > table.num_rows:
                    return False
                if not pa.Table.from_batches([batch]).cast(table.schema).equals(table.slice(offset, rows)):
                    return False
                offset += rows
            return bool(offset == table.num_rows)
    except Exception:  # pyarrow raises ArrowInvalid and others for an unreadable cell: the caller reads it whole
        return False


def _constraint_breakers(column: Any, rule: str, value: Any) -> Any:
    """The non-null values of ``column`` that break the Table Schema constraint ``rule: value``."""
    import re

    import pyarrow.compute as pc

    values = column.drop_null()
    if rule == "pattern":
        matcher = re.compile(value)
        return values.filter(pc.is_in(values, value_set=_kept(values, lambda v: not matcher.fullmatch(str(v)))))
    tests = {
        "enum": lambda: pc.is_in(values, value_set=_kept(values, lambda v: v not in value)),
        "minimum": lambda: _beyond(values, value, below=True),
        "maximum": lambda: _beyond(values, value, below=False),
        "maxLength": lambda: _beyond(pc.utf8_length(values), value, below=False),
    }
    return values.filter(tests[rule]())


def _beyond(values: Any, bound: Any, below: bool) -> Any:
    """A mask of the values below (or above) ``bound``; for numbers, without ``pa.scalar`` (it imports pandas)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(bound, (int, float)) and (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)):
        return pc.is_in(values, value_set=_kept(values, (lambda v: v < bound) if below else (lambda v: v > bound)))
    return (pc.less if below else pc.greater)(values, pa.scalar(bound, values.type))


def _kept(values: Any, keep: Callable[[Any], bool]) -> Any:
    """The distinct values of ``values`` for which ``keep`` is true, as an Arrow array.

    Made by filtering with a bitmap, not with ``pa.array`` of a list: pyarrow imports pandas there (about
    0.3-1 s of ``kdata verify``, which never needs it).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    distinct = pc.unique(values)
    bits = bytearray((len(distinct) + 7) // 8)
    for i, v in enumerate(distinct.to_pylist()):
        if keep(v):
            bits[i >> 3] |= 1 << (i & 7)
    return distinct.filter(pa.Array.from_buffers(pa.bool_(), len(distinct), [None, pa.py_buffer(bytes(bits))]))


#: The Table Schema constraints ``kdata verify`` checks on every cell (``required`` has its own check).
CHECKED_CONSTRAINTS = ("enum", "minimum", "maximum", "pattern", "maxLength")


def _check_constraints(name: str, table: Any, schema: dict[str, Any]) -> list[str]:
    """One line per column and constraint of ``schema`` that a value of ``table`` breaks."""
    problems = []
    for field in schema["fields"]:
        rules = field.get("constraints", {})
        for rule in (r for r in CHECKED_CONSTRAINTS if r in rules):
            try:
                bad = _constraint_breakers(table.column(field["name"]), rule, rules[rule])
            except Exception as exc:  # a constraint that does not fit its column's type (pyarrow, re)
                problems.append(f"{name}.{field['name']}: its {rule} constraint cannot be checked ({exc})")
                continue
            if len(bad):
                problems.append(
                    f"{name}.{field['name']}: {len(bad)} value(s) break its {rule} constraint"
                    f" {rules[rule]!r}, e.g. {bad[0].as_py()!r}"
                )
    return problems


#: How a declared constraint may differ from the one the models define: only by being as strict or stricter.
_AS_STRICT: dict[str, Callable[[Any, Any], bool]] = {
    "enum": lambda declared, model: isinstance(declared, list) and set(map(str, declared)) <= set(map(str, model)),
    "minimum": lambda declared, model: isinstance(declared, (int, float)) and declared >= model,
    "maximum": lambda declared, model: isinstance(declared, (int, float)) and declared <= model,
    "maxLength": lambda declared, model: isinstance(declared, int) and declared <= model,
    "minLength": lambda declared, model: isinstance(declared, int) and declared >= model,
    "pattern": lambda declared, model: declared == model,
    "required": lambda declared, model: declared is True or not model,
    "unique": lambda declared, model: declared is True or not model,
}


def _check_keys(name: str, schema: dict[str, Any]) -> list[str]:
    """What ``schema`` lost of the table the models define for ``name``: its keys, or a field's constraint.

    A descriptor may be stricter than the models, never looser: a dropped enum or a widened range
    would let values through that no build writes. What the models do not (or no longer) define is
    left alone, so a package built by an older kdata still verifies: a table they no longer define
    (0.1.0's ``conflicts``) is checked against its own Table Schema only, and a foreign key is
    required only where the table has every column it joins (0.1.0's citations have no ``claim``).
    """
    from kdata.records.models import TABLES

    if name not in TABLES:
        return []
    expected = models_schema(name)
    problems = []
    if schema.get("primaryKey") != expected["primaryKey"]:
        problems.append(
            f"{name}: primary key is {schema.get('primaryKey')}, the models define {expected['primaryKey']}"
        )
    declared = schema.get("foreignKeys", [])
    columns = {f["name"] for f in schema["fields"]}
    for fk in expected.get("foreignKeys", []):
        if fk not in declared and columns.issuperset(fk["fields"]):
            problems.append(f"{name}: the foreign key {fk['fields']} -> {fk['reference']['resource']} is missing")
    fields = {f["name"]: f.get("constraints", {}) for f in schema["fields"]}
    for field in expected["fields"]:
        if field["name"] not in fields:
            continue
        have = fields[field["name"]]
        for key, model in field.get("constraints", {}).items():
            check = _AS_STRICT.get(key)
            if check is not None and not check(have.get(key), model):
                problems.append(
                    f"{name}.{field['name']}: the constraint {key} is {have.get(key, 'missing')!r}, looser than the "
                    f"models' {model!r}"
                )
    return problems


def _check_table(
    name: str, csv_path: Path, parquet_path: Path, resource: dict[str, Any], twin: dict[str, Any], made: Expected | None
) -> tuple[list[str], Any | None]:
    from kdata.datapackage.parquet import read_parquet

    schema = resource["schema"]
    problems = _check_keys(name, schema)
    try:
        table = read_parquet(parquet_path, threads=False)
    except PackageError as exc:
        return [*problems, str(exc)], None
    want = [(f["name"], _ARROW_TYPES[f["type"]]) for f in schema["fields"]]
    have = [(f.name, str(f.type)) for f in table.schema]
    if want != have:
        problems.append(f"{parquet_path.name}: columns {have} do not match the Table Schema {want}")
        return problems, None
    if made is not None:
        problems += parquet_problems(parquet_path.name, table, twin, made)
    if table.num_rows != resource["kdata:rows"]:
        problems.append(f"{parquet_path.name}: {table.num_rows} rows, the descriptor declares {resource['kdata:rows']}")
    if not _csv_equals(csv_path, schema, table):  # equal is the common case, read in bounded memory
        try:
            from_csv = _read_csv(csv_path, schema)  # read whole to say how they differ
        except Exception as exc:  # pyarrow raises ArrowInvalid subclasses for any unreadable cell
            problems.append(f"{csv_path.name}: cannot be read with its Table Schema types: {exc}")
            return problems, table
        if from_csv.column_names != table.column_names:
            problems.append(f"{csv_path.name}: columns {from_csv.column_names} do not match the Table Schema's")
            return problems, table
        if from_csv.num_rows != table.num_rows:
            problems.append(f"{csv_path.name} holds {from_csv.num_rows} rows, {parquet_path.name} {table.num_rows}")
        elif not _same_rows(from_csv, table):
            problems.append(f"{csv_path.name} and {parquet_path.name} do not hold the same rows")
            problems += _check_constraints(csv_path.name, from_csv, schema)  # each file on its own
            name = parquet_path.name
    problems += _check_constraints(name, table, schema)
    for field in schema["fields"]:
        if field.get("constraints", {}).get("required") and table.column(field["name"]).null_count:
            problems.append(f"{name}: required column '{field['name']}' has empty cells")
    key = schema.get("primaryKey", [])
    if key and not set(key) <= set(table.column_names):
        problems.append(f"{name}: primary key {key} names a column the table does not have")
    elif key and not _unique(table, key):
        problems.append(f"{name}: primary key {key} is not unique")
    return problems, table


def _same_rows(from_csv: Any, table: Any) -> bool:
    """Whether the CSV's rows, cast to the Parquet twin's types, equal the twin's (False where they cannot be cast)."""
    try:
        return bool(from_csv.cast(table.schema).equals(table))
    except (ValueError, TypeError, NotImplementedError):  # pyarrow's ArrowInvalid is a ValueError
        return False


def _unique(table: Any, key: list[str]) -> bool:
    """No two rows share the values of ``key``: sorted by it, no row equals the next.

    By hand rather than ``Table.group_by``: that imports pyarrow.acero and, with
    it, pandas (~0.3 s of every ``kdata verify``, measured).
    """
    import pyarrow.compute as pc

    if table.num_rows < 2:
        return True
    ordered = table.select(key).take(pc.sort_indices(table, [(k, "ascending") for k in key]))
    same = None
    for column in ordered.columns:
        equal = pc.equal(column.slice(1), column.slice(0, len(column) - 1))
        same = equal if same is None else pc.and_(same, equal)
    return not pc.any(same).as_py()


def verify(folder: Path) -> list[str]:
    """Check a built package folder; return one line per problem (empty when valid).

    Checks the descriptor (``read.load_descriptor``: shape, paths inside the folder, http(s)
    links); for every resource: the file exists with the declared sha256 (and bytes, where declared); for every
    table: its primary and foreign keys are those the models define, the Parquet twin is
    readable and its columns and types match the Table Schema, it holds the declared number of
    rows and the same rows as the CSV, every cell meets its field's ``enum``, ``minimum``,
    ``maximum``, ``pattern`` and ``maxLength`` constraints (in both files), required cells are
    filled, primary keys are unique and foreign keys resolve. The folder holds nothing the descriptor does not
    name (a release's SHA256SUMS, kdata's marker and a checkout's releases/ aside: ``conformance.stray_problems``).

    The check changes nothing. A swap of the folder by a build or a download in another process can
    make it see files of two versions, or none: a check that finds problems (or cannot read) is done
    once more holding the folder's lock (``fs.read_whole``), and that answer is final. A swap that
    died half-way is not repaired here (the next build or download does it): holding the lock, the
    check reads the previous version where that swap left it.

    Raises:
        PackageError: The folder has no readable ``datapackage.json``.
    """
    return read_whole(folder, _verify, suspect=bool, repair=False)


def _verify(folder: Path) -> list[str]:
    import pyarrow.compute as pc

    descriptor = load_descriptor(folder)  # once, without read_descriptor's retry: verify's own, repairing nothing
    problems: list[str] = []
    for resource in descriptor["resources"]:
        file = folder / resource["path"]
        if not file.is_file():
            problems.append(f"{resource['path']}: missing")
            continue
        size = file.stat().st_size
        if "bytes" in resource and size != resource["bytes"]:
            problems.append(f"{resource['path']}: {size} bytes, expected {resource['bytes']}")
        digest = "sha256:" + sha256_file(file)
        if digest != resource["hash"]:
            problems.append(f"{resource['path']}: sha256 is {digest}, expected {resource['hash']}")
    if problems:
        return problems
    made = None
    generation, problems = package_format(descriptor)
    problems += stray_problems(folder, descriptor)
    if generation > 1:  # what the writer of its format writes, exactly (see conformance)
        made, found = expected(descriptor, by_models=descriptor["version"] == current_version())
        problems += found
        if made is not None:
            problems += resource_problems(descriptor, made)
    tables: dict[str, Any] = {}
    schemas = {}
    unreadable: set[str] = set()
    keys = _key_columns(descriptor)
    for resource in descriptor["resources"]:
        if resource["format"] != "csv":
            continue
        name = resource["name"]
        try:
            twin = table_file(descriptor, name, "parquet")
        except PackageError:
            problems.append(f"{name}: no Parquet twin")
            continue
        twin_entry = next(r for r in descriptor["resources"] if r["path"] == twin)
        found, table = _check_table(name, folder / resource["path"], folder / twin, resource, twin_entry, made)
        problems.extend(found)
        if table is not None:  # only the columns a foreign key reads are kept: the next table may be large
            tables[name] = table.select([c for c in table.column_names if c in keys.get(name, ())])
            schemas[name] = resource["schema"]
        else:
            unreadable.add(name)
    for name, schema in schemas.items():
        for fk in schema.get("foreignKeys", []):
            fields, target, keys = fk["fields"], fk["reference"]["resource"], fk["reference"]["fields"]
            if target in unreadable:
                continue  # its own problem is named already
            if (
                not fields
                or len(fields) != len(keys)
                or target not in tables
                or any(f not in tables[name].column_names for f in fields)
            ):
                problems.append(f"{name}: the foreign key {fields} -> {target} cannot be checked")
                continue
            if len(fields) > 1:
                problems += _composite_key_problems(name, tables[name], fields, target, tables[target], keys)
                continue
            (column,), (key,) = fields, keys
            values = tables[name].column(column).drop_null()
            known = tables[target].column(key) if key in tables[target].column_names else values[:0]
            missing = pc.filter(values, pc.invert(pc.is_in(values, value_set=known)))
            if len(missing):
                problems.append(f"{name}.{column}: {len(missing)} value(s) not found in {target}, e.g. '{missing[0]}'")
    return problems


def _key_columns(descriptor: dict[str, Any]) -> dict[str, set[str]]:
    """Table -> the columns that its foreign keys and those of other tables join on (shape checked on read)."""
    out: dict[str, set[str]] = {}
    for resource in descriptor["resources"]:
        for fk in resource["schema"].get("foreignKeys", []):
            out.setdefault(resource["name"], set()).update(fk["fields"])
            out.setdefault(fk["reference"]["resource"], set()).update(fk["reference"]["fields"])
    return out


def _composite_key_problems(
    name: str, table: Any, fields: list[str], target: str, other: Any, keys: list[str]
) -> list[str]:
    """The rows of ``table`` whose ``fields`` (none of them empty) name no row of ``other`` by ``keys``."""
    known = set()
    if set(keys) <= set(other.column_names):
        known = set(zip(*(other.column(k).to_pylist() for k in keys), strict=True))
    rows = zip(*(table.column(f).to_pylist() for f in fields), strict=True)
    missing = [row for row in rows if None not in row and row not in known]
    if not missing:
        return []
    example = ", ".join(map(str, missing[0]))
    return [f"{name}.({', '.join(fields)}): {len(missing)} row(s) not found in {target}, e.g. ({example})"]
