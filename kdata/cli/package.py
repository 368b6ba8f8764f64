"""Commands about the built package: build, verify, info, schemas, and docs (the sections generated from it)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kdata.datapackage.safety import printable
from kdata.errors import KdataError


@click.command("build")
@click.option(
    "--raw",
    "raw_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("raw"),
    show_default=True,
    help="Folder of YAML records.",
)
@click.option(
    "--dist",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("dist"),
    show_default=True,
    help="Folder of the built data package.",
)
@click.option(
    "--schemas",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("schemas"),
    show_default=True,
    help="Folder of generated schemas.",
)
@click.option(
    "--check", is_flag=True, help="Write nothing; exit 1 and name each file that is stale against raw/ and the models."
)
def build_command(raw_dir: Path, dist: Path, schemas: Path, check: bool) -> None:
    """Validate raw/ and write the data package to dist/ (and schemas/)."""
    from kdata.datapackage import build as builder

    if check:
        blocked = builder.refusals(raw_dir, dist, schemas)
        stale = builder.stale_files(raw_dir, dist, schemas)
        for line in [*blocked, *stale]:
            click.echo(printable(line))
        if blocked:
            click.echo(
                "`kdata build` would refuse as the lines above say: move out what kdata did not write, "
                "then run `kdata build` and commit the result.",
                err=True,
            )
            sys.exit(1)
        if stale:
            click.echo(f"{len(stale)} file(s) stale: run `kdata build` and commit the result.", err=True)
            sys.exit(1)
        click.echo(f"{dist} and {schemas} are fresh.")
        return
    result = builder.build(raw_dir, dist, schemas)
    total = sum(result.rows.values())
    click.echo(f"Built {result.dist}: {total} rows in {len(result.rows)} tables, as CSV and Parquet.")


@click.command("verify")
@click.argument("dist", type=click.Path(path_type=Path, file_okay=False), default=Path("dist"))
def verify_command(dist: Path) -> None:
    """Check a built package in DIST (default: dist): descriptor, bytes, sha256, types, constraints and keys."""
    from kdata.datapackage.verify import verify as check

    problems = check(dist)
    for line in problems:
        click.echo(printable(line))
    if problems:
        sys.exit(1)
    click.echo(
        f"{dist} is valid: every file matches its sha256 (and its bytes, where declared); types, constraints and keys hold."
    )


@click.command("info")
@click.argument("dist", type=click.Path(path_type=Path, file_okay=False), required=False)
def info_command(dist: Path | None) -> None:
    """Print the package name, version, licence and each table's rows (default: bundled)."""
    from kdata.datapackage.read import bundled_dir, read_descriptor

    folder = dist or bundled_dir()
    descriptor = read_descriptor(folder, KdataError)
    licences = ", ".join(lic["name"] for lic in descriptor.get("licenses", []))
    click.echo(printable(f"{descriptor['name']} {descriptor['version']} ({licences})"))
    click.echo(printable(descriptor.get("title", "")))
    click.echo(printable(f"Location: {folder}"))
    tables = [r for r in descriptor["resources"] if r["format"] == "csv"]
    width = max((len(r["name"]) for r in tables), default=0)
    for resource in tables:
        click.echo(printable(f"  {resource['name']:<{width}} {resource['kdata:rows']:>6} rows"))


@click.command("schemas")
@click.argument("out", type=click.Path(path_type=Path, file_okay=False), default=Path("schemas"))
def schemas_command(out: Path) -> None:
    """Write the JSON Schemas and Table Schemas generated from the models to OUT."""
    from kdata.datapackage.schemas import write_schemas

    written = write_schemas(out)
    click.echo(f"Wrote {len(written)} schemas to {out}.")


@click.command("docs")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--check", is_flag=True, help="Write nothing; exit 1 and name each file whose generated sections are stale."
)
def docs_command(files: tuple[Path, ...], check: bool) -> None:
    """Rewrite the generated sections (data model, error codes) of FILES (default: README.md, CONTRIBUTING.md).

    Without FILES, also CITATION.cff and .zenodo.json where they exist, from the citation of dist/.
    """
    from kdata.datapackage.docs import update

    paths = list(files) or [p for p in (Path("README.md"), Path("CONTRIBUTING.md")) if p.is_file()]
    changed = update(paths, check=check)
    if not files and (Path("dist") / "datapackage.json").is_file():
        from kdata.datapackage.read import read_descriptor
        from kdata.release.cite import update_citation_files

        changed += update_citation_files(Path(), read_descriptor(Path("dist")), check=check)
    for path in changed:
        click.echo(f"{path} {'is stale' if check else 'updated'}")
    if check and changed:
        sys.exit(1)
