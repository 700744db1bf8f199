# tesselc compiles the kernels of a file that is also a Python program: host
# code the entry does not reach (imports of torch, argparse, classes,
# lambdas, comprehensions, f-strings, try, async, a __main__ block) is parsed
# and never evaluated; reaching it is a located error naming it.
# RUN: tesselc %s --entry add -D M=64 -D N=16 --emit tile | FileCheck %s
# RUN: not tesselc %s --entry uses_torch -D M=64 2>&1 | FileCheck %s --check-prefix=TORCH
# RUN: not tesselc %s --entry uses_class 2>&1 | FileCheck %s --check-prefix=CLASS
# RUN: not tesselc %s --entry uses_lambda 2>&1 | FileCheck %s --check-prefix=LAMBDA
# RUN: not tesselc %s --entry uses_host_def 2>&1 | FileCheck %s --check-prefix=HOSTDEF
# RUN: not tesselc %s --entry checks_block -D M=64 2>&1 | FileCheck %s --check-prefix=RAISE

# CHECK-LABEL: func.func @add
# CHECK: tile.kernel grid
# CHECK: arith.addf

# TORCH: host_code.py:65:9: error: module 'torch' is not available inside Tessel kernels
# CLASS: host_code.py:69:12: error: 'Config' is defined at line {{[0-9]+}} by host code: 'class' definitions are not supported in Tessel kernels
# LAMBDA: host_code.py:73:12: error: 'scale' is defined at line {{[0-9]+}} by host code Tessel cannot evaluate (lambda expressions are not supported in Tessel kernels; use a def)
# HOSTDEF: host_code.py:77:5: error: 'ref_program' takes **kwargs, which Tessel cannot pass
# RAISE: host_code.py:82:9: error: the kernel's code raised ValueError: block must divide M, got 48

import argparse
import itertools
from dataclasses import dataclass
try:
    import torch
except ImportError:
    torch = None
import tessel as tilelang
import tessel.language as T

BIG = 0xFFFFFFFFFFFFFFFFF
CONFIGS = [dict(block=b) for b in (32, 64)]
scale = lambda x: x * 2
TABLE = {"a": 1, **{"b": 2}}


@dataclass
class Config:
    block: int = 64


def ref_program(*args, **kwargs):
    global BIG
    print(f"running {args!r} {1j}")
    return torch.add(*args)


async def never():
    await something()


@tilelang.jit(out_idx=[-1], pass_configs={"tl.disable_tma_lower": True})
def add(M, N, block=32, dtype="float32"):
    ...
    @T.prim_func
    def main(A: T.Tensor((M, N), dtype), B: T.Tensor((M, N), dtype)):
        with T.Kernel(T.ceildiv(M, block), threads=128) as bx:
            for i, j in T.Parallel(block, N):
                B[bx * block + i, j] = A[bx * block + i, j] + 1
    return main


def uses_torch(M):
    x = torch.zeros(M)


def uses_class():
    return Config


def uses_lambda():
    return scale


def uses_host_def():
    ref_program()


def checks_block(M, block=48):
    if M % block:
        raise ValueError(f"block must divide M, got {block}" if False else "block must divide M, got 48")


def main():
    parser = argparse.ArgumentParser()
    for a, b in itertools.product(range(2), range(2)):
        pass
    else:
        pass
    try:
        x = 1
    except (ValueError, KeyError) as e:
        raise RuntimeError("x") from e
    finally:
        del x
    return {k: v for k, v in []}


if __name__ == "__main__":
    main()
