"""Zhili's command line: build the demo store, print KPIs, import files, benchmark.

    python cli.py init --name 某某街道 [--no-demo] [--db URL]   the office's name, the store
    python cli.py demo [--db URL] [--seed N] [--scale X] [--until YYYY-MM-DD] [--force]
    python cli.py demo --remove [--db URL]   delete the demo's rows, keep imported ones
    python cli.py kpi --start YYYY-MM-DD --end YYYY-MM-DD [--as-of ...] [--community NAME ...]
                      [--by community|grid|category|channel|month|form]
                      [--only cases,petitions,incidents] [--format json|table]
    python cli.py import TABLE FILE [--db URL] [--mapping NAME|M.yaml] [--sheet S] [--create-missing]
                         [--strict] [--rejects R.csv]
    python cli.py bench --cases 1000000 [--db URL] [--repeat 3] [--rebuild]
    python cli.py bench --cadres 2000 [--db URL] [--repeat 3] [--rebuild]   (or --incidents N)
    python cli.py bench --recipients 50000 [--db URL] [--repeat 3] [--rebuild]
    python cli.py db upgrade [--db URL]     bring the store's schema to the newest version
    python cli.py db current [--db URL]     show the store's schema version
    python cli.py appraisal publish --month YYYY-MM [--force] [--db URL]   freeze a month's 干部考核
    python cli.py appraisal export --month YYYY-MM --out FILE.xlsx [--db URL]
    python cli.py report --month YYYY-MM [--community NAME ...] --out FILE.docx|FILE.pdf [--db URL]
    python cli.py user add NAME --role ROLE [--community C] [--password-stdin] [--db URL]
    python cli.py user list | user disable NAME | user passwd NAME [--password-stdin]
    python cli.py audit [--limit 50] [--action login|import|export|...] [--db URL]

Dates (``--start``, ``--end``, ``--as-of``, ``demo --until``) must lie in 1900-01-01 ..
2100-12-31; an ``--as-of`` with a UTC offset is converted to Asia/Shanghai wall time.
Only ``init``, ``demo``, ``import``, ``db upgrade`` (and ``bench``) may create a store:
``kpi``, ``db current`` and ``demo --remove`` never create a SQLite file or its folder.

Exit codes (every error is one line on stderr, never a traceback):

    0    done
    1    the command ran but its outcome is negative: ``import --strict`` refused the
         file, a ``bench`` target was missed, ``db current``: an upgrade is needed,
         ``user disable``: the user was disabled already
    2    a user error: bad arguments (dates, an unknown community or domain, a malformed
         database URL), a bad settings file, a file-level import problem, an empty store,
         a store whose schema is out of date (``kpi``, ``import``: run ``db upgrade``) or
         newer than this program; ``user``: an unknown role or user, a name taken, a
         password too short or the two entries differing
    3    the database cannot be opened or used: server unreachable or login refused, a
         file that is not a SQLite database, a SQLite file or folder that does not exist
         (``kpi``, ``db current``), the connection lost during the command
    4    internal error (a bug): ``内部错误: <type>: <message>``; run again with
         ``ZHILI_DEBUG=1`` to see the traceback
    130  interrupted (Ctrl-C)
    141  the reader of the output went away (``python cli.py kpi ... | head -1``): the
         rest of the output is dropped quietly, as a process killed by SIGPIPE would be
"""
from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
import unicodedata
from datetime import date, datetime
from pathlib import Path

from data.ingest.columns import TABLES
from data.store.db import StoreMissing, get_engine, has_data, require_existing, resolve_url
from metrics.context import make_query
from metrics.domains import DOMAINS
from metrics.formatting import NULL, fmt_kpi
from metrics.period import Period, PeriodError
from metrics.registry import REGISTRY
from metrics.report import BREAKDOWNS, kpi_report

EXIT_OK = 0
EXIT_NEGATIVE = 1      # import --strict refused, bench target missed, db current: upgrade
EXIT_USAGE = 2         # a user error
EXIT_DATABASE = 3      # the database cannot be opened or used
EXIT_INTERNAL = 4      # a bug (ZHILI_DEBUG=1 re-raises it)
EXIT_INTERRUPTED = 130
EXIT_PIPE = 141        # 128 + SIGPIPE: stdout's reader went away
EXIT_CODES = frozenset({EXIT_OK, EXIT_NEGATIVE, EXIT_USAGE, EXIT_DATABASE, EXIT_INTERNAL,
                        EXIT_INTERRUPTED, EXIT_PIPE})

