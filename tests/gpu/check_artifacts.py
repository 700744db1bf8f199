"""Checks and times compiled Tessel kernels on a GPU against PyTorch.

    python3 tests/gpu/check_artifacts.py ARTIFACT_DIR

Every NAME.json in ARTIFACT_DIR (from scripts/gpu-artifacts.sh) is loaded
(the cubin if present, else the PTX through the driver's JIT), run on
random inputs, compared with PyTorch, and timed beside PyTorch's own
kernel in the same run. Prints one line per kernel; exits non-zero if any
result is wrong.
"""

import importlib.util
import json
import math
import os
import sys

try:
    import torch
except ImportError:  # the command line (bench_cli) says what is missing
    torch = None

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
spec = importlib.util.spec_from_file_location(
    "tessel_cuda", os.path.join(ROOT, "python", "tessel", "_cuda.py"))
cuda = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cuda)

DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32,
          "float8_e4m3": torch.float8_e4m3fn, "int8": torch.int8,
          "int32": torch.int32} if torch else {}


def timed(fn, warmup=5, repeat=20):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(repeat):
        fn()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / repeat


def load(directory, name, info):
    cubin = os.path.join(directory, name + ".cubin")
    path = cubin if os.path.exists(cubin) else os.path.join(directory, name + ".ptx")
    with open(path, "rb") as f:
        image = f.read()
    return cuda.Kernel(image, info["name"], info["threads"], info["shared_bytes"],
                       info["grid"]), os.path.basename(path)


def main(argv=None, only=""):
    argv = sys.argv[1:] if argv is None else argv
    directory = argv[0]
    failures = 0
    print(f"device: {torch.cuda.get_device_name()}")
    for file in sorted(os.listdir(directory)):
        if not file.endswith(".json") or not file.startswith(only):
            continue
        name = file[:-5]
        with open(os.path.join(directory, file)) as f:
            info = json.load(f)
        kernel, image = load(directory, name, info)
        tensors = []
        for p in info["params"]:
            dtype = DTYPES[p["dtype"]]
            if dtype == torch.int8:
                t = torch.randint(-128, 128, p["shape"], device="cuda", dtype=dtype)
            else:
                t = torch.randn(p["shape"], device="cuda", dtype=torch.float32).to(dtype)
            if p["written"]:
                t.zero_()
            tensors.append(t)
        for p, t in zip(info["params"], tensors):
            kernel.check_tensor(p["name"], t.data_ptr(), list(t.shape), list(t.stride()),
                                p["shape"])
        stream = torch.cuda.current_stream().cuda_stream
        # TMA descriptors (tensor_maps in the manifest) follow the tensors.
        names = [p["name"] for p in info["params"]]
        maps = []
        for m in sorted(info.get("tensor_maps", []), key=lambda m: m["param"]):
            t = tensors[names.index(m["tensor"])]
            p = info["params"][names.index(m["tensor"])]
            maps.append(cuda.tensor_map(p["dtype"], t.data_ptr(), list(t.shape), m["box"],
                                        m["swizzle"]))
        run = lambda: kernel.launch([t.data_ptr() for t in tensors], stream, maps)
        flops = None
        base = None  # what a PyTorch user would run instead; the reference when None
        if info["name"] == "matmul":
            a, b, c = tensors
            ref = lambda: torch.matmul(a, b)
            flops = 2 * a.shape[0] * a.shape[1] * b.shape[1]
        elif info["name"] == "gemm_i8":
            # Exact: int8 products summed in int32, as torch._int_mm does.
            a, b, c = tensors
            ref = lambda: torch._int_mm(a, b)
            flops = 2 * a.shape[0] * a.shape[1] * b.shape[1]
        elif info["name"] == "fp8_gemm":
            # DeepSeek-V3 block scaling: A per 1x128, B per 128x128, fp32.
            a, sa, b, sb, d = tensors
            ref = lambda: ((a.float() * sa.repeat_interleave(128, 1)[:, :a.shape[1]])
                           @ (b.float() * sb.repeat_interleave(128, 0)[:b.shape[0]]
                              .repeat_interleave(128, 1)[:, :b.shape[1]]).T).to(d.dtype)
            flops = 2 * a.shape[0] * a.shape[1] * b.shape[0]
            # PyTorch's fastest fp8 GEMM (one scale per tensor: less work
            # than block scaling).
            one = torch.ones((), device="cuda")
            base = lambda: torch._scaled_mm(a, b.t(), scale_a=one, scale_b=one,
                                            out_dtype=torch.bfloat16)
        elif info["name"] == "softmax":
            x, y = tensors
            ref = lambda: torch.softmax(x.float(), dim=1).to(x.dtype)
        elif info["name"] == "layernorm":
            x, w, y = tensors
            ref = lambda: torch.nn.functional.layer_norm(x, (x.shape[1],), weight=w, eps=1e-5)
        else:
            q, k, v, o = tensors
            sdpa = torch.nn.functional.scaled_dot_product_attention
            ref = lambda: sdpa(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)).transpose(1, 2)
            bsz, seq, heads, dim = q.shape
            flops = 4 * bsz * heads * seq * seq * dim
        run()
        torch.cuda.synchronize()
        out = tensors[-1].float()
        want = ref().float()
        err = ((out - want).abs().max() / want.abs().max().clamp_min(1e-6)).item()
        ok = math.isfinite(err) and err < 2e-2
        if tensors[-1].dtype == torch.int32:
            ok = torch.equal(tensors[-1], ref())  # integer results are exact
        failures += not ok
        ms, ref_ms = timed(run), timed(base or ref)
        if flops is None:
            # Memory-bound kernels: bandwidth over every tensor read or written.
            moved = sum(t.numel() * t.element_size() for t in tensors)
            print(f"{name:40s} {'OK  ' if ok else 'FAIL'} rel.err {err:.2e}  "
                  f"tessel {moved / ms / 1e6:7.1f} GB/s ({ms:.3f} ms, {image}, "
                  f"{info['registers']} regs)  torch {moved / ref_ms / 1e6:7.1f} GB/s  "
                  f"ratio {ref_ms / ms:.2f}")
            continue
        print(f"{name:40s} {'OK  ' if ok else 'FAIL'} rel.err {err:.2e}  "
              f"tessel {flops / ms / 1e9:7.1f} TFLOPS ({ms:.3f} ms, {image}, "
              f"{info['registers']} regs)  torch {flops / ref_ms / 1e9:7.1f} TFLOPS  "
              f"ratio {ref_ms / ms:.2f}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    _spec = importlib.util.spec_from_file_location(
        "bench_cli", os.path.join(ROOT, "tests", "gpu", "bench_cli.py"))
    bench_cli = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(bench_cli)
    directory, _, _ = bench_cli.start(__doc__)
    main([directory])
