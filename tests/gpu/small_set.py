"""The small-shape GPU check: every kind of kernel Tessel emits, at shapes
that run in seconds, compiled and run on the emulator here, then run on a
GPU and compared with what the emulator gave.

    python3 tests/gpu/small_set.py prepare DIR   # here: tesselc, inputs, emulator run
    python3 tests/gpu/small_set.py check DIR     # on a GPU (or here): run, compare

`prepare` (needs Tessel's build, numpy and ml_dtypes) writes per kernel NAME:
NAME.ptx, NAME.cubin (when ptxas is present), NAME.json, NAME.inputs.npz (the
arguments as raw bytes) and NAME.emulator.npz (every tensor the kernel wrote,
on the emulator). `check` needs numpy and the runtime only (no compiler, no
ml_dtypes): it runs each kernel on the driver the runtime opens
($TESSEL_CUDA_DRIVER: libcuda.so.1 by default, "emu" for the emulator; the
cubin on a GPU, the PTX on the emulator), compares every written tensor
with the emulator's (infinities and NaNs where they are, values within the
kernel's tolerance, integers exactly), prints a line per kernel and exits 1
if any disagrees: a disagreement is a bug, in the emulator first.
"""

import argparse
import ctypes
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
spec = importlib.util.spec_from_file_location(
    "tessel_cuda", os.path.join(ROOT, "python", "tessel", "_cuda.py"))
cuda = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cuda)

ITEM = {"float16": 2, "bfloat16": 2, "float32": 4, "float64": 8, "int8": 1, "uint8": 1,
        "int32": 4, "int64": 8, "bool": 1, "float8_e4m3": 1, "float8_e5m2": 1}
RAW = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


# name, source, entry, defines, tesselc flags, relative tolerance
KERNELS = [
    ("gemm_f16", "examples/gemm/gemm.py", "matmul", ["M=256", "N=256", "K=128"], [], 2e-3),
    ("gemm_bf16_ragged", "examples/gemm/gemm.py", "matmul",
     ["M=300", "N=200", "K=96", "dtype=bfloat16"], [], 1e-2),
    # B of A @ B read MN-major in place with the 64- and 32-byte swizzles
    # (32 and 16 columns of f16 per block): one TMA box per block row.
    ("gemm_mn_sw64", "examples/gemm/gemm.py", "matmul",
     ["M=256", "N=128", "K=128", "block_N=32"], [], 2e-3),
    ("gemm_mn_sw32", "examples/gemm/gemm.py", "matmul",
     ["M=256", "N=64", "K=128", "block_N=16"], [], 2e-3),
    ("gemm_onerole", "examples/gemm/gemm.py", "matmul", ["M=200", "N=256", "K=192"],
     ["--warp-specialize=false"], 2e-3),
    ("gemm_cpasync", "examples/gemm/gemm.py", "matmul", ["M=200", "N=256", "K=192"],
     ["--tma=false"], 2e-3),
    ("gemm_dyn", "tests/lit/Frontend/corpus/gemm_dynamic_m.py", "gemm_dyn", ["N=256", "K=256"],
     [], 2e-3),
    ("gemm_i8", "tests/lit/Frontend/corpus/gemm_int8.py", "gemm_i8", ["M=128", "N=128", "K=128"],
     [], 0),
    ("attention_causal_d64", "examples/flash_attention/flash_attention.py", "flash_attention",
     ["batch=1", "heads=2", "seq_len=200", "dim=64", "is_causal=True"], [], 1e-2),
    ("attention_d128", "examples/flash_attention/flash_attention.py", "flash_attention",
     ["batch=1", "heads=2", "seq_len=128", "dim=128"], [], 1e-2),
    ("softmax", "tests/lit/Frontend/corpus/softmax.py", "softmax", ["M=64", "N=256", "block_M=8"],
     [], 1e-2),
    ("fp8_gemm", "examples/fp8_gemm/fp8_gemm.py", "fp8_gemm", ["M=100", "N=128", "K=256"], [],
     1e-2),
    ("fp8_gemm_grouped", "examples/fp8_gemm/fp8_gemm.py", "fp8_gemm_grouped",
     ["M=512", "N=256", "K=384", "G=3"], [], 1e-2),
    ("fp8_gemm_masked", "examples/fp8_gemm/fp8_gemm.py", "fp8_gemm_masked",
     ["G=2", "max_m=256", "N=128", "K=256"], [], 1e-2),
    ("mla_decode", "examples/mla_decode/mla_decode.py", "mla_decode",
     ["batch=4", "s_q=1", "h_q=16", "num_blocks=7", "max_blocks=3"], [], 1e-2),
    ("mla_decode_split", "examples/mla_decode/mla_decode.py", "mla_decode_split",
     ["batch=4", "s_q=1", "h_q=16", "num_blocks=7", "max_blocks=3", "num_splits=2"], [], 1e-2),
    ("mla_combine", "examples/mla_decode/mla_decode.py", "mla_combine",
     ["batch=4", "s_q=1", "h_q=16", "num_splits=2"], [], 1e-2),
    ("indexer", "examples/sparse_attention/sparse_attention.py", "indexer",
     ["seq=4", "seq_kv=300"], [], 1e-3),
    ("topk", "examples/sparse_attention/sparse_attention.py", "topk",
     ["seq=6", "seq_kv=3000", "k=64"], [], 0),
    ("sparse_mla", "examples/sparse_attention/sparse_attention.py", "sparse_mla",
     ["s_q=4", "h_q=16", "s_kv=500", "topk=100"], [], 1e-2),
    ("sparse_mla_decode_fp8", "examples/sparse_attention/sparse_attention.py",
     "sparse_mla_decode_fp8", ["batch=2", "s_q=2", "h_q=16", "num_tokens=400", "topk=96"], [],
     1e-2),
]


