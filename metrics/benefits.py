"""民生保障 (``benefits.*`` of KPI.md): the benefits domain's declaration to the engine.

Figures come from whichever source the store has for a community, program and month: the
recipient lists (``benefit_recipients`` spells, ``benefit_payments``, ``relief_grants``)
or the monthly statistics (``benefit_monthly``); where both exist the list wins (the
engine's precedence between sources, ``metrics.engine.union``). Each source is a part
declared below; every count is split by program into the keys of KPI.md
(``benefits.urban_dibao.persons``), the program list and its codes coming from the closed
list (``data.ingest.columns.PROGRAM_CODES``).

- persons and households are *stocks*: recipients active in the reference month (the month
  of the period's end, or of as_of if earlier); households are the distinct
  ``household_id`` (a recipient without one is a household of its own) per community,
  program and month, added up over communities. By month, each month's own.
- new / exited: recipients whose start_month / end_month falls in the period (up to the
  month of as_of); from monthly statistics the given figures, null where a row has none.
- spending: payments for months in the period (a payment outside the spell included: the
  money was paid; the exceptions list shows it), kept in fen so sums are exact;
  avg_monthly_per_person: spending ÷ person-months paid (payments; from monthly
  statistics the month's persons).
- 临时救助 (``temporary_relief``): cases = grants dated in the period; persons = grants in
  the reference month (人次); spending and its average per grant the same way; from
  monthly statistics persons per month are the grants.
- medical insurance: enrolled ÷ required of the year of the reference month (a stock).
- exceptions (lists only): a payment outside the recipient's spell, a payment above that
  year's standard of the program (one finding per payment and rule), and a person active
  in 低保 and in 特困供养 in the same month (one finding per person and month).
"""
from __future__ import annotations

from sqlalchemy import (
    BigInteger, Engine, Integer, String, and_, case, cast, func, literal_column, null, or_,
    select,
)

from data.ingest.columns import PROGRAM_CODES
from data.store.schema import (
    benefit_monthly, benefit_payments, benefit_recipients, benefit_standards,
    insurance_enrolment, relief_grants,
)
from metrics.context import Query
from metrics.engine import Distinct, Domain, Result, Split, Union, compute as engine_compute
from metrics.engine.domain import months_until
from metrics.sqlfn import flag

LIST, MONTHLY = "list", "monthly"
SOURCE_LABELS = {LIST: "名单", MONTHLY: "月报统计"}
RELIEF = "临时救助"
DIBAO = ("城市低保", "农村低保")
TEKUN = "特困供养"
OPEN_END = "9999-12"
# counts every program has, split per program (benefits.<code>.<count>)
PROGRAM_COUNTS = ("persons", "households", "new", "exited", "new_missing", "exited_missing",
                  "spending_fen", "person_months", "cases")
STOCKS = ("persons", "households", "required", "enrolled")
EXCEPTION_RULES = {"exc_outside": "发放月份不在保障期内", "exc_above": "发放金额高于当年标准",
                   "exc_double": "同月同时享受低保和特困供养"}

r, p, g, m = (benefit_recipients.c, benefit_payments.c, relief_grants.c, benefit_monthly.c)
ONE = literal_column("1")


def cents(amount):
    """A money amount in whole fen (exact integers to add up on every database)."""
    return cast(func.round(func.coalesce(amount, 0) * 100), BigInteger)


def _part(name: str, table, cohort: str, dimensions: dict, indicators: dict, counts: dict,
          **kw) -> Domain:
    return Domain(name=name, table=table, cohort=cohort, dimensions=dimensions,
                  indicators=lambda q, ind=indicators: ind, counts=counts, **kw)


def _one(i):
    return i["one"]


_RECIPIENT_DIMS = {"community": r.community, "program": r.program}
_PAYMENTS = lambda: benefit_payments.join(benefit_recipients,  # noqa: E731
                                          r.recipient_id == p.recipient_id)

SPELLS = _part(
    "benefits.spells", benefit_recipients, "start_month", _RECIPIENT_DIMS,
    {"one": ONE, "household": func.coalesce(r.household_id, r.recipient_id)},
    {"persons": _one, "households": Distinct(lambda i: i["household"])},
    spell=("start_month", "end_month"), provenance=LIST)
STARTS = _part("benefits.starts", benefit_recipients, "start_month", _RECIPIENT_DIMS,
               {"one": ONE}, {"new": _one}, provenance=LIST)
ENDS = _part("benefits.ends", benefit_recipients, "end_month", _RECIPIENT_DIMS,
             {"one": ONE}, {"exited": _one}, provenance=LIST)


def _outside_spell():
    """A payment for a month outside its recipient's spell."""
    return or_(p.month < r.start_month, and_(r.end_month.is_not(None), p.month > r.end_month))


