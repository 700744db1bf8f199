"""DeepSeek V3.2 sparse attention against numpy: the indexer (fp8 q and k,
per-token k scales, causal and ragged ranges), the top-k selector (ties,
-inf, rows with fewer than k candidates) and sparse MLA (-1 and
out-of-range indices, a query with none), on the CPU backend (CI) and at
real shapes on a GPU when one is present."""
import os
import sys

import ml_dtypes
import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sparse_attention_reference as ref  # noqa: E402
from sparse_attention import indexer, sparse_mla, sparse_mla_decode_fp8, topk  # noqa: E402

E4M3 = ml_dtypes.float8_e4m3fn
BF16 = ml_dtypes.bfloat16


def indexer_inputs(rng, seq, seq_kv, causal):
    q = (rng.standard_normal((seq, 64, 128)) * 0.5).astype(E4M3)
    k = (rng.standard_normal((seq_kv, 128)) * 0.5).astype(E4M3)
    k_scale = rng.uniform(0.5, 2.0, seq_kv).astype(np.float32)
    weights = rng.standard_normal((seq, 64)).astype(np.float32)
    if causal:  # query i is token seq_kv - seq + i
        ks = np.zeros(seq, np.int32)
        ke = (seq_kv - seq + 1 + np.arange(seq)).astype(np.int32)
    else:  # ragged: each query its own window
        ks = rng.integers(0, seq_kv // 2, seq).astype(np.int32)
        ke = (ks + rng.integers(0, seq_kv // 2, seq)).astype(np.int32)
    return q, k, k_scale, weights, ks, ke


@pytest.mark.parametrize("seq,seq_kv,causal", [(4, 300, True), (3, 256, False)])
def test_indexer(seq, seq_kv, causal):
    rng = np.random.default_rng(seq + seq_kv)
    args = indexer_inputs(rng, seq, seq_kv, causal)
    logits = indexer(seq, seq_kv)(*args)
    want = ref.indexer(*args)
    assert (np.isneginf(logits) == np.isneginf(want)).all()
    finite = np.isfinite(want)
    np.testing.assert_allclose(logits[finite], want[finite], rtol=1e-4,
                               atol=1e-4 * np.abs(want[finite]).max())


@pytest.mark.parametrize("seq_kv,k", [(3000, 64), (100, 128), (2500, 700)])
def test_topk(seq_kv, k):
    rng = np.random.default_rng(seq_kv + k)
    logits = rng.standard_normal((6, seq_kv)).astype(np.float32)
    logits[0, rng.choice(seq_kv, seq_kv // 2, replace=False)] = -np.inf   # masked
    logits[1, :] = 1.5                                                   # all tied
    logits[2, 10:] = -np.inf                                             # fewer than k
    logits[3] = -np.abs(logits[3])                                       # all negative
    logits[4, :] = -np.inf                                               # none
    logits[5] = rng.integers(-3, 3, seq_kv)          # ties at the threshold in every chunk
    got = topk(6, seq_kv, k)(logits)
    want = ref.topk(logits, k)
    for row in range(6):
        chosen = got[row][got[row] >= 0]
        assert len(set(chosen.tolist())) == len(chosen), "an index twice"
        np.testing.assert_array_equal(np.sort(chosen), want[row][want[row] >= 0])
        assert (got[row][len(chosen):] == -1).all()


def mla_inputs(rng, s_q, h_q, s_kv, k):
    q = rng.standard_normal((s_q, h_q, ref.D)).astype(BF16)
    kv = rng.standard_normal((s_kv, 1, ref.D)).astype(BF16)
    indices = np.stack([rng.choice(s_kv, k, replace=False) for _ in range(s_q)]).astype(np.int32)
    indices = indices[:, None, :]
    indices[0, 0, ::3] = -1            # none
    indices[1, 0, 5] = s_kv + 7        # out of range: ignored
    indices[2, 0, :] = -1              # a query with no token at all
    return q, kv, indices


@pytest.mark.parametrize("h_q,k", [(16, 100), (64, 128)])
def test_sparse_mla(h_q, k):
    rng = np.random.default_rng(h_q + k)
    s_q, s_kv = 4, 500
    q, kv, indices = mla_inputs(rng, s_q, h_q, s_kv, k)
    out, lse = sparse_mla(s_q, h_q, s_kv, k)(q, kv, indices)
    want_out, want_lse = ref.sparse_mla(q.astype(np.float32), kv.astype(np.float32), indices)
    out = out.astype(np.float32)
    np.testing.assert_allclose(out, want_out, rtol=2 / 128, atol=2e-3)
    assert (out[2] == 0).all() and np.isneginf(lse[2]).all()
    finite = np.isfinite(want_lse)
    np.testing.assert_allclose(lse[finite], want_lse[finite], rtol=1e-5, atol=1e-5)


def test_sparse_mla_decode_fp8():
    rng = np.random.default_rng(7)
    b, s_q, h_q, tokens, k = 2, 2, 16, 400, 96
    kv = rng.standard_normal((tokens, ref.D)).astype(BF16)
    nope, scale, rope = ref.quantize_cache(kv.astype(np.float32))
    rope = rope.astype(BF16)
    q = rng.standard_normal((b, s_q, h_q, ref.D)).astype(BF16)
    indices = np.stack([np.stack([rng.choice(tokens, k, replace=False) for _ in range(s_q)])
                        for _ in range(b)]).astype(np.int32)
    indices[0, 1, ::4] = -1
    indices[1, 0, :] = -1
    out, lse = sparse_mla_decode_fp8(b, s_q, h_q, tokens, k)(q, nope, scale, rope, indices)
    want_out, want_lse = ref.sparse_mla_decode(q.astype(np.float32), nope, scale, rope, indices)
    np.testing.assert_allclose(out.astype(np.float32), want_out, rtol=2 / 128, atol=3e-3)
    assert (out[1, 0].astype(np.float32) == 0).all() and np.isneginf(lse[1, 0]).all()
    finite = np.isfinite(want_lse)
    np.testing.assert_allclose(lse[finite], want_lse[finite], rtol=1e-4, atol=1e-4)


def has_gpu():
    try:
        import torch
        return torch.cuda.is_available()
    except ImportError:
        return False


gpu = pytest.mark.skipif(not has_gpu(), reason="needs torch with a CUDA GPU")


def _torch(x):
    import torch
    if x.dtype == E4M3:
        return torch.from_numpy(np.ascontiguousarray(x).view(np.uint8)).cuda().view(
            torch.float8_e4m3fn)
    if x.dtype == BF16:
        return torch.from_numpy(np.ascontiguousarray(x).view(np.int16)).cuda().view(torch.bfloat16)
    return torch.from_numpy(np.ascontiguousarray(x)).cuda()


@pytest.mark.gpu
@gpu
def test_indexer_on_gpu():
    # A prefill chunk of 512 queries over 8k keys, causal.
    import tessel
    import torch
    rng = np.random.default_rng(0)
    args = indexer_inputs(rng, 512, 8192, causal=True)
    kernel = tessel.jit(out_idx=[-1], target="cuda")(indexer.fn)(512, 8192)
    logits = kernel(*[_torch(a) for a in args]).cpu().numpy()
    q, k, k_scale, w, ks, ke = (_torch(a) for a in args)
    dots = torch.einsum("ihd,td->iht", q.float(), k.float()) * k_scale[None, None, :]
    want = (dots.relu() * w[:, :, None]).sum(1)
    t = torch.arange(8192, device="cuda")[None, :]
    want = torch.where((t >= ks[:, None]) & (t < ke[:, None]), want, -torch.inf).cpu().numpy()
    finite = np.isfinite(want)
    assert (np.isfinite(logits) == finite).all()
    np.testing.assert_allclose(logits[finite], want[finite], rtol=1e-3,
                               atol=1e-3 * np.abs(want[finite]).max())


@pytest.mark.gpu
@gpu
def test_topk_on_gpu():
    import tessel
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((8, 131072)).astype(np.float32)
    logits[0, 5000:] = -np.inf
    kernel = tessel.jit(out_idx=[-1], target="cuda")(topk.fn)(8, 131072, 2048)
    got = kernel(_torch(logits)).cpu().numpy()
    want = ref.topk(logits, 2048)
    for row in range(8):
        np.testing.assert_array_equal(np.sort(got[row][got[row] >= 0]), want[row][want[row] >= 0])


@pytest.mark.gpu
@gpu
def test_sparse_mla_on_gpu():
    import tessel
    rng = np.random.default_rng(2)
    s_q, h_q, s_kv, k = 256, 128, 8192, 2048
    q, kv, indices = mla_inputs(rng, s_q, h_q, s_kv, k)
    kernel = tessel.jit(out_idx=[-2, -1], target="cuda")(sparse_mla.fn)(s_q, h_q, s_kv, k)
    out, lse = kernel(_torch(q), _torch(kv), _torch(indices))
    want_out, want_lse = ref.sparse_mla(q.astype(np.float32), kv.astype(np.float32), indices)
    np.testing.assert_allclose(out.float().cpu().numpy(), want_out, rtol=2 / 128, atol=2e-3)
    finite = np.isfinite(want_lse)
    np.testing.assert_allclose(lse.cpu().numpy()[finite], want_lse[finite], rtol=1e-4, atol=1e-4)
