"""Stage 2, data package: validated records in, a Frictionless data package folder out.

Table and JSON Schemas generated from the models (:mod:`.schemas`), records turned into rows
(:mod:`.rows`), the derived disagreement tables (:mod:`.conflicts`), CSV, Parquet and
``datapackage.json`` (:mod:`.write`), the atomic build of ``dist/`` (:mod:`.build`), reading a
built package (:mod:`.read`, :mod:`.parquet`), checking one (:mod:`.verify`) and the generated
documentation (:mod:`.docs`). Imports only :mod:`kdata.records` and the bottom layer.
"""
