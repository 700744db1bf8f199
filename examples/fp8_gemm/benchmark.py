"""FP8 block-scaled GEMM throughput on a GPU, on DeepGEMM's shapes (DESIGN 5),
beside what PyTorch offers on the same device, measured in the same run.

The GPU machine has no LLVM, so the kernels are compiled here first:

    scripts/gpu-artifacts.sh artifacts                     # on the build machine
    python3 examples/fp8_gemm/benchmark.py artifacts       # on the GPU machine

(TESSEL_RUNTIME_LIB must point at the libtessel_runtime.so that
scripts/gpu-check.sh builds.) It reads artifacts/fp8_gemm_*.json (one GEMM,
M in {64, 128, 4096} x DeepGEMM's (N, K) pairs) and artifacts/fp8/*.json
(the grouped MoE kernels: contiguous, 4 experts x 8192 rows; masked, 4
experts x up to 256 rows). Each line: DeepGEMM's difference measure
1 - 2 sum(xy) / sum(x^2 + y^2) against the unquantized product (pass
< 1e-3), TFLOPS (2 M N K / time over the valid rows) and GB/s (A, B, D and
the scales) of Tessel, then of the baseline, and their ratio (>1: Tessel
faster). The baseline is torch._scaled_mm with DeepSeek's block scales
(1x128 for A, 128x128 for B; cuBLAS on sm_90 in PyTorch builds that have
it) when it computes the right product here, else torch._scaled_mm with one
scale per tensor (less work than block scaling); the line says which. For
the grouped kernels it runs once per expert.
"""

import importlib.util
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_spec = importlib.util.spec_from_file_location(
    "bench_cli", os.path.join(ROOT, "tests", "gpu", "bench_cli.py"))
bench_cli = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_cli)
torch = None  # imported by bench_cli.start, once the command line is checked
FP8_MAX = 448.0


