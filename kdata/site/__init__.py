"""The static site: a built package in (read through :mod:`kdata.api`), an offline website out.

Pages rendered with Jinja2 templates (:mod:`.render`, ``templates/``) and the timeline's layout
(:mod:`.timeline`), the pages of actors, places and topics and the links of ids (:mod:`.entities`),
dates in words (:mod:`.when`). Never reads ``raw/``.
"""