# The dates the period arithmetic (环比, 同比, CompStat's 364 days, YTD) and every
# database's DATETIME range (MariaDB: from year 1000) can hold with room to spare.
DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(2100, 12, 31)
DEBUG_ENV = "ZHILI_DEBUG"
APP_URL_ENV = "ZHILI_APP_URL"   # the dashboard's address, for the screen link user add prints


class CliError(Exception):
    """A user mistake: printed as one line, exit code 2 (or ``code``)."""

    code = EXIT_USAGE


class DatabaseUnavailable(CliError):
    """The database cannot be opened or used: one line, exit code 3."""

    code = EXIT_DATABASE


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse would print usage and exit 2 itself
        raise CliError(f"参数错误 (bad arguments): {message}")


def _in_range(d: date, text: str) -> None:
    if not DATE_MIN <= d <= DATE_MAX:
        raise argparse.ArgumentTypeError(
            f"日期超出支持范围 {DATE_MIN} 至 {DATE_MAX}: {text!r}")


def _date(text: str) -> date:
    try:
        value = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期格式应为 YYYY-MM-DD: {text!r}") from None
    _in_range(value, text)
    return value


def _datetime(text: str) -> datetime:
    from data.store.clock import to_local

    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"时间格式应为 YYYY-MM-DDTHH:MM:SS: {text!r}") from None
    try:
        value = to_local(value)        # an offset becomes Asia/Shanghai wall time
    except (OverflowError, ValueError):
        raise argparse.ArgumentTypeError(
            f"日期超出支持范围 {DATE_MIN} 至 {DATE_MAX}: {text!r}") from None
    _in_range(value.date(), text)
    return value


def _domains(text: str) -> tuple[str, ...]:
    """``--only cases,incidents``: names of metrics.domains.DOMAINS, in the given order."""
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    valid = "、".join(DOMAINS)
    if not names:
        raise argparse.ArgumentTypeError(f"至少给出一个指标领域，可选: {valid}")
    unknown = [n for n in names if n not in DOMAINS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"未知的指标领域 {'、'.join(map(repr, unknown))}，可选: {valid}")
    return names


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    lines = text.strip().splitlines()
    return lines[0][:200] if lines else ""


def _shown(url: str) -> str:
    """The URL as it may be printed (password hidden)."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - unparseable: not echoed (it may hold a password)
        return "(无效的 URL)"


def _engine(args, *, create: bool = False):
    """The engine of ``--db``. ``create=False`` (readers): a SQLite file that does not
    exist is refused (exit 3) instead of being created empty. A malformed URL or an
    unknown driver is a user error (exit 2); nothing is connected yet."""
    from sqlalchemy.engine import make_url

    try:
        url = resolve_url(args.db)
    except Exception as exc:  # noqa: BLE001 - e.g. a broken .streamlit/secrets.toml
        raise CliError(f"无法读取数据库设置 (.streamlit/secrets.toml): {type(exc).__name__}: "
                       f"{_first_line(exc)}") from None
    try:
        make_url(url)
    except Exception:  # noqa: BLE001 - ArgumentError, ValueError (bad port)
        raise CliError("数据库 URL 无效 (bad database URL)：应为 postgresql://用户@主机/库、"
                       "mysql://用户@主机/库 或 sqlite:///文件路径") from None
    if not create:
        try:
            require_existing(url)
        except StoreMissing as exc:
            raise DatabaseUnavailable(str(exc)) from None
    try:
        return get_engine(url)
    except Exception as exc:  # noqa: BLE001 - unknown dialect, driver not installed
        raise CliError(f"无法打开数据库 (cannot open database) {_shown(url)}: "
                       f"{type(exc).__name__}: {_first_line(exc)}") from None


def _unreachable(engine, exc: BaseException) -> DatabaseUnavailable:
    where = engine.url.render_as_string(hide_password=True)
    return DatabaseUnavailable(f"无法连接数据库 (cannot open database) {where}: "
                               f"{type(exc).__name__}: {_first_line(exc)}")


def cmd_demo(args) -> int:
    from data.demo import DemoExistsError, generate

    if args.remove:
        return cmd_demo_remove(args)
    engine = _engine(args, create=True)
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
    engine = _engine(args, create=True)
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
    """Connect, and refuse a store with an old schema (the user is told the upgrade
    command, exit 2). A database that cannot be opened or read is exit 3."""
    from data.store.migrate import StoreNotReady, require_current

    try:
        require_current(engine)
    except StoreNotReady as exc:
        raise CliError(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - refused, unknown host, not a database
        raise _unreachable(engine, exc) from None


def _check_communities(engine, names) -> None:
    """Every ``--community`` must be in the communities table (else the figures would be
    zeros for a mistyped name)."""
    from sqlalchemy import select

    from data.store.schema import communities

    if not names:
        return
    with engine.connect() as conn:
        known = set(conn.execute(select(communities.c.name)).scalars())
    unknown = [n for n in dict.fromkeys(names) if n not in known]
    if unknown:
        listed = sorted(known)
        shown = "、".join(listed[:12]) + (f" 等 {len(listed)} 个" if len(listed) > 12 else "")
        raise CliError(f"未知社区 (unknown community): {'、'.join(map(repr, unknown))}；"
                       f"数据库中的社区: {shown or '无'}")


def cmd_kpi(args) -> int:
    try:
        period = Period(args.start, args.end)
    except PeriodError as exc:
        raise CliError(str(exc)) from None
    engine, scope = _store_and_scope(args)
    q = make_query(engine, period, scope=scope, as_of=args.as_of)
    report = kpi_report(engine, q, by=args.by, only=args.only)
    if args.format == "json":
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(_table(report, period, q.scope))
    return 0


# ---------------------------------------------------------------------------------------
# kpi --format table

def _width(text: str) -> int:
    """Columns on a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _label(key: str) -> str:
    kpi = REGISTRY.get(key)
    return kpi.label if kpi else key


