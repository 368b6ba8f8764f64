"""`kdata diff` on real builds: rows added, changed and retracted, a field removed, and the bump each needs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from conftest import GOOD
from inprocess import run_kdata_here

import kdata
from kdata.datapackage.build import build
from kdata.records.validate import load_raw
from kdata.release.archive import archive_bytes
from kdata.release.diff import diff_packages

RETRACTION = "retracted:\n  reason: Misread the source; the figure is the council's.\n  version: 0.2.0\n"


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two real builds: 0.1.0 of the good project, and 0.2.0 with a place added, a figure changed and one retracted."""
    root = tmp_path_factory.mktemp("versions")
    shutil.copytree(GOOD / "raw", root / "raw")
    build(root / "raw", root / "v1")
    raw = root / "raw"
    (raw / "places" / "riverton-ferry.yaml").write_text(
        "id: riverton-ferry\nname: Ferry at Riverton\nkind: facility\nparent: riverton\n"
    )
    length = raw / "figures" / "riverton-bridge-length.yaml"
    length.write_text(length.read_text().replace("value: 4\n", "value: 5\n"))
    other = raw / "figures" / "riverton-returnees-other.yaml"
    other.write_text(other.read_text() + RETRACTION)
    package = raw / "package.yaml"
    package.write_text(package.read_text().replace("version: 0.1.0", "version: 0.2.0"))
    build(raw, root / "v2")
    return root / "v1", root / "v2"


def test_rows_added_changed_and_retracted_need_a_minor_bump(versions: tuple[Path, Path]) -> None:
    v1, v2 = versions
    diff = diff_packages(v1, v2)
    places, figures = diff.tables["places"], diff.tables["figures"]
    assert places.added == [("riverton-ferry",)] and not places.removed and not places.changed
    changed = dict(figures.changed)
    assert changed[("riverton-bridge-length",)] == {"value": (4, 5)}
    assert changed[("riverton-returnees-other",)] == {
        "retracted_reason": (None, "Misread the source; the figure is the council's."),
        "retracted_version": (None, "0.2.0"),
    }
    assert not any(t.fields_added or t.fields_removed for t in diff.tables.values())
    assert diff.bump == "minor" and diff.next_version() == "0.2.0"
    assert ("minor", "places: 1 row(s) added") in diff.reasons and (
        "patch",
        "figures: 2 row(s) changed",
    ) in diff.reasons


def test_a_removed_field_or_row_needs_a_major_bump(versions: tuple[Path, Path], tmp_path: Path) -> None:
    """Drop the column <code>note</code> from places (Parquet and descriptor), then a place row: both are major."""
    _, v2 = versions
    v3 = tmp_path / "v3"
    shutil.copytree(v2, v3)
    table = pq.read_table(v3 / "places.parquet")
    pq.write_table(table.drop(["note"]), v3 / "places.parquet")
    descriptor = json.loads((v3 / "datapackage.json").read_text())
    for resource in descriptor["resources"]:
        if resource["name"].startswith("places"):
            resource["schema"]["fields"] = [f for f in resource["schema"]["fields"] if f["name"] != "note"]
    (v3 / "datapackage.json").write_text(json.dumps(descriptor))
    diff = diff_packages(v2, v3)
    assert diff.tables["places"].fields_removed == ["note"] and diff.bump == "major"
    assert diff.next_version() == "1.0.0"
    pq.write_table(table.filter(pc.not_equal(table["id"], "riverton-ferry")), v3 / "places.parquet")
    (v3 / "datapackage.json").write_text((v2 / "datapackage.json").read_text())
    diff = diff_packages(v2, v3)
    assert diff.tables["places"].removed == [("riverton-ferry",)] and diff.bump == "major"
    assert diff_packages(v2, v2).bump == "none"


def _diff(*args: str | Path, cwd: Path) -> str:
    """``kdata diff ARGS`` (in this process); it must succeed. Returns its stdout."""
    result = run_kdata_here("diff", *args, cwd=cwd)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_cli_formats_and_archives(versions: tuple[Path, Path], tmp_path: Path) -> None:
    """The command reads folders and .zip archives; text ends with the bump; json, markdown, changelog."""
    v1, v2 = versions
    name, content = archive_bytes(v1)
    (tmp_path / name).write_bytes(content)
    text = _diff(tmp_path / name, v2, cwd=tmp_path)
    assert text.strip().splitlines()[-1] == "Required bump: minor (0.1.0 → at least 0.2.0)."
    assert "  + riverton-ferry" in text and "  ~ riverton-bridge-length: value: 4 → 5" in text
    report = json.loads(_diff(v1, v2, "--format", "json", cwd=tmp_path))
    assert report["bump"] == "minor" and report["tables"]["places"]["added"] == [["riverton-ferry"]]
    markdown = _diff(v1, v2, "--format", "markdown", cwd=tmp_path)
    assert "| <code>places</code> | 1 | 0 | 0 | — |" in markdown and "**Required bump: minor" in markdown
    entry = _diff(v1, v2, "--format", "changelog", cwd=tmp_path)
    assert (
        entry.startswith("## [0.2.0] - ") and "### Added\n- 1 row(s) in <code>places</code>: riverton-ferry." in entry
    )
    bad = run_kdata_here("diff", "not-a-package", v2, cwd=tmp_path)
    assert bad.returncode == 2 and "neither a package folder" in bad.stderr


def _renamed(package: Path, old: str, new: str, out: Path) -> Path:
    """A copy of ``package`` whose table ``old`` is called ``new`` (both files, both resources), as another kdata wrote it."""
    shutil.copytree(package, out)
    path = out / "datapackage.json"
    descriptor = json.loads(path.read_text("utf-8"))
    for resource in descriptor["resources"]:
        if resource["name"] in (old, f"{old}-parquet"):
            resource["name"] = resource["name"].replace(old, new, 1)
            (out / resource["path"]).rename(out / resource["path"].replace(old, new, 1))
            resource["path"] = resource["path"].replace(old, new, 1)
    path.write_text(json.dumps(descriptor, indent=2), "utf-8")
    return out