def inputs_for(name, rng):
    """The arguments of kernel `name` by parameter name (here only: the
    examples' own input makers)."""
    import ml_dtypes

    bf16, e4m3 = ml_dtypes.bfloat16, ml_dtypes.float8_e4m3fn
    for example in ("fp8_gemm", "mla_decode", "sparse_attention"):
        sys.path.insert(0, os.path.join(ROOT, "examples", example))
    normal = lambda *shape: rng.standard_normal(shape).astype(np.float32)
    if name.startswith("gemm_") and name != "gemm_i8":
        m, n, k = {"gemm_f16": (256, 256, 128), "gemm_bf16_ragged": (300, 200, 96),
                   "gemm_dyn": (100, 256, 256), "gemm_mn_sw64": (256, 128, 128),
                   "gemm_mn_sw32": (256, 64, 128)}.get(name, (200, 256, 192))
        t = bf16 if name == "gemm_bf16_ragged" else np.float16
        return {"A": normal(m, k).astype(t), "B": normal(k, n).astype(t)}
    if name == "gemm_i8":
        return {n: rng.integers(-128, 128, (128, 128)).astype(np.int8) for n in ("A", "B")}
    if name.startswith("attention"):
        s, d = (200, 64) if name.endswith("d64") else (128, 128)
        return {n: normal(1, s, 2, d).astype(np.float16) for n in ("Q", "K", "V")}
    if name == "softmax":
        return {"X": normal(64, 256).astype(np.float16)}
    if name.startswith("fp8_gemm"):
        import fp8_gemm_reference as ref

        if name == "fp8_gemm":
            a, sa = ref.quantize_rows(ref.bf16(normal(100, 256)))
            b, sb = ref.quantize_blocks(ref.bf16(normal(128, 256)))
            return {"A": a, "A_scale": sa, "B": b, "B_scale": sb}
        if name == "fp8_gemm_grouped":
            a, sa = ref.quantize_rows(ref.bf16(normal(512, 384)))
            b, sb = ref.quantize_blocks(ref.bf16(normal(3, 256, 384)))
            m_indices = np.full(512, -1, np.int32)
            m_indices[:100], m_indices[128:328] = 0, 1
            return {"A": a, "A_scale": sa, "B": b, "B_scale": sb, "m_indices": m_indices}
        a, sa = ref.quantize_rows(ref.bf16(normal(2, 256, 256)))
        b, sb = ref.quantize_blocks(ref.bf16(normal(2, 128, 256)))
        return {"A": a, "A_scale": sa, "B": b, "B_scale": sb,
                "masked_m": np.array([200, 0], np.int32)}
    if name in ("mla_decode", "mla_decode_split"):
        from test_mla_decode import make_cache

        q, kv, table, lens, _, _ = make_cache(rng, [130, 64, 1, 0], 1, 16)
        return {"Q": q, "KV": kv, "block_table": table, "cache_seqlens": lens}
    if name == "mla_combine":
        lse = normal(4, 1, 16, 2)
        lse[3] = -np.inf  # a sequence no split saw
        lse[2, :, :, 1] = -np.inf  # a split that saw none of its keys
        return {"O_part": normal(4, 1, 16, 2, 512), "LSE_part": lse}
    if name == "indexer":
        from test_sparse_attention import indexer_inputs

        q, k, k_scale, w, ks, ke = indexer_inputs(rng, 4, 300, True)
        return dict(zip(("Q", "K", "K_scale", "W", "KS", "KE"), (q, k, k_scale, w, ks, ke)))
    if name == "topk":
        logits = normal(6, 3000)
        logits[0, rng.choice(3000, 1500, replace=False)] = -np.inf
        logits[1, :] = 1.5
        logits[5] = rng.integers(-3, 3, 3000)
        return {"Logits": logits}
    if name == "sparse_mla":
        from test_sparse_attention import mla_inputs

        return dict(zip(("Q", "KV", "Indices"), mla_inputs(rng, 4, 16, 500, 100)))
    if name == "sparse_mla_decode_fp8":
        import sparse_attention_reference as ref

        kv = rng.standard_normal((400, ref.D)).astype(bf16)
        nope, scale, rope = ref.quantize_cache(kv.astype(np.float32))
        indices = np.stack([np.stack([rng.choice(400, 96, replace=False) for _ in range(2)])
                            for _ in range(2)]).astype(np.int32)
        indices[1, 0, :] = -1
        return {"Q": normal(2, 2, 16, ref.D).astype(bf16), "Nope": nope, "Scale": scale,
                "Rope": rope.astype(bf16), "Indices": indices}
    raise KeyError(name)