def _value(key: str, value) -> str:
    try:
        return fmt_kpi(key, value)
    except Exception:  # noqa: BLE001 - a key or shape the registry does not know
        return NULL if value is None else str(value)


def _compstat_cell(cell) -> str:
    """``3/2 +50.0% z=0.64 平稳``: current/prior count, relative change, z, trend word."""
    if not isinstance(cell, dict):
        return NULL if cell is None else str(cell)
    change = cell.get("change")
    z = cell.get("z")
    return " ".join([
        f"{cell.get('cur', NULL)}/{cell.get('prior', NULL)}",
        NULL if change is None else f"{change * 100:+.1f}%",
        f"z={NULL if z is None else format(z, '.2f')}",
        str(cell.get("flag") or NULL),
    ])


def _grid_lines(table: dict) -> list[str]:
    """A dict of dicts as a small table: outer keys down, inner keys across. CompStat
    (category -> wtd/d28/ytd -> cell) gets its window names, 合计 and a legend."""
    from metrics.incidents import TOTAL, WINDOWS

    names = {"wtd": "本周累计", "d28": "近28天", "ytd": "本年累计"}
    columns: list = []
    for row in table.values():
        columns += [c for c in row if c not in columns]
    compstat = set(columns) <= set(WINDOWS)
    if compstat:
        columns = [w for w in WINDOWS if w in columns]
    rows = [[("合计" if compstat and cat == TOTAL else str(cat)),
             *(_compstat_cell(row.get(c)) for c in columns)] for cat, row in table.items()]
    header = ["类别" if compstat else "", *(str(names.get(c, c)) for c in columns)]
    widths = [max(_width(r[i]) for r in [header, *rows]) + 2 for i in range(len(header))]
    lines = ["    " + "".join(_pad(c, w) for c, w in zip(r, widths)).rstrip()
             for r in [header, *rows]]
    if compstat:
        lines.append("    (每格: 当前数/对比数 相对变化 z=泊松检验值 判定)")
    return lines


def _nested_lines(value) -> list[str]:
    """A KPI whose value is not a number: a dict of dicts (CompStat) as a grid, a dict of
    numbers (a distribution) as name/value rows, anything else as one line of JSON."""
    if isinstance(value, dict) and value and all(isinstance(r, dict) for r in value.values()):
        return _grid_lines(value)
    if isinstance(value, dict) and all(not isinstance(v, (dict, list)) for v in value.values()):
        width = max((_width(str(k)) for k in value), default=0) + 2
        return [f"    {_pad(str(k), width)}{NULL if v is None else v}" for k, v in value.items()]
    return ["    " + json.dumps(value, ensure_ascii=False, default=str)]


