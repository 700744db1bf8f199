"""Barrier, cp.async and setmaxnreg cases.  See cases.py for how references are
chosen."""

import numpy as np

from harness import Buf, Exact, case, i32
from operands import SENTINEL


# ---------------------------------------------------------------------------
# mbarrier and named barriers (9.7.13.15, 9.7.13.1)
# ---------------------------------------------------------------------------

def _mbar_counts_case():
    def args(rng):
        return [Buf("in", rng.integers(-1000, 1000, 32).astype(np.int32)),
                Buf("seen", np.zeros(32, np.int32)), Buf("seen2", np.zeros(64, np.int32))]

    def ref(x):
        tid = np.arange(64, 128)
        return {"seen": Exact(x["in"] * 3 + 1),
                "seen2": Exact((x["in"][tid % 32] - tid).astype(np.int32))}

    case("mbarrier_arrive_counts_and_state_waits", "barriers.cu", "mbar_counts", (1,), (128,),
         args, ref)


def _mbar_test_wait_case():
    case("mbarrier_test_wait_nonblocking", "barriers.cu", "mbar_test_wait", (1,), (128,),
         lambda rng: [Buf("obs", np.full(128, SENTINEL, np.uint32))],
         lambda x: {"obs": Exact(np.full(128, 0b010110, np.uint32))})


def _mbar_tx_case():
    case("mbarrier_expect_tx_complete_tx", "barriers.cu", "mbar_tx", (1,), (32,),
         lambda rng: [Buf("obs", np.full(5, SENTINEL, np.uint32))],
         lambda x: {"obs": Exact(np.array([0, 0, 0, 0, 1], np.uint32))})


def _named_barriers_case():
    rounds = 4

    def args(rng):
        return [Buf("in", rng.integers(-1000, 1000, rounds * 128).astype(np.int32)),
                Buf("out", np.zeros(rounds * 128, np.int32)),
                Buf("acks", np.zeros(rounds * 128, np.int32)), i32(rounds)]

    def ref(x):
        data = x["in"].reshape(rounds, 128) * 2 + np.arange(rounds)[:, None]
        out = np.roll(data, -5, axis=1)
        return {"out": Exact(out.reshape(-1).astype(np.int32)),
                "acks": Exact((out + 1).reshape(-1).astype(np.int32))}

    case("bar_arrive_sync_producer_consumer", "barriers.cu", "named_barriers", (1,), (256,),
         args, ref)


def _barrier_subsets_case():
    def args(rng):
        return [Buf("in", rng.integers(-1000, 1000, 128).astype(np.int32)),
                Buf("out", np.zeros(128, np.int32))]

    case("bar_sync_warp_pair_subsets", "barriers.cu", "barrier_subsets", (1,), (128,), args,
         lambda x: {"out": Exact(x["in"][np.arange(128) ^ 32])})


def _barrier_red_case():
    def ref(x):
        pos = x["in"] > 0
        return {"red": Exact(np.tile([pos.sum(), pos.all(), pos.any()], 128).astype(np.uint32))}

    case("bar_red_popc_and_or", "barriers.cu", "barrier_red", (1,), (128,),
         lambda rng: [Buf("in", rng.integers(-5, 5, 128).astype(np.int32)),
                      Buf("red", np.full(384, SENTINEL, np.uint32))], ref)


_mbar_counts_case()
_mbar_test_wait_case()
_mbar_tx_case()
_named_barriers_case()
_barrier_subsets_case()
_barrier_red_case()


# ---------------------------------------------------------------------------
# cp.async zero fill (9.7.9.25.3) and setmaxnreg (9.7.19.5)
# ---------------------------------------------------------------------------

def _cp_async_case():
    def args(rng):
        return [Buf("src", rng.integers(0, 256, 3584, dtype=np.uint8)),
                Buf("out", np.zeros(3584, np.uint8))]

    def ref(x):
        src, want = x["src"], np.zeros(3584, np.uint8)
        for t in range(128):
            want[16 * t:16 * t + t % 16] = src[16 * t:16 * t + t % 16]
            want[2048 + 8 * t:2048 + 8 * t + t % 8] = src[2048 + 8 * t:2048 + 8 * t + t % 8]
            if t % 3:
                want[3072 + 4 * t:3076 + 4 * t] = src[3072 + 4 * t:3076 + 4 * t]
        return {"out": Exact(want)}

    case("cp_async_zero_fill_groups", "cp_async.cu", "cp_async_zfill", (1,), (128,), args, ref)


def _setmaxnreg_case():
    def args(rng):
        return [Buf("in", rng.integers(-4, 5, 128).astype(np.float32)),
                Buf("out", np.zeros(128, np.float32))]

    def ref(x):
        v = x["in"].astype(np.float64)
        c = np.arange(128)
        acc = sum(v[(c + k) % 128] * (k + 1) for k in range(64))
        return {"out": Exact((2 * v + acc).astype(np.float32))}

    case("setmaxnreg_dec_inc_two_warpgroups", "setmaxnreg.cu", "setmaxnreg_roles", (1,), (256,),
         args, ref)


_cp_async_case()
_setmaxnreg_case()
