"""DeepSeek V3.2 sparse attention on a GPU at FlashMLA's shapes: sparse MLA
prefill (s_q = 4096, h_q = 128, topk = 2048 of 8k tokens) and the FP8-KV
decode (b = 128, s_q = 2, h_q = 128, topk = 2048), beside dense attention on
the gathered tokens in PyTorch, measured in the same run.

The GPU machine has no LLVM, so the kernels are compiled here first:

    scripts/gpu-artifacts.sh artifacts                          # on the build machine
    python3 examples/sparse_attention/benchmark.py artifacts    # on the GPU machine

(TESSEL_RUNTIME_LIB must point at the libtessel_runtime.so that
scripts/gpu-check.sh builds.) It reads artifacts/sparse/*.json. FLOPs =
2 * h_q * (queries * topk) * (576 + 512) (REFERENCES.md); FlashMLA's
published H800 figures: prefill up to 640 TFLOPS, FP8-KV decode 410.
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
D, DV = 576, 512


def dense(q, keys):
    """q [n, h_q, 576], keys [n, topk, 576] (the gathered tokens)."""
    return torch.nn.functional.scaled_dot_product_attention(
        q[:, None], keys[:, None], keys[:, None, :, :DV], scale=D ** -0.5)[:, 0]


def main():
    global torch
    directory, check, torch = bench_cli.start(__doc__, "sparse")
    print(f"device: {torch.cuda.get_device_name()}")
    failures = 0
    for file in sorted(os.listdir(directory)):
        if not file.endswith(".json"):
            continue
        name = file[:-5]
        with open(os.path.join(directory, file)) as f:
            info = json.load(f)
        kernel, image = check.load(directory, name, info)
        shapes = {p["name"]: p["shape"] for p in info["params"]}
        torch.manual_seed(0)
        stream = torch.cuda.current_stream().cuda_stream
        if info["name"] == "sparse_mla":
            s_q, h_q, _ = shapes["Q"]
            s_kv, topk = shapes["KV"][0], shapes["Indices"][2]
            q = torch.randn(s_q, h_q, D, device="cuda", dtype=torch.bfloat16)
            kv = torch.randn(s_kv, 1, D, device="cuda", dtype=torch.bfloat16)
            idx = torch.stack([torch.randperm(s_kv, device="cuda")[:topk] for _ in range(s_q)])
            idx = idx.to(torch.int32)[:, None, :].contiguous()
            out = torch.empty(s_q, h_q, DV, device="cuda", dtype=torch.bfloat16)
            lse = torch.empty(s_q, h_q, device="cuda", dtype=torch.float32)
            tensors = [q, kv, idx, out, lse]
            reference = lambda: dense(q, kv[idx[:, 0].long(), 0])
            queries = s_q
        else:  # sparse_mla_decode_fp8
            b, s_q, h_q, _ = shapes["Q"]
            tokens, topk = shapes["Nope"][0], shapes["Indices"][2]
            q = torch.randn(b, s_q, h_q, D, device="cuda", dtype=torch.bfloat16)
            values = torch.randn(tokens, DV, device="cuda")
            scale = values.view(tokens, 4, 128).abs().amax(-1).clamp_min(1e-4) / 448
            nope = (values.view(tokens, 4, 128) / scale[..., None]).view(tokens, DV).to(
                torch.float8_e4m3fn)
            rope = torch.randn(tokens, D - DV, device="cuda", dtype=torch.bfloat16)
            idx = torch.randint(0, tokens, (b, s_q, topk), device="cuda", dtype=torch.int32)
            out = torch.empty(b, s_q, h_q, DV, device="cuda", dtype=torch.bfloat16)
            lse = torch.empty(b, s_q, h_q, device="cuda", dtype=torch.float32)
            tensors = [q, nope, scale.contiguous(), rope, idx, out, lse]
            kv = torch.cat([(nope.float().view(tokens, 4, 128) * scale[..., None]).view(tokens, DV)
                            .to(torch.bfloat16), rope], dim=1)
            reference = lambda: dense(q.view(b * s_q, h_q, D),
                                      kv[idx.view(b * s_q, topk).long()]).view(b, s_q, h_q, DV)
            queries = b * s_q
        run = lambda: kernel.launch([t.data_ptr() for t in tensors], stream, [])
        run()
        torch.cuda.synchronize()
        want = reference().float()
        err = ((out.float() - want).abs().max() / want.abs().max()).item()
        ok = err < 2e-2
        failures += not ok
        ms, ref_ms = check.timed(run), check.timed(reference)
        flops = 2 * h_q * queries * topk * (D + DV)
        print(f"{name:36s} {'OK  ' if ok else 'FAIL'} rel.err {err:.2e}  "
              f"tessel {flops / ms / 1e9:6.1f} TFLOPS ({ms:.3f} ms, {image})  "
              f"torch {flops / ref_ms / 1e9:6.1f} TFLOPS  ratio {ref_ms / ms:.2f}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
