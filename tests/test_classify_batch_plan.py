"""How length-sorted sequences are cut into batches (analysis/classify/batch_plan.py), and that
an encoder gives the same vectors whichever plan cuts its batches."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from analysis.classify.batch_plan import Batch, fixed_rows, token_budget, token_budgets


def review_lengths(n: int = 3000, seed: int = 0) -> list[int]:
    """Token counts shaped like app reviews: mostly short, a long tail up to 256."""
    rng = np.random.default_rng(seed)
    return sorted(int(x) for x in np.clip(rng.lognormal(3.2, 0.8, n), 3, 256))


def check_cover(plan: list[Batch], lengths: list[int]) -> None:
    assert plan[0].start == 0
    assert plan[-1].end == len(lengths)
    for a, b in itertools.pairwise(plan):
        assert a.end == b.start
    for batch in plan:
        assert batch.end > batch.start
        assert batch.rows >= batch.end - batch.start
        assert max(lengths[batch.start : batch.end]) <= batch.width


def padded(plan: list[Batch]) -> int:
    return sum(b.rows * b.width for b in plan)


def test_fixed_rows_are_batch_size_rows_as_wide_as_their_longest() -> None:
    lengths = [1, 2, 2, 5, 7, 9, 30]
    plan = fixed_rows(lengths, 3)
    check_cover(plan, lengths)
    assert [(b.rows, b.width) for b in plan] == [(3, 2), (3, 9), (1, 30)]


def test_budgets_for_the_default_batch_size() -> None:
    budgets = token_budgets(32, 256)
    assert len(budgets) == 6
    assert all(0.7 * 1024 <= b <= 1024 for b in budgets)
    assert 1024 in budgets  # 4 rows of 256: the longest sequence fits
    # Chosen for their many divisors: 720 and 840 are such numbers, 1000 is not.
    assert {720, 840} <= set(budgets)
    assert 1000 not in budgets


def test_a_tiny_batch_size_still_fits_the_longest_sequence() -> None:
    budgets = token_budgets(1, 256)
    assert 256 in budgets
    plan = token_budget([3, 40, 256], budgets, 256)
    check_cover(plan, [3, 40, 256])


def test_token_budget_batches_hold_one_of_the_budgets_and_pad_no_more_than_fixed_rows() -> None:
    lengths = review_lengths()
    budgets = token_budgets(32, 256)
    plan = token_budget(lengths, budgets, 256)
    check_cover(plan, lengths)
    assert {b.rows * b.width for b in plan} <= set(budgets)
    fixed = fixed_rows(lengths, 32)
    assert len({b.rows * b.width for b in fixed}) > 3 * len(budgets)  # what the plan avoids
    assert padded(plan) <= 1.05 * padded(fixed)
    # Short sequences go many to a batch, long ones few.
    assert plan[0].rows > 32 > plan[-1].rows


def test_no_batch_is_wider_than_the_model_even_where_padding_would_fill_a_budget() -> None:
    # One sequence of 250: 2 x 300 would pad less than 4 x 256, but positions past the
    # model's 256 do not exist.
    plan = token_budget([250], (600, 1024), 256)
    assert [(b.rows, b.width) for b in plan] == [(4, 256)]


def test_a_sequence_no_budget_holds_is_an_error_naming_its_length() -> None:
    with pytest.raises(ValueError, match="300 tokens"):
        token_budget([10, 300], (720, 1024), 256)


def test_an_encoder_gives_the_same_vectors_with_padding_rows(tiny_encoder) -> None:
    """A budget plan pads batches with extra rows; they must not reach the vectors."""
    enc = tiny_encoder
    texts = ["the app is great. it crashes", "why slow", "please add sync! love it", "ok",
             "login fails every time since the update, support never answers"] * 3
    texts = [f"{t} {i}" for i, t in enumerate(texts)]
    sents = [[t] for t in texts]
    enc.clear_cache()
    want_rev, want_sent = enc.encode_reviews(texts, sents)
    want = enc.encode(texts)
    budgets = (24, 30)  # small: several batches, most of them with padding rows
    enc.batch_plan = lambda lengths: token_budget(lengths, budgets, enc.max_tokens)  # type: ignore[method-assign]
    try:
        batches = list(enc.padded_batches([[5, 6, 7], [8], [9, 10]]))
        idx, ids, mask = batches[0]
        assert idx.tolist() == [1, 2, 0]
        assert ids.shape[0] * ids.shape[1] in budgets
        assert ids.shape[0] > 3
        assert mask[3:].sum(axis=1).tolist() == [1] * (ids.shape[0] - 3)  # one visible pad
        enc.clear_cache()
        got_rev, got_sent = enc.encode_reviews(texts, sents)
        got = enc.encode(texts)
    finally:
        del enc.batch_plan
        enc.clear_cache()
    assert np.allclose(got_rev, want_rev, atol=1e-5)
    assert np.allclose(got_sent, want_sent, atol=1e-5)
    assert np.allclose(got, want, atol=1e-5)
