"""How length-sorted token sequences are cut into padded batches.

Stage: classify (embedding). In: token counts sorted shortest first. Out: batches as
:class:`Batch` (which slice of the sorted sequences, padded to how many rows and positions).

Two plans:

- :func:`fixed_rows`: ``batch_size`` sequences a batch, as wide as its longest one (what
  sentence-transformers does). Right for torch and ONNX Runtime, whose cost per token does not
  depend on how many different batch shapes they meet.
- :func:`token_budget`: every batch holds exactly one of a few numbers of token positions
  (rows x width). For OpenVINO, whose CPU plugin prepares its kernels again for each new
  rows x width product the first time it meets one (15-25 ms each here, measured; only about
  3 ms for a new width at a product it has met). With fixed rows, a fresh run of 2,000 minibar
  reviews met 48 products in 89 batches, about 1 s of its 4.5 s; with the six budgets that
  :func:`token_budgets` picks for 32 x 32 tokens it meets six, at about the same number of
  padded positions (72,084 against 71,985), and the fresh run took 4.0 s. The embeddings are
  identical but for rare rows: the int8 model's activation scales are static, so a row's
  result does not depend on the rows beside it, though in a batch of another shape the kernels
  round a few rows differently (2 of 2,000 reviews moved by up to 0.004 in one comparison).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate

BUDGET_COUNT = 5
"""Token budgets picked for their divisors (one more holds the longest sequence): each is a
kernel set OpenVINO prepares once per process."""
TOKENS_PER_ROW = 32
"""``batch_size`` rows of this many tokens make the largest budget (the fixed plan's average
batch of minibar reviews holds about 32 x 25 positions)."""


@dataclass(frozen=True)
class Batch:
    """Sorted sequences ``[start, end)`` in a ``rows`` x ``width`` array; rows past
    ``end - start`` are padding."""

    start: int
    end: int
    rows: int
    width: int


def fixed_rows(lengths: Sequence[int], batch_size: int) -> list[Batch]:
    """``batch_size`` sequences a batch, each batch as wide as its longest sequence.

    Args:
        lengths: token counts, sorted ascending.
        batch_size: rows a batch (the last one may have fewer).
    """
    out: list[Batch] = []
    for start in range(0, len(lengths), batch_size):
        end = min(start + batch_size, len(lengths))
        out.append(Batch(start, end, end - start, int(lengths[end - 1])))
    return out


def token_budgets(batch_size: int, max_width: int, count: int = BUDGET_COUNT) -> tuple[int, ...]:
    """The token budgets (rows x width products) of :func:`token_budget` for a batch size.

    The ``count`` numbers between 70 % and 100 % of ``batch_size * TOKENS_PER_ROW`` with the
    most divisors up to ``max_width`` (more divisors: more widths fill a budget exactly, so
    less padding), plus the largest multiple of ``max_width`` within that size (at least
    ``max_width`` itself), so that a sequence of any length up to ``max_width`` fits one.
    """
    top = max(1, batch_size * TOKENS_PER_ROW)
    pool = range(max(1, math.ceil(0.7 * top)), top + 1)

    def divisors(n: int) -> int:
        return sum(1 for d in range(1, min(n, max_width) + 1) if n % d == 0)

    best = sorted(pool, key=lambda n: (divisors(n), n), reverse=True)[:count]
    return tuple(sorted({*best, max_width * max(1, top // max_width)}))


def token_budget(lengths: Sequence[int], budgets: Sequence[int], max_width: int
                 ) -> list[Batch]:
    """Batches of exactly one of ``budgets`` token positions each, padding as little as it can.

    From the shortest sequence not yet placed, every (budget, width) pair where the width
    divides the budget, holds that sequence and is at most ``max_width`` is tried; the one
    whose batch has the largest share of real tokens wins (so short sequences go many to a
    batch, long ones few).

    Args:
        lengths: token counts, sorted ascending.
        budgets: rows x width products allowed (:func:`token_budgets`).
        max_width: the model's positions: no batch is wider, even as padding.

    Raises:
        ValueError: a sequence is longer than the widest width any budget allows.
    """
    shapes = sorted({(b // w, w) for b in budgets for w in range(1, min(b, max_width) + 1)
                     if b % w == 0}, key=lambda s: s[1])
    widths = [w for _, w in shapes]
    sums = [0, *accumulate(lengths)]
    out: list[Batch] = []
    start, n = 0, len(lengths)
    while start < n:
        best: tuple[float, int, int, int] | None = None
        for rows, width in shapes[bisect.bisect_left(widths, lengths[start]):]:
            end = bisect.bisect_right(lengths, width, start, min(n, start + rows))
            share = (sums[end] - sums[start]) / (rows * width)
            if best is None or share > best[0]:
                best = (share, end, rows, width)
        if best is None:
            raise ValueError(f"a sequence of {lengths[start]} tokens fits none of the token "
                             f"budgets {tuple(budgets)}")
        _, end, rows, width = best
        out.append(Batch(start, end, rows, width))
        start = end
    return out
