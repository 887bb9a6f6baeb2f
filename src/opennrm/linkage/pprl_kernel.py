"""The Dice coefficient of many Bloom filters against many, fast: the kernel of PPRL.

Filters are rows of 64-bit words (`numpy.uint64`, shape (n, words)). The Dice coefficient of
two filters is 2·|A∧B| / (|A| + |B|), counted in set bits. Only pairs at or above a threshold
are kept, so the result stays small even when every pair is compared.

With numba the inner loop is compiled with LLVM's `ctpop` (the CPU's POPCNT instruction,
or a vectorised popcount where LLVM finds one faster); rows are shared among threads, which
release the GIL. Without numba the same comparison runs on numpy (`np.bitwise_count` on
broadcast blocks), an order of magnitude slower but with the same results: it is the
reference the tests compare the compiled kernel with.
"""

import functools
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

try:
    from numba import njit, types
    from numba.extending import intrinsic
except ImportError:  # numba is optional: the numpy kernel below gives the same results
    njit = None

_ROWS_PER_TASK = 256
_CACHE_BYTES = 256 * 1024


def popcounts(filters: np.ndarray) -> np.ndarray:
    """The number of set bits of each filter."""
    return np.bitwise_count(filters).sum(axis=1, dtype=np.int64)


def _dice_numpy(left, right, left_counts, right_counts, threshold, start, stop):
    rows, columns, scores = [], [], []
    block = max(1, 4_000_000 // max(1, right.shape[0] * right.shape[1]))
    for first in range(start, stop, block):
        last = min(stop, first + block)
        common = np.bitwise_count(left[first:last, None, :] & right[None, :, :]).sum(
            axis=2, dtype=np.int64)
        total = left_counts[first:last, None] + right_counts[None, :]
        score = np.divide(2.0 * common, total, out=np.full(common.shape, np.nan),
                          where=total > 0)
        row, column = np.nonzero(score >= threshold)
        rows.append(row + first)
        columns.append(column)
        scores.append(score[row, column])
    if not rows:
        return _empty()
    return np.concatenate(rows), np.concatenate(columns), np.concatenate(scores)


def _empty():
    return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64)


if njit is not None:
    @intrinsic
    def _popcount(typingctx, word):
        """LLVM's ctpop of one 64-bit word (numba offers no popcount of its own)."""
        if word != types.uint64:
            return None

        def codegen(context, builder, signature, args):
            return builder.ctpop(args[0])

        return types.uint64(types.uint64), codegen

    @functools.cache
    def _dice_rows_for(words: int):
        """The kernel for filters of `words` words: with the width a constant, LLVM unrolls
        and vectorises the popcount loop (a third faster than a width read at run time)."""

        @njit(nogil=True, boundscheck=False)
        def dice_rows(left, right, left_counts, right_counts, threshold, start, stop):
            # `right` is a block of rows small enough to stay in the core's cache while
            # every row of `left` from start to stop runs over it.
            capacity = 1024
            rows = np.empty(capacity, np.int64)
            columns = np.empty(capacity, np.int64)
            found = 0
            # The columns of one row that pass, written without a branch (the index moves
            # on only when the pair passes), so that the loop stays a straight line.
            passing = np.empty(right.shape[0], np.int64)
            for i in range(start, stop):
                count = left_counts[i]
                passed = 0
                for j in range(right.shape[0]):
                    common = np.uint64(0)
                    for w in range(words):
                        common += _popcount(left[i, w] & right[j, w])
                    passing[passed] = j
                    # 2·common ≥ threshold·total: no division for the pairs left out.
                    passed += 2.0 * common >= threshold * (count + right_counts[j])
                if found + passed > capacity:
                    capacity = 2 * (found + passed)
                    rows = np.resize(rows, capacity)
                    columns = np.resize(columns, capacity)
                rows[found:found + passed] = i
                columns[found:found + passed] = passing[:passed]
                found += passed
            rows, columns = rows[:found].copy(), columns[:found].copy()
            scores = np.empty(found, np.float64)
            for k in range(found):
                common = np.uint64(0)
                for w in range(words):
                    common += _popcount(left[rows[k], w] & right[columns[k], w])
                scores[k] = 2.0 * common / (left_counts[rows[k]] + right_counts[columns[k]])
            return rows, columns, scores

        return dice_rows


def compiled() -> bool:
    """Whether the compiled (numba) kernel is in use."""
    return njit is not None


def dice_scores(left: np.ndarray, right: np.ndarray, threshold: float,
                threads: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair (i, j) of a row of `left` and a row of `right` whose Dice coefficient is
    at least `threshold`: the arrays of i, of j and of the coefficients. Both arrays are
    uint64 filters of one width. `threads`: how many threads share the rows (all cores
    unless told; 1 for a figure per core)."""
    left = np.ascontiguousarray(left, dtype=np.uint64)
    right = np.ascontiguousarray(right, dtype=np.uint64)
    if left.ndim != 2 or right.ndim != 2 or left.shape[1] != right.shape[1]:
        raise ValueError(f"filters of different shapes: {left.shape} and {right.shape}")
    if not len(left) or not len(right):
        return _empty()
    left_counts, right_counts = popcounts(left), popcounts(right)
    kernel = _dice_rows_for(left.shape[1]) if njit is not None else _dice_numpy
    threads = threads or os.cpu_count() or 1
    # Blocks of `right` of about 256 KB, so that they stay in a core's L2 cache.
    block = max(1, _CACHE_BYTES // (8 * right.shape[1]))
    tasks = [(start, min(start + _ROWS_PER_TASK, len(left)), first)
             for first in range(0, len(right), block)
             for start in range(0, len(left), _ROWS_PER_TASK)]

    def run(task):
        start, stop, first = task
        rows, columns, scores = kernel(left, right[first:first + block], left_counts,
                                       right_counts[first:first + block], float(threshold),
                                       start, stop)
        return rows, columns + first, scores

    if threads == 1 or len(tasks) == 1:
        parts = [run(task) for task in tasks]
    else:
        with ThreadPoolExecutor(threads) as pool:
            parts = list(pool.map(run, tasks))
    rows, columns, scores = (np.concatenate([part[index] for part in parts]) for index in range(3))
    # Two empty filters pass every threshold (0 ≥ 0) with no coefficient at all: drop them.
    kept = np.isfinite(scores)
    return rows[kept], columns[kept], scores[kept]
