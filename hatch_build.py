"""Build hook: ship the data package (dist/'s own files) in the sdist and, as kdata/_data, in the wheel.

hatchling always leaves a top-level ``dist/`` out of builds (it is its default
output folder), and a force-include of the folder would take ``dist/releases/``
along, whatever the exclude patterns say. So the files are listed here: the
package's files only, never the release archives in its subfolders.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CustomBuildHook(BuildHookInterface):  # type: ignore[type-arg]  # hatchling's generic base has no stubs
    """Add dist/*.{csv,parquet,json} to the build."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            return  # an editable install reads the checkout's dist/ directly
        dist = Path(self.root) / "dist"
        target = "dist" if self.target_name == "sdist" else "kdata/_data"
        if not (dist / "datapackage.json").is_file():
            raise FileNotFoundError(f"{dist} holds no built data package; run `kdata build` first.")
        for path in sorted(dist.iterdir()):
            if path.is_file() and not path.name.startswith("."):
                build_data["force_include"][str(path)] = f"{target}/{path.name}"