def _above_standard():
    """A payment above the monthly standard of its program in its year."""
    return p.amount > benefit_standards.c.monthly_amount


_STANDARD = and_(benefit_standards.c.program == r.program,
                 benefit_standards.c.year == cast(func.substr(p.month, 1, 4), Integer))


# payments, with the two payment rules of the exceptions judged on the same pass
PAYMENTS = _part(
    "benefits.payments", benefit_payments, "month", _RECIPIENT_DIMS,
    {"fen": cents(p.amount), "paid": flag(p.amount.is_not(None)),
     "outside": flag(_outside_spell()), "above": flag(_above_standard())},
    {"spending_fen": lambda i: i["fen"], "person_months": lambda i: i["paid"],
     "exceptions": lambda i: i["outside"] + i["above"], "exc_outside": lambda i: i["outside"],
     "exc_above": lambda i: i["above"]},
    source=lambda: _PAYMENTS().outerjoin(benefit_standards, _STANDARD),
    scope_column=r.community, provenance=LIST, lanes=True)  # the largest part: in runs of months
GRANTS = _part(
    "benefits.grants", relief_grants, "granted_on",
    {"community": g.community, "program": literal_column(f"'{RELIEF}'")},
    {"one": ONE, "fen": cents(g.amount)},
    {"cases": _one, "persons": _one, "person_months": _one, "spending_fen": lambda i: i["fen"]},
    provenance=LIST)
MONTHLY_STATISTICS = _part(
    "benefits.monthly", benefit_monthly, "month",
    {"community": m.community, "program": m.program},
    {"persons": func.coalesce(m.persons, 0), "households": func.coalesce(m.households, 0),
     "new": func.coalesce(m.new, 0), "exited": func.coalesce(m.exited, 0),
     "new_missing": flag(m.new.is_(None)), "exited_missing": flag(m.exited.is_(None)),
     "fen": cents(m.spending)},
    {"persons": lambda i: i["persons"], "households": lambda i: i["households"],
     "new": lambda i: i["new"], "exited": lambda i: i["exited"],
     "new_missing": lambda i: i["new_missing"], "exited_missing": lambda i: i["exited_missing"],
     "spending_fen": lambda i: i["fen"], "person_months": lambda i: i["persons"],
     "cases": lambda i: i["persons"]},
    provenance=MONTHLY)

_year = cast(insurance_enrolment.c.year, String(4))
INSURANCE = _part(
    "benefits.insurance", insurance_enrolment, "year",
    {"community": insurance_enrolment.c.community, "program": null()},
    {"required": func.coalesce(insurance_enrolment.c.required, 0),
     "enrolled": func.coalesce(insurance_enrolment.c.enrolled, 0)},
    {"required": lambda i: i["required"], "enrolled": lambda i: i["enrolled"]},
    spell=(_year + "-01", _year + "-12"))


# ---------------------------------------------------------------------- exceptions

dibao, tekun = benefit_recipients.alias("dibao"), benefit_recipients.alias("tekun")
_end_d = func.coalesce(dibao.c.end_month, OPEN_END)
_end_t = func.coalesce(tekun.c.end_month, OPEN_END)
OVERLAP = (case((dibao.c.start_month > tekun.c.start_month, dibao.c.start_month),
                else_=tekun.c.start_month),
           case((_end_d < _end_t, _end_d), else_=_end_t))
DOUBLE = _part("benefits.exc_double", dibao, "start_month",
               {"community": dibao.c.community, "program": dibao.c.program},
               {"one": ONE}, {"exceptions": _one, "exc_double": _one},
               source=lambda: dibao.join(tekun, dibao.c.person_key == tekun.c.person_key),
               scope_column=dibao.c.community, spell=OVERLAP,
               where=lambda q: [dibao.c.program.in_(DIBAO), tekun.c.program == TEKUN,
                                dibao.c.person_key != ""])

DOMAIN = Union(
    name="benefits",
    parts=(SPELLS, PAYMENTS, DOUBLE, STARTS, ENDS, GRANTS, MONTHLY_STATISTICS, INSURANCE),
    dimensions=("community", "program"),
    precedence=(LIST, MONTHLY),
    split=Split("program", PROGRAM_CODES, PROGRAM_COUNTS),
    stocks=STOCKS,
)


def compute(engine: Engine, q: Query, by: tuple[str, ...] | None = None) -> Result:
    """Benefits figures for the query, overall and for each breakdown in ``by``."""
    return engine_compute(engine, DOMAIN, q, by)


def sources(counts: dict, code: str | None = None) -> list[str]:
    """The sources (名单, 月报统计) a group's figures of a program (or of all) come from."""
    prefix = f"{code}." if code else ""
    return [SOURCE_LABELS[s] for s in (LIST, MONTHLY) if counts.get(f"{prefix}from.{s}")]


