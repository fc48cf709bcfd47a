"""The ``import`` subcommand of cli.py.

    python cli.py import TABLE FILE [--db URL] [--mapping MAPPING.yaml] [--strict]
                         [--rejects REJECTS.csv|.xlsx] [--exported-at YYYY-MM-DDTHH:MM:SS]

Wire-up in cli.py::

    from data.import_cli import add_import_parser, run_import
    add_import_parser(subparsers)          # sets func=run_import on the subparser
    ...
    return args.func(args)                 # or: if args.command == "import": return run_import(args)

Exit codes: 0 imported (possibly with rejected rows), 1 strict mode refused the file,
2 file-level error (one line on stderr).
"""
from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from data.columns import TABLES


def add_import_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "import", help="导入 CSV/XLSX/XLS 文件到数据表",
        description="导入数据文件（UTF-8/GBK 自动识别；中文或英文表头；其他表头用映射文件）。")
    p.add_argument("table", choices=list(TABLES), metavar="TABLE",
                   help="目标表：" + "、".join(f"{k}（{v.zh}）" for k, v in TABLES.items()))
    p.add_argument("file", metavar="FILE", help="数据文件（.csv / .xlsx / .xls）")
    p.add_argument("--db", default=None, help="数据库 URL（默认按 ZHILI_DB_URL、secrets.toml、内置 SQLite）")
    p.add_argument("--mapping", default=None, help="映射文件（YAML：columns / constants / date_formats / values）")
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
    from data.db import get_engine
    from data.importer import import_file, rejects_to_csv, rejects_to_xlsx
    from data.parsing import encoding_label

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
    result = import_file(engine, args.table, path, path.name, mapping=args.mapping,
                         strict=args.strict, exported_at=args.exported_at, imported_by=by)
    if result.error:
        return _fail(result.error)
    table_zh = TABLES[args.table].zh
    enc = f"，编码 {encoding_label(result.encoding)}" if result.encoding else ""
    print(f"文件：{path.name}（{(result.file_format or '').upper()}{enc}）→ 表 {args.table}（{table_zh}）")
    print(result.summary_zh())
    if result.column_mapping:
        print("列对应：" + "，".join(f"{k}→{v}" for k, v in result.column_mapping.items()))
    if result.ignored_columns:
        print("已忽略的未知列：" + "、".join(result.ignored_columns))
    if result.dropped_columns:
        print("已丢弃的个人信息列（不保存）：" + "、".join(result.dropped_columns))
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
    return 0 if result.committed else 1


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (``python -m data.import_cli import TABLE FILE``) until cli.py wires it."""
    parser = argparse.ArgumentParser(prog="zhili")
    sub = parser.add_subparsers(dest="command", required=True)
    add_import_parser(sub)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
