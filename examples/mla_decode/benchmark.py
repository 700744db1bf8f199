"""MLA decode on a GPU at FlashMLA's benchmark shape (b = 128, h_q = 128,
s_q = 1, s_k = 4k and 8k), beside dense attention on the gathered tokens
(torch's scaled_dot_product_attention), measured in the same run.

The GPU machine has no LLVM, so the kernels are compiled here first:

    scripts/gpu-artifacts.sh artifacts                      # on the build machine
    python3 examples/mla_decode/benchmark.py artifacts      # on the GPU machine

(scripts/gpu-check.sh artifacts builds the runtime; this script needs
TESSEL_RUNTIME_LIB pointing at that libtessel_runtime.so.) It reads
artifacts/mla/*.json. Each line: the error against torch, then TFLOPS
(b * h_q * s_q * s_k * 2 * (576 + 512) / time) and GB/s (the KV cache, q
and out moved) of Tessel and of torch, and their ratio. FlashMLA's
published H800 figures: 3000 GB/s memory-bound, 660 TFLOPS compute-bound.
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
D, DV, PAGE = 576, 512, 64


def main():
    global torch
    directory, check, torch = bench_cli.start(__doc__, "mla")
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
        b, s_q, h_q, _ = shapes["Q"]
        num_blocks, max_blocks = shapes["KV"][0], shapes["block_table"][1]
        s_k = max_blocks * PAGE
        torch.manual_seed(0)
        q = torch.randn(b, s_q, h_q, D, device="cuda", dtype=torch.bfloat16)
        kv = torch.randn(num_blocks, PAGE, 1, D, device="cuda", dtype=torch.bfloat16)
        table = torch.randperm(num_blocks, device="cuda", dtype=torch.int32).view(b, max_blocks)
        lens = torch.full((b,), s_k, device="cuda", dtype=torch.int32)
        out = torch.empty(b, s_q, h_q, DV, device="cuda", dtype=torch.bfloat16)
        lse = torch.empty(b, h_q, s_q, device="cuda", dtype=torch.float32)
        tensors = [q, kv, table, lens, out, lse]
        stream = torch.cuda.current_stream().cuda_stream
        run = lambda: kernel.launch([t.data_ptr() for t in tensors], stream, [])

        def dense():
            keys = kv[table.long()].view(b, s_k, D)  # gather the pages
            return torch.nn.functional.scaled_dot_product_attention(
                q.transpose(1, 2), keys[:, None], keys[:, None, :, :DV],
                scale=D ** -0.5).transpose(1, 2)

        run()
        torch.cuda.synchronize()
        want = dense().float()
        err = ((out.float() - want).abs().max() / want.abs().max()).item()
        ok = err < 2e-2
        failures += not ok
        ms, ref_ms = check.timed(run), check.timed(dense)
        flops = b * h_q * s_q * s_k * 2 * (D + DV)
        moved = b * (s_q * h_q * D * 2 + s_k * D * 2 + s_q * h_q * DV * 2)
        print(f"{name:34s} {'OK  ' if ok else 'FAIL'} rel.err {err:.2e}  "
              f"tessel {flops / ms / 1e9:6.1f} TFLOPS {moved / ms / 1e6:7.1f} GB/s "
              f"({ms:.3f} ms, {image})  torch {flops / ref_ms / 1e9:6.1f} TFLOPS "
              f"{moved / ref_ms / 1e6:7.1f} GB/s  ratio {ref_ms / ms:.2f}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