# ---------------------------------------------------------------------- the audit list

def _short_key(column):
    """The first 8 characters of a person_key, cut in SQL: the whole key never leaves."""
    return func.substr(column, 1, 8)


def exceptions_list(engine: Engine, q: Query, limit: int = 1000) -> list[dict]:
    """The findings behind ``benefits.exceptions`` for the query (the same declarations):
    per row the rule it breaks, the recipient, the short person key, program, community,
    month, amount, details and how many findings it stands for (a double enrolment is one
    row per pair of records with its months in the period). Oldest month first."""
    rows: list[dict] = []
    with engine.connect() as conn:
        for rule, condition in (("exc_outside", _outside_spell()),
                                ("exc_above", _above_standard())):
            stmt = (select(r.recipient_id, _short_key(r.person_key).label("key8"), r.program,
                           r.community, p.month, p.amount, r.start_month, r.end_month,
                           benefit_standards.c.monthly_amount.label("standard"))
                    .select_from(PAYMENTS.from_clause)
                    .where(PAYMENTS.cohort_filter(q), condition)
                    .order_by(p.month, r.recipient_id).limit(limit))
            for row in conn.execute(stmt).mappings():
                detail = (f"当年标准 {float(row['standard']):,.2f} 元" if rule == "exc_above" else
                          f"保障期 {row['start_month']} 至 {row['end_month'] or '今'}")
                rows.append(dict(rule=EXCEPTION_RULES[rule], recipient=row["recipient_id"],
                                 person=_shown(row["key8"]), program=row["program"],
                                 community=row["community"], month=row["month"],
                                 amount=None if row["amount"] is None else float(row["amount"]),
                                 detail=detail, findings=1))
        start, end = OVERLAP
        stmt = (select(dibao.c.recipient_id, _short_key(dibao.c.person_key).label("key8"),
                       dibao.c.program, dibao.c.community, tekun.c.recipient_id.label("other"),
                       start.label("first"), end.label("last"))
                .select_from(DOUBLE.from_clause).where(DOUBLE.cohort_filter(q))
                .order_by(start, dibao.c.recipient_id).limit(limit))
        months = months_until(q)
        for row in conn.execute(stmt).mappings():
            inside = [mo for mo in months if row["first"] <= mo <= row["last"]]
            if not inside:
                continue
            rows.append(dict(rule=EXCEPTION_RULES["exc_double"], recipient=row["recipient_id"],
                             person=_shown(row["key8"]), program=row["program"],
                             community=row["community"], month=inside[0], amount=None,
                             detail=f"与特困供养对象 {row['other']} 同时在保 {inside[0]} 至 {inside[-1]}",
                             findings=len(inside)))
    rows.sort(key=lambda row: (row["month"], row["recipient"]))
    return rows[:limit]


def _shown(key8: str | None) -> str:
    return f"{key8}…" if key8 else "—"


# ---------------------------------------------------------------------- page tables

def standards(engine: Engine, q: Query) -> dict[str, float]:
    """Each program's monthly standard (元) for the year of the reference month."""
    year = min(q.period.end, q.as_of.date()).year
    s = benefit_standards.c
    stmt = select(s.program, s.monthly_amount).where(s.year == year,
                                                      s.monthly_amount.is_not(None))
    with engine.connect() as conn:
        return {program: float(amount) for program, amount in conn.execute(stmt)}


def relief_by_reason(engine: Engine, q: Query) -> list[dict]:
    """临时救助 grants of the period (from the lists; the monthly statistics carry no
    reason) by month and reason: grants and amount (元)."""
    month = GRANTS.month_key(q).label("month")
    reason = func.coalesce(g.reason, "").label("reason")
    stmt = (select(month, reason, func.count().label("grants"),
                   func.sum(cents(g.amount)).label("fen"))
            .where(GRANTS.cohort_filter(q)).group_by(month, reason).order_by(month, reason))
    with engine.connect() as conn:
        return [{"month": row.month, "reason": row.reason or "未填", "grants": int(row.grants),
                 "amount": int(row.fen or 0) / 100} for row in conn.execute(stmt)]


def headline(kpis: dict) -> dict:
    """The cockpit's benefits tile: persons in the five recurring programs (a person in two
    programs counts twice), spending of all six programs (元) and the exceptions."""
    codes = list(PROGRAM_CODES.values())
    return {"persons": sum(kpis[f"benefits.{c}.persons"] for c in codes
                           if c != PROGRAM_CODES[RELIEF]),
            "spending": sum(kpis[f"benefits.{c}.spending"] for c in codes),
            "exceptions": kpis["benefits.exceptions"]}
