"""Build hook: ship the data package in the sdist (as dist/) and in the wheel (as kdata/_data).

The files shipped are exactly those ``dist/datapackage.json`` names (its
resources' paths) plus the descriptor itself, whatever else lies in ``dist/``.
That folder is also where ``python -m build`` writes wheels and sdists by
default, where ``kdata release`` writes ``releases/``, and where anyone may drop
a file: none of that may ride along into the next wheel.

hatchling always leaves a top-level ``dist/`` out of builds (its default output
folder), so the files are added here one by one. The hook uses the standard
library only: with build isolation, kdata's own dependencies are not installed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path, PurePosixPath
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

DESCRIPTOR = "datapackage.json"
_REBUILD = "Run `kdata build` to write dist/ afresh."


def _resource_paths(resource: Any) -> list[str]:
    """The ``path`` of one resource as a list (Data Package allows a string or a list of strings)."""
    paths = resource.get("path") if isinstance(resource, dict) else None
    paths = [paths] if isinstance(paths, str) else paths
    if not isinstance(paths, list) or not paths or not all(isinstance(p, str) for p in paths):
        raise ValueError(f"dist/{DESCRIPTOR}: a resource has no path (a string or list of strings). {_REBUILD}")
    return paths


def _check_integrity(file: Path, name: str, resource: dict[str, Any]) -> None:
    """The file has the bytes and hash its resource declares (when it declares them)."""
    content = file.read_bytes()
    if "bytes" in resource and len(content) != resource["bytes"]:
        raise ValueError(f"dist/{name} has {len(content)} bytes; {DESCRIPTOR} declares {resource['bytes']}. {_REBUILD}")
    declared = resource.get("hash")
    if isinstance(declared, str):
        algorithm, _, digest = declared.rpartition(":")
        actual = hashlib.new(algorithm or "md5", content).hexdigest()  # no prefix: md5 (Data Package v1)
        if actual != digest:
            raise ValueError(f"dist/{name} does not match the hash {DESCRIPTOR} declares ({declared}). {_REBUILD}")


def package_files(dist: Path) -> list[str]:
    """The files of the data package in ``dist``: the descriptor and every path its resources name.

    A single-file resource is checked against its declared bytes and hash, so a
    build never ships a package that ``kdata verify`` would refuse.

    Returns:
        Paths relative to ``dist`` (POSIX), sorted, the descriptor included.

    Raises:
        FileNotFoundError: No descriptor, or a named file is missing.
        ValueError: The descriptor is unreadable, names a path outside ``dist`` or a
            URL, or a file does not match its declared bytes or hash.
    """
    try:
        descriptor = json.loads((dist / DESCRIPTOR).read_text("utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{dist} holds no built data package (no {DESCRIPTOR}); run `kdata build` first."
        ) from None
    except ValueError as exc:
        raise ValueError(f"Cannot read {dist / DESCRIPTOR}: {exc}. {_REBUILD}") from None
    resources = descriptor.get("resources") if isinstance(descriptor, dict) else None
    if not isinstance(resources, list):
        raise ValueError(f"{dist / DESCRIPTOR} lists no resources. {_REBUILD}")
    names = {DESCRIPTOR}
    for resource in resources:
        paths = _resource_paths(resource)
        for name in paths:
            pure = PurePosixPath(name)
            if "://" in name or "\\" in name or pure.is_absolute() or ".." in pure.parts or name != pure.as_posix():
                raise ValueError(
                    f"dist/{DESCRIPTOR} names '{name}': only plain relative paths inside dist/ can be bundled. {_REBUILD}"
                )
            file = dist / name
            if not file.is_file():
                raise FileNotFoundError(f"dist/{name} is named in {DESCRIPTOR} but missing. {_REBUILD}")
            if len(paths) == 1:
                _check_integrity(file, name, resource)
            names.add(name)
    return sorted(names)


#: The data's suffix between releases (SemVer ``1.0.0-dev``) and the wheel's for it (PEP 440 ``1.0.0.dev0``).
_DEV = ("-dev", ".dev0")


def wheel_version(data_version: str) -> str:
    """The distribution's PEP 440 version for the data's SemVer version: ``1.0.0`` as it is, ``1.0.0-dev`` -> ``1.0.0.dev0``."""
    semver, pep440 = _DEV
    return data_version.removesuffix(semver) + pep440 if data_version.endswith(semver) else data_version


def check_version(dist: Path, version: str) -> None:
    """The distribution's version is the data's: a wheel of kdata X.Y.Z bundles the data package X.Y.Z.

    Between releases the data is ``X.Y.Z-dev`` and the wheel ``X.Y.Z.dev0`` (hatch reads the same line of
    raw/package.yaml and normalises it to PEP 440).

    Raises:
        ValueError: ``dist/datapackage.json`` states another version (bump ``kdata/__init__.py`` and
            ``raw/package.yaml`` together, then ``kdata build``).
    """
    descriptor = json.loads((dist / DESCRIPTOR).read_text("utf-8"))
    stated = descriptor.get("version") if isinstance(descriptor, dict) else None
    if not isinstance(stated, str) or wheel_version(stated) != version:
        raise ValueError(
            f"The distribution is version {version}, but dist/{DESCRIPTOR} is version {stated}: a wheel bundles the "
            "data of its own version. Give kdata/__init__.py and raw/package.yaml one version, then run `kdata build`."
        )


class CustomBuildHook(BuildHookInterface):  # type: ignore[type-arg]  # hatchling's generic base has no stubs
    """Add the data package's own files of dist/ to the build, and nothing else of dist/."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            return  # an editable install reads the checkout's dist/ directly
        dist = Path(self.root) / "dist"
        target = "dist" if self.target_name == "sdist" else "kdata/_data"
        check_version(dist, self.metadata.version)
        for name in package_files(dist):
            build_data["force_include"][str(dist / name)] = f"{target}/{name}"
