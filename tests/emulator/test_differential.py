"""The CPU backend and the emulator agree: every test of the frontend
corpus (tests/python/test_corpus_cpu.py) and of element bounds
(tests/python/test_element_bounds.py) runs here with each kernel compiled
for both targets; the cuda one runs first on copies of the arguments, the
CPU one on the arguments themselves (so the tests' own numpy checks still
judge the CPU results), and every output and every argument the kernels
write must agree between the two."""

import importlib.util
import os

import numpy as np
import pytest

import tessel
import tessel.errors

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _module(path, name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(REPO, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _close(cuda, cpu, where):
    cuda, cpu = np.asarray(cuda), np.asarray(cpu)
    assert cuda.shape == cpu.shape and cuda.dtype == cpu.dtype, where
    if cpu.dtype.kind in "iub":
        np.testing.assert_array_equal(cuda, cpu, err_msg=where)
        return
    a, b = cuda.astype(np.float64), cpu.astype(np.float64)
    assert (np.isnan(a) == np.isnan(b)).all(), where + ": NaN positions differ"
    finite = ~np.isnan(b)
    scale = np.abs(b[finite]).max() if finite.any() else 1.0
    # Different accumulation orders (tensor cores vs loops), one rounding to
    # the output type apart.
    np.testing.assert_allclose(a[finite], b[finite], rtol=2e-2, atol=2e-2 * max(scale, 1e-6),
                               err_msg=where)


class Both:
    """A kernel compiled for the cpu and cuda targets, run on both."""

    def __init__(self, factory, out_idx, args, kwargs):
        self.cpu = tessel.jit(out_idx=out_idx, target="cpu")(factory)(*args, **kwargs)
        self.cuda = tessel.jit(out_idx=out_idx, target="cuda")(factory)(*args, **kwargs)
        self.name = factory.__name__

    def __call__(self, *args):
        copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        got = self.cuda(*copies)
        want = self.cpu(*args)
        outputs = want if isinstance(want, tuple) else (want,)
        cuda_outputs = got if isinstance(got, tuple) else (got,)
        for i, (g, w) in enumerate(zip(cuda_outputs, outputs)):
            if w is not None:
                _close(g, w, "%s: output %d" % (self.name, i))
        for i, (c, a) in enumerate(zip(copies, args)):
            if isinstance(a, np.ndarray):
                _close(c, a, "%s: argument %d after the launch" % (self.name, i))
        return want


def _both(out_idx=None, target=None, **options):
    def wrap(fn):
        fn = getattr(fn, "fn", fn)

        def factory(*args, **kwargs):
            return Both(fn, out_idx, args, kwargs)

        factory.fn = fn
        return factory

    return wrap


CORPUS = _module("tests/python/test_corpus_cpu.py", "corpus_differential")
BOUNDS = _module("tests/python/test_element_bounds.py", "bounds_differential")


def _corpus_load(name, entry, out_idx, **factory_args):
    spec = importlib.util.spec_from_file_location("corpus_" + name, os.path.join(CORPUS.CORPUS, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return _both(out_idx=out_idx)(getattr(module, entry))(**factory_args)


CORPUS.load = _corpus_load
for _name, _jit in list(vars(BOUNDS).items()):
    if isinstance(_jit, tessel.JITFunction):
        setattr(BOUNDS, _name, _both(out_idx=_jit.out_idx)(_jit))


def _cases(module):
    return [name for name in dir(module) if name.startswith("test_")]


# Corpus kernels the cuda target refuses today, with the reason its error
# gives (strict: one that starts compiling fails here until it is listed as
# agreeing).
NOT_FOR_SM90A = {
    "test_gemm_ragged": "float32 gemms (wgmma's tf32 would round the operands)",
}


def _corpus_params():
    for case in _cases(CORPUS):
        reason = NOT_FOR_SM90A.get(case)
        marks = [pytest.mark.xfail(raises=tessel.errors.CompileError, strict=True,
                                   reason="does not compile for sm_90a: " + reason)] if reason else []
        yield pytest.param(case, marks=marks)


@pytest.mark.parametrize("case", list(_corpus_params()))
def test_corpus(case):
    fn = getattr(CORPUS, case)
    marks = getattr(fn, "pytestmark", [])
    params = [m for m in marks if m.name == "parametrize"]
    if not params:
        fn()
        return
    names, values = params[0].args
    for value in values:
        fn(*value) if isinstance(value, tuple) else fn(value)


@pytest.mark.parametrize("case", _cases(BOUNDS))
def test_element_bounds(case):
    getattr(BOUNDS, case)()
