"""MLA decode against numpy: on the CPU backend at small shapes (CI), and on
a GPU at FlashMLA's shapes when one is present. Covers ragged lengths,
zero-length and one-token sequences, pages in any order, s_q = 2, and NaN
in cache slots past each sequence's end (it must not reach the results)."""
import os
import sys

import ml_dtypes
import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mla_decode_reference as ref  # noqa: E402
from mla_decode import mla_combine, mla_decode, mla_decode_split  # noqa: E402

BF16 = ml_dtypes.bfloat16


def make_cache(rng, seqlens, s_q, h_q, spare_pages=2):
    b = len(seqlens)
    pages = [(n + ref.PAGE - 1) // ref.PAGE for n in seqlens]
    max_blocks = max(max(pages), 1)
    num_blocks = sum(pages) + spare_pages
    # Pages handed out in a shuffled order, as an allocator would.
    order = rng.permutation(num_blocks).astype(np.int32)
    block_table = np.zeros((b, max_blocks), np.int32)
    at = 0
    for i, p in enumerate(pages):
        block_table[i, :p] = order[at:at + p]
        at += p
    kv = rng.standard_normal((num_blocks, ref.PAGE, 1, ref.D)).astype(np.float32)
    # Every slot no sequence owns holds NaN.
    owned = np.zeros((num_blocks, ref.PAGE), bool)
    for i, n in enumerate(seqlens):
        for t in range(n):
            owned[block_table[i, t // ref.PAGE], t % ref.PAGE] = True
    kv[~owned] = np.nan
    q = rng.standard_normal((b, s_q, h_q, ref.D)).astype(np.float32)
    return (q.astype(BF16), kv.astype(BF16), block_table,
            np.array(seqlens, np.int32), num_blocks, max_blocks)


def check(out, lse, want_out, want_lse):
    """FlashMLA's tolerances (REFERENCES.md) but one: out within 2e-3 (not
    8e-4) + 2/128 of its size, and a cosine-style difference below 5e-6;
    lse within 1e-6 (plus 1e-6 of its size: fp32 holds an lse of ~10 to
    1e-6). P is rounded to bf16 before P.V, as FlashMLA does, and the
    float64 reference does not round it: on these inputs that alone moves
    a few outputs in 10^4 by up to ~1e-3."""
    np.testing.assert_allclose(out, want_out, rtol=2 / 128, atol=2e-3)
    x, y = out.astype(np.float64), want_out
    denominator = (x * x + y * y).sum()
    if denominator:
        assert 1 - 2 * (x * y).sum() / denominator < 5e-6
    finite = np.isfinite(want_lse)
    assert (np.isneginf(lse) == ~finite).all()
    np.testing.assert_allclose(lse[finite], want_lse[finite], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("seqlens,s_q,h_q", [
    ([130, 64, 1, 0], 1, 16),      # ragged: partial page, whole page, one token, empty
    ([200, 65], 2, 16),            # two speculative tokens, causal between them
    ([100], 1, 64),                # a full block of 64 heads
    ([70, 3], 4, 1),               # one head, four tokens (one of them sees no key)
])
def test_mla_decode(seqlens, s_q, h_q):
    rng = np.random.default_rng(sum(seqlens) + s_q + h_q)
    q, kv, table, lens, num_blocks, max_blocks = make_cache(rng, seqlens, s_q, h_q)
    out, lse = mla_decode(len(seqlens), s_q, h_q, num_blocks, max_blocks)(q, kv, table, lens)
    want_out, want_lse = ref.mla_decode(q.astype(np.float32), kv.astype(np.float32), table, lens)
    out = out.astype(np.float32)
    assert np.isfinite(out).all() and not np.isnan(lse).any()
    check(out, lse, want_out, want_lse)
    for i, n in enumerate(seqlens):
        if n == 0:
            assert (out[i] == 0).all() and np.isneginf(lse[i]).all()


@pytest.mark.parametrize("num_splits", [2, 3])
def test_mla_decode_split_and_combine(num_splits):
    # Four pages, one page, one token and none: some splits get no pages
    # (their lse is -inf and they must not count).
    seqlens, s_q, h_q = [250, 64, 1, 0], 1, 16
    rng = np.random.default_rng(num_splits)
    q, kv, table, lens, num_blocks, max_blocks = make_cache(rng, seqlens, s_q, h_q)
    b = len(seqlens)
    o_part, lse_part = mla_decode_split(b, s_q, h_q, num_blocks, max_blocks, num_splits)(
        q, kv, table, lens)
    assert np.isneginf(lse_part[3]).all() and (o_part[3] == 0).all()
    out, lse = mla_combine(b, s_q, h_q, num_splits)(o_part, lse_part)
    want_out, want_lse = ref.mla_decode(q.astype(np.float32), kv.astype(np.float32), table, lens)
    check(out.astype(np.float32), lse, want_out, want_lse)


def has_gpu():
    try:
        import torch
        return torch.cuda.is_available()
    except ImportError:
        return False


@pytest.mark.gpu
@pytest.mark.skipif(not has_gpu(), reason="needs torch with a CUDA GPU")
@pytest.mark.parametrize("seqlen", [4096, 8192])
@pytest.mark.parametrize("s_q,h_q", [(1, 128), (2, 64)])
def test_mla_decode_on_gpu(seqlen, s_q, h_q):
    import tessel
    import torch

    rng = np.random.default_rng(0)
    seqlens = [seqlen - 17 * i for i in range(8)]
    q, kv, table, lens, num_blocks, max_blocks = make_cache(rng, seqlens, s_q, h_q)
    kernel = tessel.jit(out_idx=[-2, -1], target="cuda")(mla_decode.fn)(
        len(seqlens), s_q, h_q, num_blocks, max_blocks)
    as_torch = lambda x: torch.from_numpy(np.ascontiguousarray(x).view(np.int16)).view(
        torch.bfloat16).cuda() if x.dtype == BF16 else torch.from_numpy(x).cuda()
    out, lse = kernel(as_torch(q), as_torch(kv), as_torch(table), as_torch(lens))
    want_out, want_lse = ref.mla_decode(q.astype(np.float32), kv.astype(np.float32), table, lens)
    check(out.float().cpu().numpy(), lse.cpu().numpy(), want_out, want_lse)
