"""Stage 1, records: the YAML files under ``raw/`` in, validated records and issues out.

Strict YAML with positions (:mod:`.yamlio`), the controlled vocabularies (:mod:`.vocab`), EDTF
dates (:mod:`.dates`), the pydantic models that define every field (:mod:`.models`), pydantic
errors mapped back to file, line and column (:mod:`.issues`), per-file checks and their cache
(:mod:`.scan`), cross-record checks (:mod:`.validate`) and record templates (:mod:`.scaffold`).
Imports nothing from the later stages.
"""
