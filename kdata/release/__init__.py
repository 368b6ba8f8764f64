"""Stage 3, releases: built package folders in, release archives, registry entries and diffs out.

The archive format, SHA256SUMS and safe extraction (:mod:`.archive`), the registry of published
versions and SemVer (:mod:`.registry`), differences between two packages and the bump they need
(:mod:`.diff`, :mod:`.diff_format`), the release policy (:mod:`.publish`) and citations
(:mod:`.cite`). Works on folders and files it is given; fetching is the next stage's job.
"""
