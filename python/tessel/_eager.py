"""The eager style: a ``@tessel.jit`` function that defines no prim_func is
itself the kernel (TileLang's current style).

Its tensor parameters are annotated by statements in its body
(``A: T.Tensor((M, K), dtype)``); ``M, K = T.const("M, K")`` names sizes
read off the shapes of the tensors it is called with; ``T.empty`` tensors
are its outputs. Calling it compiles once per set of sizes and compile-time
arguments (cached) and runs the kernel on the tensors.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import types
from typing import Any, Dict, List, Optional, Tuple


class EagerInfo:
    """What the function's text says: its tensor parameters, and for each
    T.const name the (parameter, dimension) pairs that give its value."""

    def __init__(self, tensor_params: List[str], const_dims: Dict[str, List[Tuple[str, int]]],
                 const_names: List[str]) -> None:
        self.tensor_params = tensor_params
        self.const_dims = const_dims
        self.const_names = const_names


def _is_tensor_annotation(node: ast.AST) -> Optional[ast.AST]:
    """The shape expression of ``T.Tensor(shape, dtype)`` / ``T.Tensor[shape, dtype]``."""
    def is_tensor_name(f: ast.AST) -> bool:
        return ((isinstance(f, ast.Attribute) and f.attr in ("Tensor", "Buffer"))
                or (isinstance(f, ast.Name) and f.id in ("Tensor", "Buffer")))
    if isinstance(node, ast.Call) and is_tensor_name(node.func) and node.args:
        return node.args[0]
    if isinstance(node, ast.Subscript) and is_tensor_name(node.value):
        index = node.slice
        if isinstance(index, ast.Tuple) and index.elts:
            return index.elts[0]
    return None


def eager_info(fn: types.FunctionType) -> Optional[EagerInfo]:
    """EagerInfo when ``fn`` is written in the eager style, else None."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError, IndentationError):
        return None
    if not tree.body or not isinstance(tree.body[0], ast.FunctionDef):
        return None
    def_node = tree.body[0]
    params = [a.arg for a in def_node.args.args + def_node.args.kwonlyargs]
    tensor_params: List[str] = []
    shapes: Dict[str, ast.AST] = {}
    const_vars: Dict[str, str] = {}  # variable -> T.const name
    const_names: List[str] = []
    for stmt in def_node.body:
        if (isinstance(stmt, ast.AnnAssign) and stmt.value is None
                and isinstance(stmt.target, ast.Name) and stmt.target.id in params):
            tensor_params.append(stmt.target.id)
            shape = _is_tensor_annotation(stmt.annotation)
            if shape is not None:
                shapes[stmt.target.id] = shape
        if (isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call)
                and isinstance(stmt.value.func, ast.Attribute) and stmt.value.func.attr == "const"
                and stmt.value.args and isinstance(stmt.value.args[0], ast.Constant)
                and isinstance(stmt.value.args[0].value, str)):
            names = [n.strip() for n in stmt.value.args[0].value.split(",") if n.strip()]
            const_names += names
            target = stmt.targets[0]
            targets = target.elts if isinstance(target, (ast.Tuple, ast.List)) else [target]
            for var, name in zip(targets, names):
                if isinstance(var, ast.Name):
                    const_vars[var.id] = name
    if not tensor_params:
        return None
    const_dims: Dict[str, List[Tuple[str, int]]] = {}
    for param, shape in shapes.items():
        dims = shape.elts if isinstance(shape, (ast.Tuple, ast.List)) else [shape]
        for d, dim in enumerate(dims):
            if isinstance(dim, ast.Name) and dim.id in const_vars:
                const_dims.setdefault(const_vars[dim.id], []).append((param, d))
    return EagerInfo([p for p in params if p in tensor_params], const_dims, const_names)


def shape_of(value: Any) -> Tuple[int, ...]:
    shape = getattr(value, "shape", None)
    if shape is None:
        raise TypeError("a tensor argument must be an array (numpy, torch, ...), got %s"
                        % type(value).__name__)
    return tuple(int(d) for d in shape)


def consts_from(info: EagerInfo, name: str, tensors: Dict[str, Any],
                given: Dict[str, Any]) -> Dict[str, int]:
    """The T.const values: given ones, and those read off the tensors'
    shapes (which must agree with each other)."""
    consts: Dict[str, int] = {k: v for k, v in given.items()}
    for const, places in info.const_dims.items():
        for param, d in places:
            if param not in tensors:
                continue
            shape = shape_of(tensors[param])
            if d >= len(shape):
                raise ValueError("%s(): argument %r has %d dimensions, but its annotation "
                                 "has more" % (name, param, len(shape)))
            value = shape[d]
            if const in consts and consts[const] != value:
                raise ValueError("%s(): %s is %d from an earlier argument but %d from %r's "
                                 "dimension %d" % (name, const, consts[const], value, param, d))
            consts[const] = value
    return consts