def _kpi_lines(values: dict, indent: str = "") -> list[str]:
    """One line per KPI: label, value right-aligned, key; a nested value (CompStat, a
    distribution) follows its line as a small table."""
    lines = []
    for key, value in values.items():
        nested = isinstance(value, (dict, list))
        text = "见下表" if nested else _value(key, value)
        lines.append(f"{indent}{_pad(_label(key), 22)}{' ' * max(0, 16 - _width(text))}{text}"
                     f"   {key}")
        if nested:
            try:
                lines += [indent + line for line in _nested_lines(value)]
            except Exception:  # noqa: BLE001 - an unexpected shape: shown as it is
                lines.append(f"{indent}    {json.dumps(value, ensure_ascii=False, default=str)}")
    return lines


def _table(report: dict, period: Period, scope) -> str:
    lines = [f"统计期 {period.label()}  数据截至 {report['as_of']}  "
             f"范围 {'、'.join(scope) or '全部社区'}"]
    lines += _kpi_lines(report["kpis"])
    for group, values in report.get("groups", {}).items():
        lines += ["", f"[{group}]", *_kpi_lines(values, indent="  ")]
    return "\n".join(lines)


def cmd_db(args) -> int:
    """``db upgrade`` and ``db current``: the store's schema version (data.store.migrate)."""
    from sqlalchemy.exc import SQLAlchemyError

    from data.store import migrate

    engine = _engine(args, create=args.action == "upgrade")
    try:
        st = migrate.state(engine)
    except Exception as exc:  # noqa: BLE001 - refused, unknown host, not a database
        raise _unreachable(engine, exc) from None
    try:
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
        raise _unreachable(engine, exc) from None
    print(done.message() + " (最新)" if done else f"当前版本 {migrate.HEAD} (最新)，无需升级")
    return 0


def cmd_bench(args) -> int:
    from metrics.bench import run_benches

    return run_benches(args)  # --cases (the default), --incidents, --cadres, --recipients


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
            view = publish(engine, args.month, by=_actor(), force=args.force)
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
    from data.store import audit

    audit.record(engine, _actor(), "export", f"考核评议 {args.month} Excel({len(view.rows)} 人): "
                                             f"{args.out}")
    print(f"已导出 {view.title()} ({len(view.rows)} 人) 到 {args.out}")
    return 0


def _store_and_scope(args):
    """The store named by ``--db`` (current schema, not empty) and the ``--community``
    scope, each community checked against it."""
    engine = _engine(args)
    _require_current(engine)
    if not has_data(engine):
        raise CliError("数据库中没有数据, 请先运行 python cli.py demo (store is empty)")
    scope = tuple(dict.fromkeys(args.community or ()))
    _check_communities(engine, scope)
    return engine, scope


def cmd_report(args) -> int:
    """``report``: the month's 月度报告 as Word or PDF (metrics.monthly): the same figures
    as the pages and ``kpi`` for that month, judged at the store's 数据截至."""
    from metrics.monthly import FORMATS, ReportError, build_report, render
    from metrics.monthly.fonts import FontMissing

    fmt = Path(args.out).suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise CliError(f"参数错误 (bad arguments): --out 应以 .docx 或 .pdf 结尾: {args.out}")
    engine, scope = _store_and_scope(args)
    try:
        report = build_report(engine, args.month, scope, as_of=args.as_of)
        data = render(report, fmt)
    except (ReportError, FontMissing) as exc:
        raise CliError(str(exc)) from None
    try:
        Path(args.out).write_bytes(data)
    except OSError as exc:
        raise CliError(f"无法写入 {args.out}: {exc.strerror or exc}") from None
    from data.store import audit

    audit.record(engine, _actor(), "export", f"月度报告 {args.month}"
                 + (f"（{'、'.join(scope)}）" if scope else "") + f": {args.out}")
    print(f"已生成 {report.title}（{fmt.upper()}，{len(report.sections)} 个部分，"
          f"数据截至 {report.as_of:%Y-%m-%d %H:%M}）: {args.out}")
    return 0


def _actor() -> str:
    """Who the audit trail names for a command: the system user at the terminal."""
    try:
        return f"命令行({getpass.getuser()})"
    except Exception:  # noqa: BLE001 - no user name in this environment
        return "命令行"


