"""Warp collective cases.  See cases.py for how references are chosen."""

import numpy as np

from harness import CASES, Buf, Exact, Holds, case, u32
from operands import SENTINEL


# ---------------------------------------------------------------------------
# Warp collectives (shfl.sync 9.7.9.6; vote/match/redux/elect 9.7.13.9-14)
# ---------------------------------------------------------------------------


def _lanes_in(mask):
    return [lane for lane in range(32) if (mask >> lane) & 1]


def shfl_case(cid, mode, c, mask=0xFFFFFFFF, b=None):
    """Two warps; b is a constant, or None for a random b per lane with junk
    above bits [4:0] (which must be ignored).  With a partial membermask, idx
    sources are drawn from the mask: reading a lane outside it is undefined."""
    def args(rng):
        val = rng.integers(0, 1 << 32, 64, dtype=np.uint64).astype(np.uint32)
        if b is not None:
            bb = np.full(64, b, np.uint32)
        elif mode == "idx" and mask != 0xFFFFFFFF:
            bb = rng.choice(_lanes_in(mask), 64) + 32 * rng.integers(0, 2, 64)
        else:
            bb = rng.integers(0, 64, 64)
        return [Buf("val", val), Buf("b", bb.astype(np.uint32)), u32(c), u32(mask),
                Buf("d", np.full(64, SENTINEL, np.uint32)), Buf("p", np.full(64, SENTINEL, np.uint32))]

    def ref(x):
        d = np.full(64, SENTINEL, np.uint32)
        p = np.full(64, SENTINEL, np.uint32)
        cval, seg = c & 31, (c >> 8) & 31
        for t in range(64):
            lane, base = t % 32, t - t % 32
            if not (mask >> lane) & 1:
                continue
            bval = int(x["b"][t]) & 31
            max_lane = (lane & seg) | (cval & ~seg & 31)
            min_lane = lane & seg
            j = {"up": lane - bval, "down": lane + bval, "bfly": lane ^ bval,
                 "idx": min_lane | (bval & ~seg & 31)}[mode]
            ok = j >= max_lane if mode == "up" else j <= max_lane
            assert not ok or (mask >> j) & 1, "case would read a lane outside membermask"
            d[t] = x["val"][base + (j if ok else lane)]
            p[t] = int(ok)
        return {"d": Exact(d), "p": Exact(p)}

    case(cid, "warp.cu", f"shfl_{mode}", (1,), (64,), args, ref, seed=len(CASES))


shfl_case("shfl_up_width8", "up", (32 - 8) << 8, b=3)
shfl_case("shfl_up_clamp3", "up", 0x0003, b=2)
shfl_case("shfl_down_width16", "down", ((32 - 16) << 8) | 0x1F, b=5)
shfl_case("shfl_down_b33", "down", 0x1F, b=33)
shfl_case("shfl_bfly_per_lane_b", "bfly", 0x1F)
shfl_case("shfl_bfly_half_warp_mask", "bfly", ((32 - 16) << 8) | 0x1F, mask=0x0000FFFF, b=None)
shfl_case("shfl_idx_width8", "idx", ((32 - 8) << 8) | 0x1F)
shfl_case("shfl_idx_odd_segmask_clamp", "idx", 0x0C05)
shfl_case("shfl_idx_partial_mask", "idx", 0x1F, mask=0xF0F0F0F0)


def vote_case(cid, mask, all_true=False):
    def args(rng):
        pred = np.ones(64, np.int32) if all_true else rng.integers(0, 2, 64).astype(np.int32)
        pred[32:40] = 1  # warp 1's first lanes agree, so some reductions are true
        return [Buf("pred", pred), u32(mask), Buf("out", np.full(256, SENTINEL, np.uint32))]

    def ref(x):
        out = np.full((64, 4), SENTINEL, np.uint32)
        for w in range(2):
            lanes = _lanes_in(mask)
            vals = [bool(x["pred"][32 * w + lane]) for lane in lanes]
            ballot = sum(1 << lane for lane, v in zip(lanes, vals) if v)
            for lane in lanes:
                out[32 * w + lane] = [all(vals), any(vals), len(set(vals)) == 1, ballot]
        return {"out": Exact(out.reshape(-1))}

    case(cid, "warp.cu", "vote", (1,), (64,), args, ref, seed=len(CASES))


