"""City-scale benchmarks: ``python cli.py bench --cases N`` and/or ``--incidents N``,
``--cadres N``, ``--recipients N``.

    common.py     shared plumbing: the store (create, bulk load, reuse), the fresh-process
                  measurements (wall time, VmHWM), comparing figures with a reference
    cases.py      cases: one million cases, all ``cases.*`` KPIs (metrics.cases)
    incidents.py  incidents: one million 警情, all ``incidents.*`` keys with CompStat
    cadres.py     cadres: 2 000 cadres' year of attendance, logs and handled cases; a
                  month's ``kpi --only attendance,worklogs,appraisal --by cadre``
    benefits.py   benefits: 50 000 recipients with five years of monthly payments; a
                  year's ``kpi --only benefits --by community``

Each domain's figures are checked against its independent pandas reference
(``metrics.reference``), which is also the load-everything baseline. Every measurement
runs in a fresh ``python -m metrics.bench --measure MODE --domain D`` process.
"""
from __future__ import annotations

import sys

from metrics.bench.cases import build_store, compare_results, generate_cases, run_bench, \
    store_cases
from metrics.bench.common import ensure_database
from metrics.bench.incidents import build_incidents_store, compare_incidents, \
    generate_incidents, run_incidents_bench, store_incidents

__all__ = ["build_store", "compare_results", "generate_cases", "run_bench", "store_cases",
           "ensure_database", "build_incidents_store", "compare_incidents",
           "generate_incidents", "run_incidents_bench", "store_incidents", "run_benches"]

DEFAULT_CASES = 1_000_000


def run_benches(args) -> int:
    """``bench``: the cases benchmark (``--cases``, the default) and/or the incidents one
    (``--incidents``), one after the other; the worst exit code."""
    cases = getattr(args, "cases", None)
    incidents = getattr(args, "incidents", None)
    cadres = getattr(args, "cadres", None)
    recipients = getattr(args, "recipients", None)
    codes = []
    if recipients is not None:
        from metrics.bench.benefits import run_benefits_bench

        codes.append(run_benefits_bench(args))
        if cases is None and incidents is None and cadres is None:
            return codes[0]
        print("", flush=True)
    if cadres is not None:
        from metrics.bench.cadres import run_cadres_bench

        codes.append(run_cadres_bench(args))
        if cases is None and incidents is None:
            return max(codes)
        print("", flush=True)
    if cases is not None or incidents is None:
        args.cases = DEFAULT_CASES if cases is None else cases
        codes.append(run_bench(args))
        sys.stdout.flush()
    if incidents is not None:
        if codes:
            print("", flush=True)
        codes.append(run_incidents_bench(args))
    return max(codes)
