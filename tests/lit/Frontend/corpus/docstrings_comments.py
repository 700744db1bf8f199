# RUN: tesselc %s --entry documented -D N=8 | FileCheck %s
"""A module docstring.

Comments and docstrings anywhere, blank lines at odd indentation, line
continuations and implicit joining inside brackets are all just syntax.
"""
import tessel.language as T  # a trailing comment

# CHECK-LABEL: func.func @documented
# CHECK: tile.parallel [8]
# CHECK: arith.addf


def documented(N):
    """The factory's docstring."""
    # A comment at the factory's indentation.
    width = N \
        * 1

    @T.prim_func
    def main(X: T.Tensor((width,), "float32"),  # first argument
             Y: T.Tensor((width,),
                         "float32")):
        '''The kernel's docstring, in single quotes.'''
        with T.Kernel(1) as bx:
                # An oddly indented comment.
            for i in T.Parallel(width):

                Y[i] = X[i] + (
                    1.0)  # joined across lines
    return main