vote_case("vote_full_mask", 0xFFFFFFFF)
vote_case("vote_partial_mask", 0x0F0F00FF)
vote_case("vote_partial_mask_uniform", 0x00FF00FF, all_true=True)


def redux_case(cid, mask, small=False):
    def args(rng):
        val = (rng.integers(-50, 50, 64) if small else
               rng.integers(0, 1 << 32, 64, dtype=np.uint64)).astype(np.int64).astype(np.uint32)
        return [Buf("val", val), u32(mask), Buf("out", np.full(64 * 8, SENTINEL, np.uint32))]

    def ref(x):
        out = np.full((64, 8), SENTINEL, np.uint32)
        for w in range(2):
            lanes = _lanes_in(mask)
            u = [int(x["val"][32 * w + lane]) for lane in lanes]
            s = [v - (1 << 32) if v >> 31 else v for v in u]
            r = [sum(u) & 0xFFFFFFFF, min(u), max(u), min(s) & 0xFFFFFFFF, max(s) & 0xFFFFFFFF,
                 np.bitwise_and.reduce(u), np.bitwise_or.reduce(u), np.bitwise_xor.reduce(u)]
            for lane in lanes:
                out[32 * w + lane] = r
        return {"out": Exact(out.reshape(-1))}

    case(cid, "warp.cu", "redux", (1,), (64,), args, ref, seed=len(CASES))


redux_case("redux_full_mask", 0xFFFFFFFF)
redux_case("redux_partial_mask_signed", 0x3C3C3C3C, small=True)


def match_case(cid, mask, uniform=False):
    def args(rng):
        k = rng.integers(0, 1 if uniform else 4, 64).astype(np.uint64)
        v32 = (k * 0x01010101).astype(np.uint32)
        # Equal low words, different high words for some lanes: .b64 compares all 64 bits.
        v64 = (k * 0x00010001) | (rng.integers(0, 1 if uniform else 2, 64).astype(np.uint64) << 40)
        return [Buf("v32", v32), Buf("v64", v64), u32(mask),
                Buf("out", np.full(64 * 6, SENTINEL, np.uint32))]

    def ref(x):
        out = np.full((64, 6), SENTINEL, np.uint32)
        for w in range(2):
            lanes = _lanes_in(mask)
            for lane in lanes:
                row = []
                for v in (x["v32"], x["v64"]):
                    mine = v[32 * w + lane]
                    any_mask = sum(1 << m for m in lanes if v[32 * w + m] == mine)
                    same = all(v[32 * w + m] == mine for m in lanes)
                    row += [any_mask, mask if same else 0, int(same)]
                out[32 * w + lane] = row
        return {"out": Exact(out.reshape(-1))}

    case(cid, "warp.cu", "match", (1,), (64,), args, ref, seed=len(CASES))


match_case("match_any_all_full_mask", 0xFFFFFFFF)
match_case("match_any_all_partial_mask", 0x7F00FF01)
match_case("match_all_uniform", 0x00FFFF00, uniform=True)


def elect_case(cid, mask):
    """9.7.13.14 fixes only that one lane of membermask is elected, that every
    participant gets its lane id in d, that p is set in the leader alone, and
    that the choice is the same every time."""
    def args(rng):
        return [u32(mask), Buf("out", np.full(256, SENTINEL, np.uint32))]

    def check(got):
        got = got.reshape(64, 4)
        problems = []
        lanes = _lanes_in(mask)
        for w in range(2):
            rows = got[32 * w:32 * w + 32]
            leader = int(rows[lanes[0], 0])
            if leader not in lanes:
                problems.append(f"warp {w}: elected lane {leader} is not in membermask")
            for lane in range(32):
                want = ([leader, int(lane == leader), leader, int(lane == leader)]
                        if lane in lanes else [SENTINEL] * 4)
                if list(rows[lane]) != want:
                    problems.append(f"warp {w} lane {lane}: got {list(map(int, rows[lane]))}, "
                                    f"want {want}")
        return problems

    case(cid, "warp.cu", "elect", (1,), (64,), args, lambda x: {"out": Holds(check)})


elect_case("elect_full_mask", 0xFFFFFFFF)
elect_case("elect_partial_mask", 0x0FF0F000)
