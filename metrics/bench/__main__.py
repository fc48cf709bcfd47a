"""``python -m metrics.bench``: the benchmarks, or one measurement in this fresh process
(``--measure MODE --domain cases|incidents|cadres|benefits``, printed as one line of JSON)."""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime

from metrics.bench.common import CUTOFF


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m metrics.bench",
                                     description="city-scale benchmarks")
    parser.add_argument("--db")
    parser.add_argument("--cases", type=int)
    parser.add_argument("--incidents", type=int)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--measure", choices=["cold", "trace", "warm", "baseline",
                                              "baseline-trace", "parts"])
    parser.add_argument("--domain", choices=["cases", "incidents", "cadres", "benefits"], default="cases")
    parser.add_argument("--cadres", type=int)
    parser.add_argument("--recipients", type=int)
    parser.add_argument("--as-of", type=datetime.fromisoformat, default=CUTOFF)
    args = parser.parse_args(argv)
    if args.measure:
        if args.domain == "incidents":
            from metrics.bench.incidents import measure
        elif args.domain == "cadres":
            from metrics.bench.cadres import measure
        elif args.domain == "benefits":
            from metrics.bench.benefits import measure
        else:
            from metrics.bench.cases import measure
        print(json.dumps(measure(args.measure, args.db, args.as_of), ensure_ascii=False,
                         default=str))
        return 0
    from metrics.bench import run_benches

    return run_benches(args)


if __name__ == "__main__":
    sys.exit(main())
