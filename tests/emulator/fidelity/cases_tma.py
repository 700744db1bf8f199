"""TMA cases: tensor and plain bulk copies.  See cases.py for how references
are chosen."""

import numpy as np

from harness import Buf, Close, Exact, TMap, case, i32
import isa_ref as R


# ---------------------------------------------------------------------------
# TMA: cp.async.bulk.tensor and cp.async.bulk (9.7.9.25.4-6, tensors 5.5)
# ---------------------------------------------------------------------------

def _tensor_data(rng, dtype, nbytes):
    """Random finite values (floats) or random integers filling nbytes."""
    n = nbytes // np.dtype(dtype).itemsize
    if np.dtype(dtype).kind == "f":
        return rng.normal(0, 4, n).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, n, endpoint=True, dtype=dtype)


def _tensor_bytes(dims, strides, esize):
    return (strides[-1] * dims[-1]) if strides else dims[0] * esize


def tma_load_case(cid, dtype, dims, strides, box, coords, swizzle=0, elem_strides=None,
                  oob_nan=False, kernel=None):
    rank = len(dims)
    esize = np.dtype(dtype).itemsize
    counts = [-(-box[d] // (elem_strides or [1] * rank)[d]) for d in range(rank)]
    nbytes = int(np.prod(counts)) * esize
    kernel = kernel or f"tma_load_{rank}d"

    def args(rng):
        t = _tensor_data(rng, dtype, _tensor_bytes(dims, strides, esize))
        c = list(coords) + [0] * (5 - rank)
        tail = [i32(v) for v in c] if kernel != "tma_load_2d_cta" else [i32(c[0]), i32(c[1])]
        return [TMap("T", dtype, dims, strides, box, swizzle, elem_strides, oob_nan),
                Buf("out", np.full(nbytes, 0xAB, np.uint8)), *tail, i32(nbytes),
                Buf("T", t, param=False)]

    def ref(x):
        values, inside = R.tensor_box(x["T"], esize, dims, strides, coords, box, elem_strides)
        if oob_nan:
            # 5.5.3.3: OOB-NaN fill; the NaN's bit pattern is not specified.
            want = values.view(dtype).astype(np.float64)
            want[~inside] = np.nan
            return {"out": Close(want, 0.0, view=dtype)}
        return {"out": Exact(R.swizzle_image(values, swizzle))}

    case(cid, "tma.cu", kernel, (1,), (128,), args, ref, shared=1024 + nbytes)


# Boxes partly outside the tensor (negative coordinates and past the end).
tma_load_case("tma_1d_negative", np.float32, [100], [], [32], [-8])
tma_load_case("tma_1d_past_end", np.float32, [100], [], [32], [80])
tma_load_case("tma_2d_oob", np.float16, [40, 30], [96], [16, 8], [-4, 25])
tma_load_case("tma_2d_shared_cta", np.float16, [40, 30], [96], [16, 8], [20, -3],
              kernel="tma_load_2d_cta")
tma_load_case("tma_3d_oob", np.uint16, [24, 10, 6], [64, 768], [8, 4, 4], [20, -2, 3])
tma_load_case("tma_4d_oob", np.float32, [8, 5, 4, 3], [32, 160, 640], [4, 4, 2, 2], [6, 3, -1, 2])
tma_load_case("tma_5d_oob", np.uint8, [32, 3, 4, 3, 2], [32, 96, 384, 1152],
              [16, 2, 2, 2, 2], [24, 2, 3, -1, 1])
# Swizzled boxes whose inner extent is the swizzle span.
tma_load_case("tma_2d_sw32", np.float16, [40, 24], [80], [16, 16], [8, 4], swizzle=32)
tma_load_case("tma_2d_sw64_oob", np.uint16, [64, 24], [128], [32, 16], [16, -3], swizzle=64)
tma_load_case("tma_2d_sw128_oob", np.float16, [80, 40], [160], [64, 16], [24, 30], swizzle=128)
tma_load_case("tma_2d_sw128_f32", np.float32, [48, 20], [192], [32, 8], [0, 4], swizzle=128)
tma_load_case("tma_3d_sw128", np.uint8, [128, 6, 3], [128, 768], [128, 4, 2], [0, 3, 1],
              swizzle=128)
# Traversal stride 2 along dim 1: ceil(8/2) = 4 rows, every other one (5.5.3.2).
tma_load_case("tma_2d_elem_stride", np.float32, [32, 20], [128], [8, 8], [4, 10],
              elem_strides=[1, 2])
# A 64 KB box: dynamic shared memory above 48 KB needs cuFuncSetAttribute.
tma_load_case("tma_2d_64KB_box", np.uint8, [300, 280], [304], [256, 256], [60, -16])
tma_load_case("tma_2d_oob_nan_fill", np.float32, [20, 10], [80], [8, 8], [16, 6], oob_nan=True)


def _tma_phases_case():
    dims, strides, box, iters = [60, 8], [128], [8, 8], 8
    nbytes = 8 * 8 * 2

    def args(rng):
        t = _tensor_data(rng, np.float16, 128 * 8)
        return [TMap("T", np.float16, dims, strides, box), Buf("out", np.zeros(iters * nbytes, np.uint8)),
                i32(iters), i32(nbytes), Buf("T", t, param=False)]

    def ref(x):
        boxes = [R.tensor_box(x["T"], 2, dims, strides, [8 * i, 0], box)[0] for i in range(iters)]
        return {"out": Exact(np.concatenate([b.reshape(-1).view(np.uint8) for b in boxes]))}

    case("tma_mbarrier_phases", "tma.cu", "tma_phases", (1,), (128,), args, ref,
         shared=1024 + nbytes)


_tma_phases_case()


def tma_store_case(cid, dtype, dims, strides, box, coords, swizzle=0):
    """5.4/9.7.9.25.5.2: a store writes only the box elements inside the
    tensor; coordinates are non-negative (9.7.9.25.5.1)."""
    esize = np.dtype(dtype).itemsize
    nbytes = int(np.prod(box)) * esize

    def args(rng):
        t = _tensor_data(rng, dtype, _tensor_bytes(dims, strides, esize))
        box_vals = _tensor_data(rng, dtype, nbytes)
        return [TMap("T", dtype, dims, strides, box, swizzle),
                Buf("image", R.swizzle_image(box_vals, swizzle)), i32(coords[0]), i32(coords[1]),
                i32(nbytes), Buf("T", t, param=False), Buf("box", box_vals, param=False)]

    def ref(x):
        want = x["T"].copy().view(np.uint8)
        vals = x["box"].view(np.uint8).reshape(box[1], box[0] * esize)
        for j1 in range(box[1]):
            for j0 in range(box[0]):
                c0, c1 = coords[0] + j0, coords[1] + j1
                if c0 < dims[0] and c1 < dims[1]:
                    at = c1 * strides[0] + c0 * esize
                    want[at:at + esize] = vals[j1, j0 * esize:(j0 + 1) * esize]
        return {"T": Exact(want.view(dtype))}

    case(cid, "tma.cu", "tma_store_2d", (1,), (128,), args, ref, shared=1024 + nbytes)


tma_store_case("tma_store_2d_oob", np.float32, [20, 12], [96], [8, 8], [16, 8])
tma_store_case("tma_store_2d_sw128_oob", np.float16, [72, 20], [160], [64, 8], [8, 16],
               swizzle=128)


def _bulk_copy_case():
    def args(rng):
        src = rng.integers(0, 256, 2048, dtype=np.uint8)
        return [Buf("src", src), Buf("out", np.full(2048, 0xAB, np.uint8)),
                Buf("dst", np.full(512, 0xCD, np.uint8))]

    def ref(x):
        src = x["src"]
        smem = np.zeros(2048, np.uint8)
        smem[0:48] = src[0:48]
        smem[256:512] = src[64:320]
        smem[1024:1536] = src[1024:1536]
        dst = np.full(512, 0xCD, np.uint8)
        dst[16:272] = smem[256:512]
        return {"out": Exact(smem), "dst": Exact(dst)}

    case("bulk_copy_g2s_s2g", "tma.cu", "bulk_copy", (1,), (128,), args, ref, shared=1024 + 2048)


_bulk_copy_case()
