"""worklogs.* and the suspect logs against the hand-made October 2024 store
(tests/cadre_store.py); every figure is worked out in comments. Three databases."""
from __future__ import annotations

import random
from datetime import date

import pytest

from metrics import worklogs as m
from metrics.context import Query
from metrics.period import Period
from metrics.settings import load_settings
from metrics.similarity import grams, jaccard, near_duplicates, near_duplicates_bulk
from tests import cadre_store as cs
from tests.builders import log_import

OCTOBER = Period(date(2024, 10, 1), date(2024, 10, 31))


@pytest.fixture
def store(engine):
    cs.build(engine)
    log_import(engine, cs.AS_OF, "worklogs")
    return engine


def q(period=OCTOBER, as_of=cs.AS_OF, scope=(), settings=None):
    return Query(period, tuple(scope), as_of, settings or load_settings())


def test_the_texts_are_what_the_comments_say():
    assert len(cs.X) == 30 and len(grams(cs.X)) == 28
    assert jaccard(grams(cs.X), grams(cs.X_END)) == 27 / 29
    assert jaccard(grams(cs.X), grams(cs.X_MID)) == 25 / 31


def test_october_totals(store):
    k = m.compute(store, q(), by=()).kpis
    # c1 14 logs, c2 7, c3 2, c4 4 (P11 was written after as_of)
    assert k["worklogs.logs"] == 27
    # logged scheduled days: c1 12 (8 9 10 11 12 15 21 22 23 24 25 28; two logs on the 9th
    # make one day; the 3rd is a holiday), c2 6 (21–25, 28; the 18th was before joining),
    # c3 1 (the 8th; the 16th after leaving), c4 3 (8 9 10; the 7th is a holiday, the
    # 11th's log not written yet) = 22 of 54 scheduled days
    assert k["worklogs.log_rate"] == pytest.approx(22 / 54)
    assert k["worklogs.visits"] == 3 + 2 + 5 + 1 + 4 + 2
    assert k["worklogs.issues_reported"] == 1 + 2 + 1
    # suspect: c1 L02 (雷同), L04 (过短), L05 (late), the 6 batch logs; c2's four late
    # logs; c4's P08 (雷同 of 8 September) = 14
    assert k["worklogs.suspect"] == 14


def test_by_cadre_and_role(store):
    r = m.compute(store, q(), by=("cadre", "role", "community"))
    g = r.groups["cadre"]
    assert (g["c1"]["worklogs.logs"], g["c1"]["worklogs.log_rate"], g["c1"]["worklogs.suspect"]) \
        == (14, pytest.approx(12 / 19), 9)
    assert (g["c2"]["worklogs.log_rate"], g["c2"]["worklogs.suspect"]) == (pytest.approx(6 / 9), 4)
    assert (g["c3"]["worklogs.log_rate"], g["c3"]["worklogs.suspect"]) == (pytest.approx(1 / 7), 0)
    assert (g["c4"]["worklogs.log_rate"], g["c4"]["worklogs.suspect"]) == (pytest.approx(3 / 19), 1)
    assert r.groups["role"]["网格员"]["worklogs.log_rate"] == pytest.approx(18 / 28)
    assert r.groups["community"]["未填"]["worklogs.logs"] == 4
    a_only = m.compute(store, q(scope=["A社区"]), by=()).kpis
    assert (a_only["worklogs.logs"], a_only["worklogs.suspect"]) == (21, 13)


def test_suspect_list_says_why_and_what_was_copied(store):
    found = {x["log_id"]: x for x in m.suspect_list(store, q())}
    assert set(found) == {"L02", "L04", "L05", "L21", "L22", "L23", "L24", "L25", "L28",
                          "M23", "M24", "M25", "M28", "P08"}
    assert found["L02"]["why"] == "雷同" and found["L02"]["copies"] == "L01"
    assert found["L02"]["similarity"] == 27 / 29 and found["L02"]["copies_day"] == date(2024, 10, 8)
    assert found["L04"]["why"] == "过短" and found["L04"]["chars"] == 2
    assert found["L05"]["why"] == "补录过晚"
    assert found["L21"]["why"] == "补录过晚、月末集中补录" and found["L21"]["batch_size"] == 6
    assert found["L28"]["reasons"] == ["late", "batch"]
    assert found["M23"]["why"] == "补录过晚" and found["M23"]["batch_size"] is None  # 4 < 5
    # exactly 30 days after 8 September: a copy; 31 days (P07 of 6 September's text): not
    assert found["P08"]["copies"] == "P0908" and found["P08"]["similarity"] == 1.0
    assert found["L02"]["name"] == "张三" and found["P08"]["community"] is None
    assert "content" not in found["L02"]                  # a log may name residents


