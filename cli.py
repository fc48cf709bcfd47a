"""Zhili's command line: build the demo store, print KPIs, import files, benchmark.

    python cli.py init --name 某某街道 [--no-demo] [--db URL]   the office's name, the store
    python cli.py demo [--db URL] [--seed N] [--scale X] [--until YYYY-MM-DD] [--force]
    python cli.py demo --remove [--db URL]   delete the demo's rows, keep imported ones
    python cli.py kpi --start YYYY-MM-DD --end YYYY-MM-DD [--as-of ...] [--community NAME ...]
                      [--by community|grid|category|channel|month] [--format json|table]
    python cli.py import TABLE FILE [--db URL] [--mapping NAME|M.yaml] [--sheet S] [--create-missing]
                         [--strict] [--rejects R.csv]
    python cli.py bench --cases 1000000 [--db URL] [--repeat 3] [--rebuild]
    python cli.py db upgrade [--db URL]     bring the store's schema to the newest version
    python cli.py db current [--db URL]     show the store's schema version
    python cli.py appraisal publish --month YYYY-MM [--force] [--db URL]   freeze a month's 干部考核
    python cli.py appraisal export --month YYYY-MM --out FILE.xlsx [--db URL]

Exit codes: 0 done; 1 the command ran but its outcome is negative (``import --strict``
refused the file, a ``bench`` target was missed, ``db current``: an upgrade is needed);
2 a user error: bad arguments, an unreachable database, a file-level import problem, a
store whose schema is out of date (``kpi``, ``import``: run ``db upgrade`` first). Errors
are one line on stderr, never a traceback.
"""
from __future__ import annotations

import argparse
import getpass
import json
import sys
import time
from datetime import date, datetime
from pathlib import Path

from data.ingest.columns import TABLES
from data.store.db import get_engine, has_data, resolve_url
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

    if args.remove:
        return cmd_demo_remove(args)
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


def cmd_demo_remove(args) -> int:
    """``demo --remove``: delete exactly the demo's rows (origin 'demo') in one transaction,
    one line per table with the rows removed; imported rows are never touched."""
    import unicodedata

    from data.store.labels import TABLE_LABELS
    from data.store.office import remove_demo

    if args.force:
        raise CliError("参数错误 (bad arguments): --remove 不能与 --force 同时使用")
    engine = _engine(args)
    _require_current(engine)
    result = remove_demo(engine)

    def line(table: str, n: int) -> str:
        name = f"{table}（{TABLE_LABELS.get(table, table)}）"
        width = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in name)
        return name + " " * max(0, 36 - width) + f"{n:>10,}"

    for table, n in result.removed.items():
        print(line(table, n))
    print(line("import_log", result.log_rows))
    if result.total:
        print(f"已删除演示数据 {result.total:,} 行 (demo removed)；导入的数据未改动")
    else:
        print("数据库中没有演示数据 (no demo rows)；导入的数据未改动")
    for where, n in result.dangling.items():
        table, column = where.split(".")
        print(f"提示：{table}（{TABLE_LABELS.get(table, table)}）有 {n:,} 行的 {column} "
              f"引用了随演示数据删除的记录，请导入对应的社区、网格或干部")
    return 0


def cmd_init(args) -> int:
    """``init --name``: the office's name in the store, the store created or upgraded to the
    newest schema (a SQLite file backed up first), and the demo unless ``--no-demo`` (a
    store that holds data already is left as it is)."""
    from data.store import migrate
    from data.store.office import OfficeNameError, check_office_name, set_office_name

    try:
        name = check_office_name(args.name)
    except OfficeNameError as exc:
        raise CliError(f"街道名称无效：{exc}") from None
    engine = _engine(args)
    st = migrate.state(engine)
    try:
        if not st.empty and not st.current:
            done = migrate.upgrade_store(engine)
            if done:
                print(done.message())
        migrate.create(engine)
    except migrate.StoreNotReady as exc:
        raise CliError(str(exc)) from None
    had_data = has_data(engine)
    set_office_name(engine, name)
    print(f"街道名称：{name}")
    if args.no_demo:
        print("未生成演示数据 (--no-demo)")
    elif had_data:
        print("数据库中已有数据，保持不变 (store kept as it is)")
    else:
        from data.demo import generate

        def progress(fraction: float, message: str) -> None:
            print(f"\r[{fraction * 100:5.1f}%] {message:<30}", end="", file=sys.stderr,
                  flush=True)

        counts = generate(engine, progress=progress)
        print(file=sys.stderr)
        print(f"演示数据已生成 (demo generated)：{sum(counts.values()):,} 行；"
              f"删除演示数据：python cli.py demo --remove")
    print(f"数据库：{engine.url.render_as_string(hide_password=True)}，版本 {migrate.HEAD} (最新)")
    return 0