def _password(args, name: str) -> str:
    """A password from stdin (``--password-stdin``: its first line) or typed twice."""
    if args.password_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise CliError("标准输入中没有密码 (--password-stdin)")
        return password
    try:
        first = getpass.getpass(f"{name} 的密码: ")
        second = getpass.getpass("再输入一次: ")
    except EOFError:
        raise CliError("没有读到密码; 非交互使用请加 --password-stdin") from None
    if first != second:
        raise CliError("两次输入的密码不一致")
    return first


def _store_for_users(args):
    engine = _engine(args)
    _require_current(engine)
    return engine


def cmd_user(args) -> int:
    """``user add|list|disable|passwd``: who may log in (data.store.users); every change
    goes to the audit trail."""
    from data.store import users

    engine = _store_for_users(args)
    try:
        if args.action == "list":
            rows = users.listing(engine)
            if not rows:
                print("没有用户: 未启用登录 (login is off); 添加: python cli.py user add NAME --role leader")
                return EXIT_OK
            from data.store import clock

            now = clock.now()
            for u in rows:
                state = "已停用" if u.disabled else (
                    f"锁定至 {u.locked_until:%Y-%m-%d %H:%M:%S}"
                    if u.locked_until and u.locked_until > now else "正常")
                print(f"{_pad(u.name, 16)}{_pad(u.role, 11)}{_pad(u.community or '-', 14)}{state}")
            return EXIT_OK
        if not args.name:
            raise CliError(f"参数错误 (bad arguments): user {args.action} 需要用户名")
        if args.action == "add":
            if not args.role:
                raise CliError("参数错误 (bad arguments): user add 需要 --role "
                               + "|".join(users.ROLES))
            users.check_new(engine, args.name, args.role, args.community)
            password = None if args.role == "screen" else _password(args, args.name)
            token = users.add(engine, args.name, args.role, args.community, password,
                              by=_actor())
            print(f"已添加用户 {args.name} ({args.role}"
                  + (f", {args.community}" if args.community else "") + ")")
            if token:
                print("大屏链接 (只显示这一次, 请妥善保存; 凭此链接无需登录即可查看大屏):")
                base = os.environ.get(APP_URL_ENV, "http://localhost:8501").rstrip("/")
                print(f"  {base}/bigscreen?token={token}")
            return EXIT_OK
        if args.action == "disable":
            if users.disable(engine, args.name, by=_actor()):
                print(f"已停用用户 {args.name}")
                return EXIT_OK
            print(f"用户 {args.name} 已是停用状态")
            return EXIT_NEGATIVE
        if users.get(engine, args.name) is None:
            raise users.UserError(f"没有用户「{args.name}」")
        users.set_password(engine, args.name, _password(args, args.name), by=_actor())
        print(f"已修改用户 {args.name} 的密码 (锁定已解除)")
        return EXIT_OK
    except users.UserError as exc:
        raise CliError(str(exc)) from None


def cmd_audit(args) -> int:
    """``audit``: the newest rows of the audit trail, newest first."""
    from data.store import audit

    engine = _store_for_users(args)
    if args.limit < 1:
        raise CliError("参数错误 (bad arguments): --limit 应为正整数")
    entries = audit.recent(engine, limit=args.limit, action=args.action)
    if not entries:
        print("没有操作记录" + (f" (操作 {args.action})" if args.action else ""))
        return EXIT_OK
    for e in entries:
        print(f"{e.at:%Y-%m-%d %H:%M:%S}  {_pad(e.actor, 18)}{_pad(e.label, 14)}{e.detail}")
    return EXIT_OK