def test_suspect_thresholds_from_settings(store):
    looser = load_settings().with_overrides({
        "worklogs.duplicate_similarity": 0.8, "worklogs.min_chars": 1,
        "worklogs.late_days": 10, "worklogs.batch_min_logs": 7})
    found = {x["log_id"]: x for x in m.suspect_list(store, q(settings=looser))}
    # J(X, X_MID) = 25/31 = 0.806 >= 0.8: L08 now copies L01 (J(X_END, X_MID) = 24/32)
    assert found["L08"]["copies"] == "L01"
    assert "L04" not in found                              # 2 characters >= 1
    assert "L05" not in found and "L21" not in found       # a batch needs 7; 9 days <= 10
    assert set(found) == {"L02", "L08", "P08"}


def test_as_of_hides_logs_written_later(store):
    early = cs.at(date(2024, 10, 30), "10:02:30")    # three batch logs written so far
    k = m.compute(store, q(as_of=early), by=("cadre",))
    c1 = k.groups["cadre"]["c1"]
    # c1's logs by then: L01–L08, L21–L23 = 11; the batch has 3 logs (< 5): late only
    assert c1["worklogs.logs"] == 11
    found = {x["log_id"]: x["why"] for x in m.suspect_list(store, q(as_of=early))}
    assert found["L21"] == "补录过晚" and "L24" not in found


# --------------------------------------------------------------------- near-duplicates

def test_bulk_near_duplicates_equal_the_pairwise_definition():
    """The vectorised prefix filter finds exactly the pairs a comparison of every pair
    finds, on random texts built to be similar."""
    rng = random.Random(7)
    alphabet = "走访居民了解情况调解纠纷排查隐患宣传政策 "
    for _ in range(200):
        texts, groups, times, probe = [], [], [], []
        for g in range(3):
            base = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
                    for _ in range(3)]
            for _ in range(rng.randint(0, 12)):
                chars = list(rng.choice(base))
                for _ in range(rng.randint(0, 2)):
                    if chars:
                        chars[rng.randrange(len(chars))] = rng.choice(alphabet)
                texts.append("".join(chars))
                groups.append(g)
                times.append(rng.randint(0, 60))
                probe.append(rng.random() < 0.7)
        t = rng.choice([0.5, 0.8, 0.9, 1.0])
        got = {(x.index, x.original, x.similarity)
               for x in near_duplicates_bulk(texts, groups, times, probe, t, 30)}
        want = set()
        for g in range(3):
            idx = [i for i in range(len(texts)) if groups[i] == g]
            for x in near_duplicates([texts[i] for i in idx], [times[i] for i in idx], t, 30):
                if probe[idx[x.index]]:
                    want.add((idx[x.index], idx[x.original], x.similarity))
        brute = {i for i in range(len(texts)) if probe[i] and any(
            groups[j] == groups[i] and abs(times[i] - times[j]) <= 30
            and grams(texts[i]) and jaccard(grams(texts[i]), grams(texts[j])) >= t
            for j in range(i))}
        assert got == want and {x[0] for x in got} == brute


@pytest.mark.parametrize("chunk", [1, 2, 5, 17])
def test_bulk_near_duplicates_in_passes_of_whole_groups(monkeypatch, chunk):
    """Passes of a few texts (groups never split) give the same matches as one pass."""
    import metrics.similarity as sim

    rng = random.Random(chunk)
    alphabet = "走访居民了解情况调解纠纷"
    texts, groups, times, probe = [], [], [], []
    for g in range(8):
        base = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 20))) for _ in range(3)]
        for _ in range(rng.randint(0, 9)):
            texts.append(rng.choice(base))
            groups.append(g)
            times.append(rng.randint(0, 60))
            probe.append(rng.random() < 0.7)
    whole = near_duplicates_bulk(texts, groups, times, probe, 0.8, 30)
    monkeypatch.setattr(sim, "CHUNK", chunk)
    assert near_duplicates_bulk(texts, groups, times, probe, 0.8, 30) == whole
    assert whole                                        # the data do hold copies


def test_suspects_shared_out_among_threads_are_the_same(store, monkeypatch):
    """Cadres shared out among connections (a city's roster) give the same suspect logs."""
    whole = m.suspect_list(store, q())
    monkeypatch.setattr(m, "CADRES_PER_THREAD", 1)      # 4 cadres: two threads of two
    assert m.suspect_list(store, q()) == whole