def _require_current(engine) -> None:
    """A store with an old schema is not read: the user is told the upgrade command."""
    from sqlalchemy.exc import SQLAlchemyError

    from data.store.migrate import StoreNotReady, require_current

    try:
        require_current(engine)
    except StoreNotReady as exc:
        raise CliError(str(exc)) from None
    except SQLAlchemyError as exc:
        raise CliError(f"无法连接数据库 (cannot open database) "
                       f"{engine.url.render_as_string(hide_password=True)}: "
                       f"{type(exc).__name__}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.splitlines()[0][:200] if text else ""


def cmd_kpi(args) -> int:
    engine = _engine(args)
    _require_current(engine)
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


def cmd_db(args) -> int:
    """``db upgrade`` and ``db current``: the store's schema version (data.store.migrate)."""
    from sqlalchemy.exc import SQLAlchemyError

    from data.store import migrate

    engine = _engine(args)
    where = engine.url.render_as_string(hide_password=True)
    try:
        st = migrate.state(engine)
        if args.action == "current":
            if st.current:
                print(f"当前版本 {st.revision} (最新)")
                return 0
            if st.empty:
                print(f"数据库为空，尚未建表（最新版本 {migrate.HEAD}）：运行 python cli.py demo "
                      f"或导入数据时自动建表")
                return 0
            if st.revision is not None and st.revision not in migrate.REVISIONS:
                raise CliError(f"当前版本 {st.revision}：不是本程序认识的版本（最新为 "
                               f"{migrate.HEAD}），请更新本程序")
            print(f"当前版本 {st.label()}，需要升级到 {migrate.HEAD}：运行 "
                  f"{migrate.upgrade_command(engine)}")
            return 1
        if st.current:
            print(f"当前版本 {st.revision} (最新)，无需升级")
            return 0
        if st.empty:
            migrate.upgrade(engine)
            print(f"已在空数据库中建表，当前版本 {migrate.HEAD} (最新)")
            return 0
        done = migrate.upgrade_store(engine)
    except migrate.StoreNotReady as exc:
        raise CliError(str(exc)) from None
    except SQLAlchemyError as exc:
        raise CliError(f"无法连接数据库 (cannot open database) {where}: {type(exc).__name__}: "
                       f"{_first_line(exc)}") from None
    print(done.message() + " (最新)" if done else f"当前版本 {migrate.HEAD} (最新)，无需升级")
    return 0


def cmd_bench(args) -> int:
    from metrics.bench import run_benches

    return run_benches(args)  # --cases (the default) and/or --incidents


def _month(text: str) -> str:
    """``--month 2024-10``: a month as 'YYYY-MM'."""
    try:
        value = datetime.strptime(text, "%Y-%m")
    except ValueError:
        raise argparse.ArgumentTypeError(f"月份格式应为 YYYY-MM: {text!r}") from None
    return f"{value:%Y-%m}"


def cmd_appraisal(args) -> int:
    """``appraisal publish``: freeze a finished month's cadre appraisal (考核评议) into the
    snapshot tables; ``appraisal export``: the month as an Excel workbook (the published
    snapshot when there is one, else the live figures)."""
    from metrics.appraisal_store import PublishError, month_view, publish

    engine = _engine(args)
    _require_current(engine)
    if not has_data(engine):
        raise CliError("数据库中没有数据, 请先运行 python cli.py demo (store is empty)")
    if args.action == "publish":
        try:
            view = publish(engine, args.month, by=getpass.getuser(), force=args.force)
        except PublishError as exc:
            raise CliError(str(exc)) from None
        print(f"已发布 {args.month} 干部考核: {len(view.rows)} 人, "
              f"考核时点 {view.as_of:%Y-%m-%d %H:%M:%S}")
        return 0
    from metrics.appraisal_export import workbook

    if not args.out:
        raise CliError("参数错误 (bad arguments): appraisal export 需要 --out FILE.xlsx")
    view = month_view(engine, args.month)
    data = workbook(view)
    try:
        Path(args.out).write_bytes(data)
    except OSError as exc:
        raise CliError(f"无法写入 {args.out}: {exc.strerror or exc}") from None
    print(f"已导出 {view.title()} ({len(view.rows)} 人) 到 {args.out}")
    return 0


def add_import_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "import", help="导入 CSV/XLSX/XLS 文件到数据表",
        description="导入数据文件（UTF-8/GBK 自动识别；中文或英文表头；其他表头用映射：未指定 --mapping 时，"
                    "自动使用表头相符的已保存映射或内置预设，并说明用了哪一个）。",
        epilog="退出码 (exit codes):\n"
               "  0  导入完成（部分行被拒绝时也是 0，拒绝行见输出或 --rejects）\n"
               "  1  --strict 发现无效行，整个文件未导入；或所有数据行均被拒绝，未导入任何数据\n"
               "  2  参数或文件错误：找不到文件或映射、缺少必需列、映射无效、库结构需升级（db upgrade）\n"
               "  3  数据库无法连接或使用\n"
               "  4  内部错误",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("table", choices=list(TABLES), metavar="TABLE",
                   help="目标表：" + "、".join(f"{k}（{v.zh}）" for k, v in TABLES.items()))
    p.add_argument("file", metavar="FILE", help="数据文件（.csv / .xlsx / .xls）")
    p.add_argument("--db", default=None, help="数据库 URL（默认按 ZHILI_DB_URL、secrets.toml、内置 SQLite）")
    p.add_argument("--mapping", default=None, metavar="NAME|FILE",
                   help="映射：已保存映射或内置预设的名称（如 12345热线工单、网格事件），或映射文件路径"
                        "（YAML：columns / constants / date_formats / values）")
    p.add_argument("--sheet", default=None, help="工作表名称（XLSX/XLS；默认第一个有数据的可见工作表）")
    p.add_argument("--create-missing", dest="create_missing", action="store_true",
                   help="自动新建文件中出现、库中没有的社区和网格（类型 社区，人口待补充），而不是拒绝这些行")
    p.add_argument("--strict", action="store_true", help="严格模式：有任何无效行则整个文件都不导入")
    p.add_argument("--rejects", default=None, help="把拒绝行写入此文件（.csv 或 .xlsx）")
    p.add_argument("--exported-at", dest="exported_at", default=None,
                   help="源数据导出时间 YYYY-MM-DDTHH:MM:SS（决定“数据截至”）")
    p.add_argument("--by", dest="imported_by", default=None, help="导入人（默认当前系统用户）")
    p.set_defaults(func=run_import)
    return p


def _fail(message: str) -> int:
    print(f"错误：{message}".replace("\n", " "), file=sys.stderr)
    return 2


def run_import(args) -> int:
    from data.store.db import get_engine
    from data.ingest.importer import (
        FileError, get_mapping, import_file, rejects_to_csv, rejects_to_xlsx,
    )
    from data.ingest.parsing import encoding_label

    path = Path(args.file)
    if not path.is_file():
        return _fail(f"找不到文件：{path}")
    try:
        engine = get_engine(args.db)
    except Exception as exc:  # noqa: BLE001
        return _fail(f"无法连接数据库：{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    by = getattr(args, "imported_by", None)
    if not by:
        try:
            by = getpass.getuser()
        except Exception:  # noqa: BLE001
            by = None
    mapping = args.mapping
    if mapping and not Path(mapping).is_file() and Path(mapping).suffix.lower() not in (".yaml", ".yml"):
        try:
            mapping = get_mapping(engine, mapping, args.table)   # a saved mapping or preset
        except FileError as exc:
            return _fail(str(exc))
    result = import_file(engine, args.table, path, path.name, mapping=mapping,
                         strict=args.strict, exported_at=args.exported_at, imported_by=by,
                         sheet=args.sheet, create_missing=args.create_missing,
                         auto_mapping=mapping is None)
    if result.error:
        return _fail(result.error)
    table_zh = TABLES[args.table].zh
    enc = f"，编码 {encoding_label(result.encoding)}" if result.encoding else ""
    print(f"文件：{path.name}（{(result.file_format or '').upper()}{enc}）→ 表 {args.table}（{table_zh}）")
    if not result.mapping_name and mapping is None:
        print("使用映射：无（表头均可直接识别，或没有表头相符的已保存映射/预设）")
    print(result.summary_zh())
    for line in result.report_lines():
        print(line)
    for w in result.warnings:
        print("提示：" + w)
    if result.rejects:
        shown = result.rejects[:20]
        print(f"无效数据（{len(result.rejects)} 条问题，涉及 {result.rejected} 行）：")
        for r in shown:
            print(f"  第 {r.row} 行 [{r.column}] 「{r.value}」：{r.reason}")
        if len(result.rejects) > len(shown):
            print(f"  ……其余 {len(result.rejects) - len(shown)} 条见拒绝行文件")
    if args.rejects:
        out = Path(args.rejects)
        try:
            data = rejects_to_xlsx(result.rejects) if out.suffix.lower() == ".xlsx" else rejects_to_csv(result.rejects)
            out.write_bytes(data)
            print(f"拒绝行已写入：{out}")
        except OSError as exc:
            print(f"警告：无法写入拒绝行文件 {out}：{exc.strerror}", file=sys.stderr)
    return 0 if result.committed and not result.all_rejected else 1


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cli.py", description="智理 Zhili command line")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    demo = sub.add_parser("demo", help="生成演示数据 (build the demo store)")
    demo.add_argument("--db", help="database URL (default: ZHILI_DB_URL, secrets, SQLite)")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--scale", type=float, default=1.0)
    demo.add_argument("--until", type=_date, help="last day of data (default: today)")
    demo.add_argument("--force", action="store_true", help="replace an existing store")
    demo.add_argument("--remove", action="store_true",
                      help="删除演示数据，保留导入的数据 (delete the demo's rows only)")
    demo.set_defaults(func=cmd_demo)

    init = sub.add_parser("init", help="设置街道名称并建库 (name the office, set up the store)")
    init.add_argument("--name", required=True, help="街道名称，如 某某街道（2–30 个字符）")
    init.add_argument("--no-demo", dest="no_demo", action="store_true",
                      help="不生成演示数据 (no demo rows)")
    init.add_argument("--db", help="database URL (default: ZHILI_DB_URL, secrets, SQLite)")
    init.set_defaults(func=cmd_init)

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
    bench.add_argument("--cases", type=int, help="cases in the store (default 1000000 "
                       "unless only --incidents is given)")
    bench.add_argument("--incidents", type=int, help="benchmark incidents.* (CompStat "
                       "included) on a store of this many incidents, e.g. 1000000")
    bench.add_argument("--repeat", type=int, default=3, help="cold runs (the median is shown)")
    bench.add_argument("--rebuild", action="store_true", help="build the store even if it exists")
    bench.set_defaults(func=cmd_bench)

    add_import_parser(sub)

    db = sub.add_parser("db", help="数据库结构版本 (store schema version)")
    db.add_argument("action", choices=("upgrade", "current"),
                    help="upgrade: 升级到最新版本 (SQLite 先备份); current: 显示当前版本")
    db.add_argument("--db", help="database URL (default: ZHILI_DB_URL, secrets, SQLite)")
    db.set_defaults(func=cmd_db)

    appraisal = sub.add_parser("appraisal", help="干部考核: 发布与导出 (cadre appraisal)")
    appraisal.add_argument("action", choices=("publish", "export"),
                           help="publish: 发布(冻结)该月考核结果; export: 导出 Excel")
    appraisal.add_argument("--month", type=_month, required=True, metavar="YYYY-MM")
    appraisal.add_argument("--out", metavar="FILE.xlsx", help="export: 输出文件")
    appraisal.add_argument("--force", action="store_true",
                           help="publish: 重新发布已发布的月份(替换原快照)")
    appraisal.add_argument("--db", help="database URL (default: ZHILI_DB_URL, secrets, SQLite)")
    appraisal.set_defaults(func=cmd_appraisal)
    return parser


def main(argv: list[str] | None = None) -> int:
    from metrics.settings import SettingsError  # a bad settings file is a user error too

    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except (CliError, SettingsError) as exc:
        print(exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