def test_a_table_that_disappears_or_appears(versions: tuple[Path, Path], tmp_path: Path) -> None:
    """The conflicts table replaced by disagreements: removing a resource is major, adding one minor."""
    v1, _ = versions
    older = _renamed(v1, "disagreements", "conflicts", tmp_path / "older")
    diff = diff_packages(older, v1)
    assert (diff.resources_removed, diff.resources_added) == (["conflicts"], ["disagreements"])
    assert ("major", "resource conflicts removed") in diff.reasons and diff.bump == "major"
    assert "conflicts" not in diff.tables and "disagreements" not in diff.tables  # compared only where both hold it
    assert diff.tables["disagreement_sides"].empty()
    back = diff_packages(v1, older)
    assert ("minor", "resource conflicts added") in back.reasons and back.bump == "major"
    text = _diff(older, v1, cwd=tmp_path)
    assert "resource conflicts removed" in text and "resource disagreements added" in text
    entry = _diff(older, v1, "--format", "changelog", cwd=tmp_path)
    assert "### Removed\n- Resource <code>conflicts</code>." in entry


def test_tombstones_stay_out_of_load_unless_asked(versions: tuple[Path, Path]) -> None:
    """A retracted figure and its citations are left out by default; include_retracted brings them back."""
    _, v2 = versions
    figures = kdata.load("figures", package=v2)
    assert "riverton-returnees-other" not in set(figures["id"]) and len(figures) == 2
    everything = kdata.load("figures", package=v2, include_retracted=True).set_index("id")
    assert everything.loc["riverton-returnees-other", "retracted_version"] == "0.2.0"
    citations = kdata.load_table("citations", package=v2).column("figure").to_pylist()
    assert "riverton-returnees-other" not in citations
    all_citations = kdata.load_table("citations", package=v2, include_retracted=True).column("figure").to_pylist()
    assert "riverton-returnees-other" in all_citations


def test_a_reference_to_a_tombstone_still_resolves(tmp_path: Path) -> None:
    """Retracting a place that others refer to leaves the references valid."""
    shutil.copytree(GOOD / "raw", tmp_path / "raw")
    place = tmp_path / "raw" / "places" / "riverton-bridge.yaml"
    place.write_text(place.read_text() + RETRACTION)
    assert load_raw(tmp_path / "raw").issues == []


def test_a_claim_edited_shows_in_the_claim_and_its_link_tables(tmp_path: Path) -> None:
    """A claim's new wording is a changed row; a target dropped from its list is a dependent row removed (patch),
    a figure added to its list a row added (minor); a claim removed outright needs a major bump (use a tombstone)."""
    shutil.copytree(GOOD / "raw", tmp_path / "raw")
    build(tmp_path / "raw", tmp_path / "v1")
    claim = tmp_path / "raw" / "claims" / "town-council-says-residents-returned.yaml"
    text = claim.read_text("utf-8")
    edited = text.replace("targets: [riverton-residents]", "targets: []").replace(
        "figures: [riverton-returnees-council]", "figures: [riverton-returnees-council, riverton-returnees-other]"
    )
    claim.write_text(edited.replace("The town council says", "The Town Council says"), "utf-8")
    build(tmp_path / "raw", tmp_path / "v2")
    diff = diff_packages(tmp_path / "v1", tmp_path / "v2")
    key = ("town-council-says-residents-returned",)
    assert dict(diff.tables["claims"].changed)[key] == {
        "summary": (
            "The town council says about 1,200 residents returned to Riverton on 2 March 2020.",
            "The Town Council says about 1,200 residents returned to Riverton on 2 March 2020.",
        )
    }
    assert diff.tables["claim_targets"].removed == [(key[0], "riverton-residents")]
    assert diff.tables["claim_figures"].added == [(key[0], "riverton-returnees-other")]
    assert ("patch", "claim_targets: 1 dependent row(s) removed") in diff.reasons and diff.bump == "minor"
    claim.unlink()
    build(tmp_path / "raw", tmp_path / "v3")
    gone = diff_packages(tmp_path / "v1", tmp_path / "v3")
    assert gone.tables["claims"].removed == [key] and gone.bump == "major"


def test_a_retracted_claim_leaves_load_with_its_links_and_citations(tmp_path: Path) -> None:
    """kdata.load("claims") leaves a tombstone out, and with it its rows of every table it owns."""
    shutil.copytree(GOOD / "raw", tmp_path / "raw")
    claim = tmp_path / "raw" / "claims" / "town-council-says-residents-returned.yaml"
    build(tmp_path / "raw", tmp_path / "v1")
    owned = ("claim_targets", "claim_events", "claim_places", "claim_figures")
    assert kdata.load("claims", package=tmp_path / "v1")["id"].tolist() == [claim.stem]
    assert [kdata.load(t, package=tmp_path / "v1")["claim"].tolist() for t in owned] == [[claim.stem]] * 4
    claim.write_text(claim.read_text("utf-8") + RETRACTION, "utf-8")
    build(tmp_path / "raw", tmp_path / "v2")
    assert kdata.load("claims", package=tmp_path / "v2").empty
    assert all(kdata.load(t, package=tmp_path / "v2").empty for t in owned)
    assert claim.stem not in set(kdata.load("citations", package=tmp_path / "v2")["claim"].dropna())
    assert kdata.load("claims", package=tmp_path / "v2", include_retracted=True)["id"].tolist() == [claim.stem]
