"""The one aggregation engine every domain declares itself into.

A domain (cases, petitions, incidents, ...) is a ``Domain``: its table, cohort date,
breakdown dimensions, per-row indicators and the additive counts made of them, optionally
durations and a point-in-time backlog. The engine turns the declaration into one SQL pass
per date range (the *cube*), rolls it up by every breakdown in numpy, and derives each
KPI from its registry entry (``metrics.registry``): a count, a rate of two counts, a
weighted score of rates, or the backlog. Large tables switch on coded keys and date-range
lanes; small ones do not need them.

    domain.py   the declaration (``Domain``)
    keys.py     dictionaries and integer-coded group keys
    sql.py      the cube and backlog statements
    cube.py     running them in date-range lanes, decoding the rows
    rollup.py   roll-ups and figures from counts (``compute``, ``Result``)
    composite.py  a domain made of other domains' results (cadre appraisal)
    union.py    a domain made of several row sources with a precedence, its counts split
                by one dimension's values (benefits: lists or monthly statistics, per program)
"""
from metrics.engine.composite import Composite
from metrics.engine.domain import Distinct, Domain
from metrics.engine.rollup import Result, compute, figures, reference_month
from metrics.engine.union import Split, Union

__all__ = ["Composite", "Distinct", "Domain", "Result", "Split", "Union", "compute", "figures",
           "reference_month"]
