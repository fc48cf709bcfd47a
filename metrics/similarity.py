"""Near-duplicate texts: character 3-gram Jaccard similarity, found without comparing
every pair.

Two texts are near-duplicates when the Jaccard similarity of their sets of character
3-grams (every run of three consecutive characters; a text shorter than three characters
is its own single gram) is at least a threshold ``t``. Comparing every pair of a year of
work logs is quadratic; instead, within each group (a cadre's logs) the candidates are found
by *prefix filtering* (Chaudhuri et al. 2006, Bayardo et al. 2007), which is exact: order
each text's grams from the group's rarest to its commonest; if J(x, y) >= t then the
first ``|x| - ceil(t * |x|) + 1`` grams of x and the corresponding prefix of y share a gram.
Only texts sharing a prefix gram, of compatible sizes (``t * |x| <= |y| <= |x| / t``) and
within the time window are compared exactly. Rare grams lead, so each probe meets few
candidates even when most texts of a group follow the same template.

The items are processed in their given order (the order they were written), and each is
compared with the earlier ones only: the later of two near-duplicates is the copy.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

EPS = 1e-9  # filters must never drop a true match to floating-point rounding


def grams(text: str | None, n: int = 3) -> frozenset[str]:
    """The text's set of character n-grams (whitespace trimmed); a text shorter than n is
    its own single gram, an empty text has none."""
    s = (text or "").strip()
    if not s:
        return frozenset()
    if len(s) <= n:
        return frozenset((s,))
    return frozenset(s[i:i + n] for i in range(len(s) - n + 1))


def jaccard(a: frozenset, b: frozenset) -> float:
    if not a and not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


@dataclass(frozen=True)
class Match:
    index: int        # the later item (the copy)
    original: int     # the earlier item it is most similar to
    similarity: float


def _prefix_length(size: int, t: float) -> int:
    return size - math.ceil(t * size - EPS) + 1


def near_duplicates(texts: Sequence[str | None], times: Sequence[int], t: float,
                    window: int) -> list[Match]:
    """Within one group of texts given in the order they were written, each text that is
    a near-duplicate (J >= t) of an earlier one whose ``times`` differ by at most
    ``window``, with the earlier text it is most similar to (ties: the nearest in time,
    then the latest written)."""
    sets = [grams(x) for x in texts]
    freq = Counter(g for s in sets for g in s)
    index: dict[str, list[int]] = defaultdict(list)
    out = []
    for i, s in enumerate(sets):
        if not s:
            continue
        ordered = sorted(s, key=lambda g: (freq[g], g))
        prefix = ordered[:_prefix_length(len(s), t)]
        low, high = t * len(s) - EPS, len(s) / t + EPS
        seen: set[int] = set()
        best: tuple | None = None
        for g in prefix:
            for j in index.get(g, ()):
                if j in seen:
                    continue
                seen.add(j)
                other = sets[j]
                if not low <= len(other) <= high or abs(times[i] - times[j]) > window:
                    continue
                sim = jaccard(s, other)
                if sim >= t:
                    key = (sim, -abs(times[i] - times[j]), j)
                    if best is None or key > best:
                        best = key
        if best is not None:
            out.append(Match(i, best[2], best[0]))
        for g in prefix:
            index[g].append(i)
    return out


# ---------------------------------------------------------------------------- in bulk

_NONE = 0x1FFFFF  # a "character" beyond Unicode: pads the gram of a text shorter than 3


def _segments(sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For segments of the given sizes laid end to end: each element's segment and its
    offset within it."""
    starts = np.cumsum(sizes) - sizes
    seg = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
    return seg, np.arange(int(sizes.sum()), dtype=np.int64) - starts[seg]


def _sorted_unique(a: np.ndarray) -> np.ndarray:
    s = np.sort(a)
    return s[np.concatenate(([True], s[1:] != s[:-1]))] if len(s) else s


