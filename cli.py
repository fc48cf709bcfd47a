"""Zhili's command line: build the demo store, print KPIs, import files, benchmark.

    python cli.py demo [--db URL] [--seed N] [--scale X] [--until YYYY-MM-DD] [--force]
    python cli.py kpi --start YYYY-MM-DD --end YYYY-MM-DD [--as-of ...] [--community NAME ...]
                      [--by community|grid|category|channel|month] [--format json|table]
    python cli.py import TABLE FILE [--db URL] [--mapping M.yaml] [--strict] [--rejects R.csv]
    python cli.py bench --cases 1000000 [--db URL] [--repeat 3] [--rebuild]

Bad arguments get a one-line message and exit code 2, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date, datetime

from data.db import get_engine, has_data, resolve_url
from data.import_cli import add_import_parser
from metrics.context import make_query
from metrics.formatting import fmt_kpi
from metrics.period import Period, PeriodError
from metrics.registry import REGISTRY
from metrics.report import BREAKDOWNS, kpi_report


class CliError(Exception):
    """A user mistake: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse would print usage and exit 2 itself
        raise CliError(f"参数错误 (bad arguments): {message}")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期格式应为 YYYY-MM-DD: {text!r}") from None


def _datetime(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"时间格式应为 YYYY-MM-DDTHH:MM:SS: {text!r}") from None


def _engine(args):
    try:
        return get_engine(args.db)
    except Exception as exc:  # noqa: BLE001 - a bad URL is a user error
        raise CliError(f"无法连接数据库 (cannot open database) {resolve_url(args.db)}: {exc}")


def cmd_demo(args) -> int:
    from data.demo import DemoExistsError, generate

    engine = _engine(args)
    t0 = time.perf_counter()

    def progress(fraction: float, message: str) -> None:
        print(f"\r[{fraction * 100:5.1f}%] {message:<30}", end="", file=sys.stderr, flush=True)

    try:
        counts = generate(engine, seed=args.seed, scale=args.scale, until=args.until,
                          force=args.force, progress=progress)
    except DemoExistsError as exc:
        raise CliError(str(exc)) from None
    print(file=sys.stderr)
    for table, n in counts.items():
        print(f"{table:<22}{n:>10,}")
    print(f"演示数据已生成 (demo generated) in {time.perf_counter() - t0:.1f} s")
    return 0


def cmd_kpi(args) -> int:
    engine = _engine(args)
    if not has_data(engine):
        raise CliError("数据库中没有数据, 请先运行 python cli.py demo (store is empty)")
    try:
        period = Period(args.start, args.end)
    except PeriodError as exc:
        raise CliError(str(exc)) from None
    q = make_query(engine, period, scope=args.community or (), as_of=args.as_of)
    report = kpi_report(engine, q, by=args.by)
    if args.format == "json":
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(f"统计期 {period.label()}  数据截至 {report['as_of']}  "
              f"范围 {'、'.join(q.scope) or '全部社区'}")
        for key, value in report["kpis"].items():
            print(f"{REGISTRY[key].label:<16}{fmt_kpi(key, value):>16}   {key}")
        for group, values in report.get("groups", {}).items():
            print(f"\n[{group}]")
            for key, value in values.items():
                print(f"  {REGISTRY[key].label:<16}{fmt_kpi(key, value):>16}")
    return 0


def cmd_bench(args) -> int:
    from data.bench import run_bench

    return run_bench(args)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cli.py", description="智理 Zhili command line")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    demo = sub.add_parser("demo", help="生成演示数据 (build the demo store)")
    demo.add_argument("--db", help="database URL (default: ZHILI_DB_URL, secrets, SQLite)")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--scale", type=float, default=1.0)
    demo.add_argument("--until", type=_date, help="last day of data (default: today)")
    demo.add_argument("--force", action="store_true", help="replace an existing store")
    demo.set_defaults(func=cmd_demo)

    kpi = sub.add_parser("kpi", help="输出指标 (print KPIs)")
    kpi.add_argument("--db")
    kpi.add_argument("--start", type=_date, required=True)
    kpi.add_argument("--end", type=_date, required=True)
    kpi.add_argument("--as-of", type=_datetime, dest="as_of")
    kpi.add_argument("--community", nargs="+", metavar="NAME")
    kpi.add_argument("--by", choices=BREAKDOWNS)
    kpi.add_argument("--format", choices=("json", "table"), default="json")
    kpi.set_defaults(func=cmd_kpi)

    bench = sub.add_parser("bench", help="城市规模性能测试 (city-scale benchmark)")
    bench.add_argument("--db")
    bench.add_argument("--cases", type=int, default=1_000_000)
    bench.add_argument("--repeat", type=int, default=3, help="cold runs (the median is shown)")
    bench.add_argument("--rebuild", action="store_true", help="build the store even if it exists")
    bench.set_defaults(func=cmd_bench)

    add_import_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except CliError as exc:
        print(exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