def add_import_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "import", help="导入 CSV/XLSX/XLS 文件到数据表",
        description="导入数据文件（UTF-8/GBK 自动识别；中文或英文表头；其他表头用映射：未指定 --mapping 时，"
                    "自动使用表头相符的已保存映射或内置预设，并说明用了哪一个）。",
        epilog="退出码 (exit codes):\n"
               "  0  导入完成（部分行被拒绝时也是 0，拒绝行见输出或 --rejects）\n"
               "  1  --strict 发现无效行，整个文件未导入；或所有数据行（边界：所有要素）均被拒绝，未导入任何数据\n"
               "  2  参数或文件错误：找不到文件或映射、缺少必需列、映射无效、库结构需升级（db upgrade）\n"
               "  3  数据库无法连接或使用\n"
               "  4  内部错误",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("table", choices=[*TABLES, "boundaries"], metavar="TABLE",
                   help="目标表：" + "、".join(f"{k}（{v.zh}）" for k, v in TABLES.items())
                        + "、boundaries（社区边界，GeoJSON 文件）")
    p.add_argument("file", metavar="FILE", help="数据文件（.csv / .xlsx / .xls；社区边界为 .geojson）")
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
    from sqlalchemy import inspect

    from data.ingest.importer import (
        FileError, get_mapping, import_file, rejects_to_csv, rejects_to_xlsx,
    )
    from data.ingest.parsing import encoding_label

    path = Path(args.file)
    if not path.is_file():
        return _fail(f"找不到文件：{path}")
    engine = _engine(args, create=True)
    try:
        inspect(engine).get_table_names()   # connect now: unreachable is exit 3, not 2
    except Exception as exc:  # noqa: BLE001 - refused, unknown host, not a database
        raise _unreachable(engine, exc) from None
    by = getattr(args, "imported_by", None)
    if not by:
        try:
            by = getpass.getuser()
        except Exception:  # noqa: BLE001
            by = None
    mapping = args.mapping
    if args.table == "boundaries":
        return _import_boundaries(engine, path)
    if mapping and not Path(mapping).is_file() and Path(mapping).suffix.lower() not in (".yaml", ".yml"):
        try:
            mapping = get_mapping(engine, mapping, args.table)   # a saved mapping or preset
        except FileError as exc:
            return _fail(str(exc))
    result = import_file(engine, args.table, path, path.name, mapping=mapping,
                         strict=args.strict, exported_at=args.exported_at, imported_by=by,
                         sheet=args.sheet, create_missing=args.create_missing,
                         auto_mapping=mapping is None)
    from data.store import audit

    audit.record(engine, _actor(), "import", audit.import_detail(args.table, path.name, result,
                                                                  "命令行"))
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
        except OSError as exc:
            print(f"警告：无法写入拒绝行文件 {out}：{exc.strerror}", file=sys.stderr)
        else:
            print(f"拒绝行已写入：{out}")
            audit.record(engine, _actor(), "export", f"拒绝行 {out}({result.rejected} 行)")
    return 0 if result.committed and not result.all_rejected else 1