def gram_table(texts: Sequence[str | None], room: int = 1
               ) -> tuple[np.ndarray, np.ndarray, int]:
    """Every text's distinct character 3-grams (as ``grams``) in bulk: ``(text, gram)`` pairs
    sorted by text then gram, and the size of the grams' id space (every id is below it).

    The texts are laid end to end as one array of code points; every position that starts
    a 3-gram inside its text gives one gram, so the work is a few whole-array operations
    whatever the number of texts. A gram's id is built from its characters' ranks among
    the characters present (C of them, plus one for the padding of a text shorter than
    three), so ids stay below (C + 1)³ and ``text × space × room`` fits 62 bits for sorting;
    otherwise grams get dense ids (below their number) by a binary search."""
    stripped = [(x or "").strip() for x in texts]
    lengths = np.fromiter(map(len, stripped), dtype=np.int64, count=len(stripped))
    cps = np.frombuffer("".join(stripped).encode("utf-32-le"), dtype=np.uint32)
    owner = np.repeat(np.arange(len(stripped), dtype=np.int32), lengths)
    starts = np.flatnonzero(owner[2:] == owner[:-2]) if len(cps) >= 3 else \
        np.zeros(0, dtype=np.int64)
    short = np.flatnonzero((lengths > 0) & (lengths < 3))  # a text shorter than 3: one gram
    first = (np.cumsum(lengths) - lengths)[short]
    second = np.where(lengths[short] > 1, first + 1, -1)   # -1: padding
    text = np.concatenate((owner[starts].astype(np.int64), short))
    chars = _sorted_unique(cps)
    c1 = len(chars) + 1                                     # the padding is the last id
    space = c1 ** 3
    if len(texts) * space * room < 2 ** 62:
        table = np.zeros(int(chars[-1]) + 1 if len(chars) else 1, dtype=np.int64)
        table[chars] = np.arange(len(chars))
        ids = np.concatenate((table[cps], [c1 - 1]))        # ids[-1]: the padding
        gram = np.concatenate(((ids[starts] * c1 + ids[starts + 1]) * c1 + ids[starts + 2],
                               (ids[first] * c1 + ids[second]) * c1 + c1 - 1))
    else:  # a huge alphabet: 63-bit grams, then dense ids
        cp = np.concatenate((cps.astype(np.int64), [_NONE]))
        gram = np.concatenate(((cp[starts] << 42) | (cp[starts + 1] << 21) | cp[starts + 2],
                               (cp[first] << 42) | (cp[second] << 21) | _NONE))
        uniq = _sorted_unique(gram)
        gram, space = np.searchsorted(uniq, gram), max(len(uniq), 1)
    pairs = _sorted_unique(text * space + gram)
    return pairs // space, pairs % space, space


CHUNK = 8192  # texts per vectorised pass: bounds the memory, whole groups per pass
CLASSES = 32  # how common a gram is: the power of two of its (hashed) count
BUCKETS = 1 << 20


def near_duplicates_bulk(texts: Sequence[str | None], groups: Sequence[int],
                         times: Sequence[int], probe: Sequence[bool], t: float,
                         window: int) -> list[Match]:
    """``near_duplicates`` for many groups at once, vectorised: the texts are given grouped
    (``groups``: a group number per text) and in written order within each group; only
    texts with ``probe`` set are looked at as copies (every text may be an original). The
    same matches as ``near_duplicates`` run on each group (each copy with its most similar
    earlier text; ties: nearest in time, then latest written). Whole groups are taken in
    passes of about ``CHUNK`` texts, so memory stays flat however many texts there are."""
    groups = np.asarray(groups, dtype=np.int64)
    times = np.asarray(times, dtype=np.int64)
    probe = np.asarray(probe, dtype=bool)
    bounds = np.flatnonzero(np.diff(groups)) + 1          # where a new group starts
    out, lo = [], 0
    while lo < len(groups):
        hi = len(groups) if lo + CHUNK >= len(groups) else \
            int(bounds[np.searchsorted(bounds, lo + CHUNK, side="right") - 1])
        if hi <= lo:  # one group larger than a pass: take it whole
            later = bounds[bounds > lo]
            hi = int(later[0]) if len(later) else len(groups)
        out += [Match(m.index + lo, m.original + lo, m.similarity)
                for m in _near_duplicates_pass(texts[lo:hi], groups[lo:hi], times[lo:hi],
                                               probe[lo:hi], t, window)]
        lo = hi
    return out