def raw(array):
    array = np.ascontiguousarray(array)
    return array.view(RAW[array.dtype.itemsize])


def run(directory, name, inputs):
    """Runs NAME on the runtime's driver; every tensor it writes, raw."""
    with open(os.path.join(directory, name + ".json")) as f:
        info = json.load(f)
    emulator = cuda.is_emulator()
    cubin = os.path.join(directory, name + ".cubin")
    image_path = cubin if os.path.exists(cubin) and not emulator else \
        os.path.join(directory, name + ".ptx")
    with open(image_path, "rb") as f:
        image = f.read()
    kernel = cuda.Kernel(image, info["name"], info["threads"], info["shared_bytes"], info["grid"],
                         registers=max(info.get("registers", 0), 0))
    unknown = set(inputs) - {p["name"] for p in info["params"]}
    if unknown:
        raise ValueError("%s has no parameter %s" % (name, ", ".join(sorted(unknown))))
    dims = {}
    for p in info["params"]:
        if p["name"] in inputs:
            for d, size in enumerate(p["shape"]):
                if size < 0:
                    dims[p["dynamic_names"][d]] = inputs[p["name"]].shape[d]
    buffers, arrays = [], {}
    for p in info["params"]:
        if not p["tensor"]:
            raise ValueError("%s: the small set passes tensors only" % name)
        if p["name"] in inputs:
            array = np.ascontiguousarray(inputs[p["name"]])
        else:
            shape = [s if s >= 0 else dims[p["dynamic_names"][d]]
                     for d, s in enumerate(p["shape"])]
            array = np.zeros(shape, RAW[ITEM[p["dtype"]]])
        buffer = cuda.DeviceBuffer(array.nbytes)
        buffer.upload(array)
        buffers.append(buffer)
        arrays[p["name"]] = array
    names = [p["name"] for p in info["params"]]
    maps = []
    for m in sorted(info.get("tensor_maps", []), key=lambda m: m["param"]):
        i = names.index(m["tensor"])
        maps.append(cuda.tensor_map(info["params"][i]["dtype"], buffers[i].pointer,
                                    list(arrays[m["tensor"]].shape), m["box"], m["swizzle"]))
    values = [b.pointer for b in buffers]
    values += [ctypes.c_int64(dims[n]) for n in info.get("dynamic_dims", [])]
    grid = None
    if info.get("grid_expr"):
        grid = [cuda.grid_extent(e, dims) if e else g
                for e, g in zip(info["grid_expr"], info["grid"])]
    kernel.launch(values, 0, maps, grid)
    outputs = {}
    for p, buffer in zip(info["params"], buffers):
        if p["written"]:
            out = np.empty_like(arrays[p["name"]])
            buffer.download(out)
            outputs[p["name"]] = out
    return outputs


