"""The ``kdata site`` command: the static website of a built package."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("site")
@click.argument("out", type=click.Path(path_type=Path, file_okay=False), default=Path("site"))
@click.option(
    "--package",
    type=click.Path(path_type=Path, file_okay=False),
    help="Built package folder to publish (default: the bundled package).",
)
def site_command(out: Path, package: Path | None) -> None:
    """Write a static, offline website of the package to OUT (default: site): open OUT/index.html."""
    from kdata.site.render import build_site

    result = build_site(out, package)
    click.echo(f"Wrote {result.pages} pages to {result.out}; open {result.out / 'index.html'} in a browser.")