def _near_duplicates_pass(texts: Sequence[str | None], groups: np.ndarray,
                          times: np.ndarray, probe: np.ndarray, t: float,
                          window: int) -> list[Match]:
    n = len(texts)
    if n == 0 or not probe.any():
        return []
    text, gram, space = gram_table(texts, room=CLASSES)
    size = np.bincount(text, minlength=n)
    # the global order: by how common a gram is (a power-of-two class of its count, from
    # a hashed tally: any fixed order is exact, a rare-first one is fast), then by id
    tally = np.bincount(gram % BUCKETS, minlength=BUCKETS)[gram % BUCKETS]
    common_class = np.minimum(np.log2(tally).astype(np.int64), CLASSES - 1)
    ranked = np.sort((text * CLASSES + common_class) * space + gram)
    r_text, r_key = ranked // (CLASSES * space), ranked % (CLASSES * space)
    _, pos = _segments(size)
    plen = size - np.ceil(t * size - EPS).astype(np.int64) + 1
    keep = pos < plen[r_text]
    p_text, p_key = r_text[keep], r_key[keep]
    p_gram = np.unique(p_key, return_inverse=True)[1]   # the prefix grams, densely
    n_p = int(p_gram.max()) + 1 if len(p_gram) else 1
    local = np.unique(groups, return_inverse=True)[1]
    # texts sharing a prefix gram within a group: each with every earlier one
    key = np.sort((local[p_text] * n_p + p_gram) * n + p_text)
    g_key, e_text = key // n, key % n
    new = np.concatenate(([True], g_key[1:] != g_key[:-1]))
    first = np.maximum.accumulate(np.where(new, np.arange(len(key)), 0))
    k = np.arange(len(key)) - first          # earlier entries in the same list
    k = np.where(probe[e_text], k, 0)        # only probes look back
    later_entry, off = _segments(k)
    later = e_text[later_entry]
    earlier = e_text[first[later_entry] + off]
    ok = np.abs(times[later] - times[earlier]) <= window
    ok &= (size[earlier] >= t * size[later] - EPS) & (size[earlier] <= size[later] / t + EPS)
    cand = _sorted_unique(later[ok] * n + earlier[ok])
    later, earlier = cand // n, cand % n
    if not len(cand):
        return []
    # exact Jaccard of the candidates: common grams counted by sorting (pair, gram)
    bounds = np.concatenate(([0], np.cumsum(size)))
    pair_sizes = size[later] + size[earlier]
    pair, off = _segments(pair_sizes)
    side_a = off < size[later][pair]
    src = np.where(side_a, bounds[later[pair]] + off,
                   bounds[earlier[pair]] + off - size[later][pair])
    involved, dense = np.unique(gram[src], return_inverse=True)
    keyed = np.sort(pair * len(involved) + dense)
    common = np.bincount(keyed[1:][keyed[1:] == keyed[:-1]] // len(involved),
                         minlength=len(cand))
    union = pair_sizes - common
    sim = common / union
    hit = sim >= t
    out: dict[int, tuple] = {}
    for a, b, s in zip(later[hit].tolist(), earlier[hit].tolist(), sim[hit].tolist()):
        key_ = (s, -abs(int(times[a]) - int(times[b])), b)
        if a not in out or key_ > out[a]:
            out[a] = key_
    return [Match(a, v[2], v[0]) for a, v in sorted(out.items())]