def as_values(bits, dtype):
    """Raw output bits as numbers to compare (bf16 widened by hand: no
    ml_dtypes on a GPU machine); None for types compared bit for bit."""
    if dtype == "float16":
        return bits.view(np.float16).astype(np.float64)
    if dtype == "float32":
        return bits.view(np.float32).astype(np.float64)
    if dtype == "bfloat16":
        return (bits.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    return None


def disagreement(got, want, dtype, rtol):
    """Why two runs' outputs disagree, or "" when they agree."""
    if got.shape != want.shape:
        return "shape %s vs %s" % (got.shape, want.shape)
    a, b = as_values(got, dtype), as_values(want, dtype)
    if a is None or rtol == 0:
        wrong = int((got != want).sum())
        return "%d of %d elements differ" % (wrong, got.size) if wrong else ""
    for what, test in (("NaN", np.isnan), ("+inf", np.isposinf), ("-inf", np.isneginf)):
        if (test(a) != test(b)).any():
            return "%s at different places (%d)" % (what, int((test(a) != test(b)).sum()))
    finite = np.isfinite(b)
    if not finite.any():
        return ""
    scale = max(np.abs(b[finite]).max(), 1e-30)
    error = np.abs(a[finite] - b[finite]).max() / scale
    return "max error %.3g of the largest value (tolerance %g)" % (error, rtol) \
        if error > rtol else ""


def prepare(directory):
    os.makedirs(directory, exist_ok=True)
    build = os.environ.get("TESSEL_BUILD_DIR", os.path.join(ROOT, "build"))
    tesselc = os.path.join(build, "bin", "tesselc")
    emit = "ptx,cubin,manifest" if shutil.which("ptxas") or \
        os.path.exists("/usr/local/cuda/bin/ptxas") else "ptx,manifest"
    if not cuda.is_emulator():
        sys.exit("small_set.py prepare runs the kernels on the emulator: set TESSEL_CUDA_DRIVER=emu")
    for name, source, entry, defines, flags, _ in KERNELS:
        staging = os.path.join(directory, ".staging")
        shutil.rmtree(staging, ignore_errors=True)
        cmd = [tesselc, os.path.join(ROOT, source), "--entry", entry, "--target", "sm_90a",
               "--emit", emit, "-o", staging] + flags
        for d in defines:
            cmd += ["-D", d]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        for file in os.listdir(staging):
            os.replace(os.path.join(staging, file),
                       os.path.join(directory, name + os.path.splitext(file)[1]))
        os.rmdir(staging)
        inputs = {k: raw(v) for k, v in inputs_for(name, np.random.default_rng(7)).items()}
        np.savez(os.path.join(directory, name + ".inputs.npz"), **inputs)
        start = time.time()
        outputs = run(directory, name, inputs)
        np.savez(os.path.join(directory, name + ".emulator.npz"), **outputs)
        print("%-24s compiled, run on the emulator (%.1f s)" % (name, time.time() - start))


def check(directory):
    failures = 0
    driver = "the emulator" if cuda.is_emulator() else "the GPU"
    print("comparing %s with the emulator's results in %s" % (driver, directory))
    for name, _, _, _, _, rtol in KERNELS:
        if not os.path.exists(os.path.join(directory, name + ".json")):
            print("%-24s not prepared (run small_set.py prepare)" % name)
            failures += 1
            continue
        with open(os.path.join(directory, name + ".json")) as f:
            dtypes = {p["name"]: p["dtype"] for p in json.load(f)["params"]}
        inputs = dict(np.load(os.path.join(directory, name + ".inputs.npz")))
        want = dict(np.load(os.path.join(directory, name + ".emulator.npz")))
        try:
            got = run(directory, name, inputs)
        except cuda.CUDAError as e:
            print("%-24s FAILED to run: %s" % (name, e))
            failures += 1
            continue
        problems = ["%s: %s" % (out, why) for out in want
                    for why in [disagreement(got[out], want[out], dtypes[out], rtol)] if why]
        print("%-24s %s" % (name, "agrees" if not problems else "DISAGREES: " + "; ".join(problems)))
        failures += bool(problems)
    return 1 if failures else 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["prepare", "check"])
    parser.add_argument("directory")
    args = parser.parse_args(argv)
    if args.mode == "prepare":
        prepare(args.directory)
        return 0
    return check(args.directory)


if __name__ == "__main__":
    sys.exit(main())