def quantize_rows(x):
    """[..., M, K] -> e4m3 and a scale per 1x128 (DeepSeek-V3: amax / 448)."""
    *lead, m, k = x.shape
    blocks = x.view(*lead, m, k // 128, 128)
    scale = blocks.abs().amax(-1).clamp_min(1e-4) / FP8_MAX
    q = (blocks / scale[..., None]).view(*lead, m, k).to(torch.float8_e4m3fn)
    return q, scale.contiguous()


def quantize_blocks(y):
    """[..., N, K] -> e4m3 and a scale per 128x128 block (N padded to whole
    blocks for the scales: DeepGEMM's N = 2112 is 16.5 blocks)."""
    *lead, n, k = y.shape
    padded = torch.nn.functional.pad(y, (0, 0, 0, (-n) % 128))
    blocks = padded.view(*lead, padded.shape[-2] // 128, 128, k // 128, 128)
    scale = blocks.abs().amax(dim=(-3, -1)).clamp_min(1e-4) / FP8_MAX
    q = (blocks / scale[..., None, :, None]).view(padded.shape).to(torch.float8_e4m3fn)
    return q[..., :n, :].contiguous(), scale.contiguous()


def difference(x, y):
    x, y = x.double(), y.double()
    return (1 - 2 * (x * y).sum() / (x * x + y * y).sum()).item()


def baseline(a, sa, b, sb, want):
    """The fastest right answer PyTorch gives for one block-scaled GEMM:
    (function, label)."""
    tries = [
        ("scaled_mm 1x128/128x128",
         lambda: torch._scaled_mm(a, b.t(), scale_a=sa.t().contiguous().t(), scale_b=sb.t(),
                                  out_dtype=torch.bfloat16)),
        ("scaled_mm 1x128/128x128",
         lambda: torch._scaled_mm(a, b.t(), scale_a=sa.t().contiguous().t(),
                                  scale_b=sb.t().contiguous(), out_dtype=torch.bfloat16)),
    ]
    for label, fn in tries:
        try:
            out = fn()
            torch.cuda.synchronize()
        except (RuntimeError, TypeError, ValueError):
            continue
        if difference(out.float(), want) < 1e-3:
            return fn, label
    one = torch.ones((), device="cuda")
    return (lambda: torch._scaled_mm(a, b.t(), scale_a=one, scale_b=one,
                                     out_dtype=torch.bfloat16)), "scaled_mm per-tensor"


def main():
    global torch
    directory, check, torch = bench_cli.start(__doc__, prefix="fp8_gemm_")
    print(f"device: {torch.cuda.get_device_name()}")
    kernels = [(directory, f) for f in sorted(os.listdir(directory))
               if f.startswith("fp8_gemm_") and f.endswith(".json")]
    grouped = os.path.join(directory, "fp8")
    if os.path.isdir(grouped):
        kernels += [(grouped, f) for f in sorted(os.listdir(grouped)) if f.endswith(".json")]
    stream = torch.cuda.current_stream().cuda_stream
    failures = 0
    for where, file in kernels:
        name = file[:-5]
        with open(os.path.join(where, file)) as f:
            info = json.load(f)
        kernel, image = check.load(where, name, info)
        shapes = {p["name"]: p["shape"] for p in info["params"]}
        torch.manual_seed(0)
        kind = info["name"]
        if kind == "fp8_gemm":
            m, k = shapes["A"]
            n = shapes["B"][0]
            groups, rows = [(0, m)], m
            x = torch.randn(m, k, device="cuda")
            y = torch.randn(1, n, k, device="cuda")
            a, sa = quantize_rows(x)
            b, sb = quantize_blocks(y)
            d = torch.zeros(m, n, device="cuda", dtype=torch.bfloat16)
            tensors = [a, sa, b[0], sb[0], d]
            valid = lambda: [(d, x, y[0])]
        elif kind == "fp8_gemm_grouped":
            m, k = shapes["A"]
            g, n = shapes["B"][:2]
            per = m // g
            x = torch.randn(m, k, device="cuda")
            y = torch.randn(g, n, k, device="cuda")
            a, sa = quantize_rows(x)
            b, sb = quantize_blocks(y)
            m_indices = torch.arange(g, device="cuda", dtype=torch.int32).repeat_interleave(per)
            d = torch.zeros(m, n, device="cuda", dtype=torch.bfloat16)
            tensors = [a, sa, b, sb, m_indices, d]
            groups = [(e * per, (e + 1) * per) for e in range(g)]
            rows = m
            valid = lambda: [(d[s:t], x[s:t], y[e]) for e, (s, t) in enumerate(groups)]
        else:  # fp8_gemm_masked
            g, max_m, k = shapes["A"]
            n = shapes["B"][1]
            x = torch.randn(g, max_m, k, device="cuda")
            y = torch.randn(g, n, k, device="cuda")
            a, sa = quantize_rows(x)
            b, sb = quantize_blocks(y)
            counts = [max_m - 64 * (e % 2) for e in range(g)]  # ragged: some groups short
            masked_m = torch.tensor(counts, device="cuda", dtype=torch.int32)
            d = torch.zeros(g, max_m, n, device="cuda", dtype=torch.bfloat16)
            tensors = [a, sa, b, sb, masked_m, d]
            groups = [(e, c) for e, c in enumerate(counts)]
            rows = sum(counts)
            valid = lambda: [(d[e, :c], x[e, :c], y[e]) for e, c in groups]
        run = lambda: kernel.launch([t.data_ptr() for t in tensors], stream, [])
        run()
        torch.cuda.synchronize()
        diff = max(difference(out.float(), xs @ ys.t()) for out, xs, ys in valid())
        ok = diff < 1e-3
        failures += not ok
        # The baseline: one call per expert, on the same quantized inputs.
        if kind == "fp8_gemm":
            calls = [(a, sa, b[0], sb[0], x @ y[0].t())]
        elif kind == "fp8_gemm_grouped":
            calls = [(a[s:t], sa[s:t], b[e], sb[e], x[s:t] @ y[e].t())
                     for e, (s, t) in enumerate(groups)]
        else:
            calls = [(a[e, :c].contiguous(), sa[e, :c].contiguous(), b[e], sb[e],
                      x[e, :c] @ y[e].t()) for e, c in groups]
        fns, label = [], None
        for ca, csa, cb, csb, want in calls:
            fn, label = baseline(ca, csa, cb, csb, want)
            fns.append(fn)
        base = lambda: [fn() for fn in fns]
        ms, ref_ms = check.timed(run), check.timed(base)
        flops = 2 * rows * n * k
        moved = sum(t.numel() * t.element_size() for t in tensors)
        print(f"{name:36s} {'OK  ' if ok else 'FAIL'} diff {diff:.1e}  "
              f"tessel {flops / ms / 1e9:7.1f} TFLOPS {moved / ms / 1e6:7.1f} GB/s "
              f"({ms:.3f} ms, {image}, {info['registers']} regs)  "
              f"{label} {flops / ref_ms / 1e9:7.1f} TFLOPS  ratio {ref_ms / ms:.2f}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