def _import_boundaries(engine, path: Path) -> int:
    """Community outlines from a GeoJSON file: accepted features replace those communities'
    outlines, rejected ones are listed with the reason; a file that is not usable is exit 2."""
    from sqlalchemy import inspect

    from data.ingest.boundaries import GeoJsonError, import_geojson
    from data.store.db import create_schema

    if inspect(engine).has_table("import_log"):
        _require_current(engine)
    else:
        create_schema(engine)
    try:
        result = import_geojson(engine, path)
    except GeoJsonError as exc:
        return _fail(f"{path.name}：{exc}")
    print(f"文件：{path.name} → 社区边界：导入 {len(result.stored)} 个社区，拒绝 {len(result.rejected)} 个要素")
    if result.stored:
        print("已导入：" + "、".join(result.stored))
    for number, name, reason in result.rejected:
        print(f"  第 {number} 个要素「{name or '—'}」：{reason}")
    return 0 if result.stored else 1


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
    kpi.add_argument("--by", choices=BREAKDOWNS, help="分组: " + "|".join(BREAKDOWNS))
    kpi.add_argument("--only", type=_domains, metavar="DOMAIN[,DOMAIN]",
                     help="只算这些领域 (default: all): " + ",".join(DOMAINS))
    kpi.add_argument("--format", choices=("json", "table"), default="json")
    kpi.set_defaults(func=cmd_kpi)

    bench = sub.add_parser("bench", help="城市规模性能测试 (city-scale benchmark)")
    bench.add_argument("--db")
    bench.add_argument("--cases", type=int, help="cases in the store (default 1000000 "
                       "unless only --incidents is given)")
    bench.add_argument("--incidents", type=int, help="benchmark incidents.* (CompStat "
                       "included) on a store of this many incidents, e.g. 1000000")
    bench.add_argument("--cadres", type=int, help="benchmark the cadre figures (attendance, "
                       "work logs with suspect logs, appraisal) for a month of N cadres, e.g. 2000")
    bench.add_argument("--recipients", type=int, help="benchmark benefits.* (kpi --only "
                       "benefits --by community for a year) on N recipients with five years "
                       "of payments, e.g. 50000")
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

    report = sub.add_parser("report", help="月度报告 Word/PDF (the monthly report)")
    report.add_argument("--month", type=_month, required=True, metavar="YYYY-MM")
    report.add_argument("--out", required=True, metavar="FILE.docx|FILE.pdf",
                        help="输出文件：.docx（Word）或 .pdf")
    report.add_argument("--community", nargs="+", metavar="NAME", help="只含这些社区")
    report.add_argument("--as-of", type=_datetime, dest="as_of",
                        help="判断时点（默认：数据截至）")
    report.add_argument("--db", help="database URL (default: ZHILI_DB_URL, secrets, SQLite)")
    report.set_defaults(func=cmd_report)

    user = sub.add_parser("user", help="用户与角色 (users who may log in)",
                          description="用户: add 新增, list 列出, disable 停用, passwd 改密码。"
                                      "角色: leader 领导, community 社区(需 --community), "
                                      "reviewer 考核, admin 管理员, screen 大屏(打印带令牌的链接)。")
    user.add_argument("action", choices=("add", "list", "disable", "passwd"))
    user.add_argument("name", nargs="?", metavar="NAME")
    user.add_argument("--role", help="leader|community|reviewer|admin|screen")
    user.add_argument("--community", help="community 角色: 所属社区")
    user.add_argument("--password-stdin", dest="password_stdin", action="store_true",
                      help="从标准输入读取密码(第一行), 不提示")
    user.add_argument("--db", help="database URL (default: ZHILI_DB_URL, secrets, SQLite)")
    user.set_defaults(func=cmd_user)

    aud = sub.add_parser("audit", help="操作记录 (the audit trail)")
    aud.add_argument("--limit", type=int, default=50, help="最多显示多少条 (default 50)")
    aud.add_argument("--action", help="只看某种操作: login, login.fail, import, export, "
                                      "appraisal.publish, user ...")
    aud.add_argument("--db", help="database URL (default: ZHILI_DB_URL, secrets, SQLite)")
    aud.set_defaults(func=cmd_audit)
    return parser


def _say(message) -> None:
    """One line on stderr, whatever the message holds (newlines, undecodable bytes)."""
    text = " ".join(str(message).splitlines())
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    print(text, file=sys.stderr)


def _quiet_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the interpreter's last flush
    does not fail again (https://docs.python.org/3/library/signal.html#note-on-sigpipe)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (tests capture it)
        pass


def _database_error(exc: BaseException) -> bool:
    """The database failed under a running command (connection lost, server gone)."""
    from sqlalchemy import exc as sa

    return isinstance(exc, (sa.OperationalError, sa.InterfaceError)) or \
        type(exc) is sa.DatabaseError


def _run(argv: list[str] | None) -> int:
    from metrics.settings import SettingsError  # a bad settings file is a user error too

    try:
        args = build_parser().parse_args(argv)
        code = args.func(args)
        sys.stdout.flush()   # a closed pipe shows here, not at interpreter exit
        return code
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_PIPE
    except SystemExit as exc:  # --help (0), or a command that exits itself
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        _say(exc.code)
        return EXIT_USAGE
    except KeyboardInterrupt:
        _say("已中断 (interrupted)")
        return EXIT_INTERRUPTED
    except CliError as exc:
        _say(exc)
        return exc.code
    except SettingsError as exc:
        _say(exc)
        return EXIT_USAGE
    except Exception as exc:  # noqa: BLE001 - the safety net: one line, never a traceback
        if os.environ.get(DEBUG_ENV) == "1":
            raise
        if _database_error(exc):
            _say(f"数据库错误 (database error): {type(exc).__name__}: {_first_line(exc)}")
            return EXIT_DATABASE
        _say(f"内部错误: {type(exc).__name__}: {_first_line(exc)}"
             f"（设置 {DEBUG_ENV}=1 可显示详细信息）")
        return EXIT_INTERNAL


def main(argv: list[str] | None = None) -> int:
    """Run one command; the exit code is one of EXIT_CODES (see the module docstring)."""
    try:
        return _run(argv)
    except BrokenPipeError:  # stderr's reader went away too
        _quiet_stdout()
        return EXIT_PIPE


if __name__ == "__main__":
    sys.exit(main())
