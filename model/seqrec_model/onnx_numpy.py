"""A small NumPy interpreter for the ONNX operators our exported SASRec graph uses.

There is no ONNX Runtime for Python in this environment, so the exporter uses this interpreter
to check that the *exported graph* (not just the PyTorch module) reproduces the PyTorch scores,
at several sequence lengths and batch sizes. It supports exactly the operator subset the export
produces and fails loudly on anything else.
"""

from __future__ import annotations

from typing import Callable, Dict, List, Mapping, Sequence

import numpy as np
import onnx
from onnx import numpy_helper

Op = Callable[[onnx.NodeProto, List[np.ndarray]], List[np.ndarray]]


def _attrs(node: onnx.NodeProto) -> Dict[str, object]:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _np_dtype(onnx_type: int) -> np.dtype:
    return np.dtype(onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[onnx_type])


def _layer_norm(node: onnx.NodeProto, x: List[np.ndarray]) -> List[np.ndarray]:
    a = _attrs(node)
    axis = int(a.get("axis", -1))  # type: ignore[arg-type]
    eps = float(a.get("epsilon", 1e-5))  # type: ignore[arg-type]
    data = x[0]
    axes = tuple(range(axis % data.ndim, data.ndim))
    mean = data.mean(axis=axes, keepdims=True)
    var = ((data - mean) ** 2).mean(axis=axes, keepdims=True)
    y = (data - mean) / np.sqrt(var + eps)
    y = y * x[1]
    if len(x) > 2 and x[2] is not None:
        y = y + x[2]
    return [y.astype(data.dtype)]


def _softmax(node: onnx.NodeProto, x: List[np.ndarray]) -> List[np.ndarray]:
    axis = int(_attrs(node).get("axis", -1))  # type: ignore[arg-type]
    z = x[0] - x[0].max(axis=axis, keepdims=True)
    e = np.exp(z)
    return [(e / e.sum(axis=axis, keepdims=True)).astype(x[0].dtype)]


def _slice(node: onnx.NodeProto, x: List[np.ndarray]) -> List[np.ndarray]:
    data, starts, ends = x[0], x[1], x[2]
    axes = x[3] if len(x) > 3 and x[3] is not None else np.arange(len(starts))
    steps = x[4] if len(x) > 4 and x[4] is not None else np.ones(len(starts), dtype=np.int64)
    index = [slice(None)] * data.ndim
    for s, e, ax, st in zip(starts, ends, axes, steps):
        index[int(ax)] = slice(int(s), int(e), int(st))
    return [data[tuple(index)]]


def _reshape(node: onnx.NodeProto, x: List[np.ndarray]) -> List[np.ndarray]:
    shape = [int(v) for v in x[1]]
    if not int(_attrs(node).get("allowzero", 0)):  # type: ignore[arg-type]
        shape = [x[0].shape[i] if v == 0 else v for i, v in enumerate(shape)]
    return [x[0].reshape(shape)]


def _unsqueeze(node: onnx.NodeProto, x: List[np.ndarray]) -> List[np.ndarray]:
    out = x[0]
    rank = out.ndim + len(x[1])
    for ax in sorted(int(a) % rank for a in x[1]):
        out = np.expand_dims(out, ax)
    return [out]


def _squeeze(node: onnx.NodeProto, x: List[np.ndarray]) -> List[np.ndarray]:
    if len(x) > 1 and x[1] is not None:
        return [np.squeeze(x[0], axis=tuple(int(a) for a in x[1]))]
    return [np.squeeze(x[0])]


def _gather(node: onnx.NodeProto, x: List[np.ndarray]) -> List[np.ndarray]:
    axis = int(_attrs(node).get("axis", 0))  # type: ignore[arg-type]
    return [np.take(x[0], x[1].astype(np.int64), axis=axis)]


def _gemm(node: onnx.NodeProto, x: List[np.ndarray]) -> List[np.ndarray]:
    a = _attrs(node)
    left = x[0].T if int(a.get("transA", 0)) else x[0]  # type: ignore[arg-type]
    right = x[1].T if int(a.get("transB", 0)) else x[1]  # type: ignore[arg-type]
    y = float(a.get("alpha", 1.0)) * (left @ right)  # type: ignore[arg-type]
    if len(x) > 2 and x[2] is not None:
        y = y + float(a.get("beta", 1.0)) * x[2]  # type: ignore[arg-type]
    return [y.astype(x[0].dtype)]


def _constant(node: onnx.NodeProto, x: List[np.ndarray]) -> List[np.ndarray]:
    a = node.attribute[0]
    if a.name == "value":
        return [numpy_helper.to_array(a.t)]
    raise NotImplementedError(f"Constant with attribute {a.name}")


def _constant_of_shape(node: onnx.NodeProto, x: List[np.ndarray]) -> List[np.ndarray]:
    a = _attrs(node)
    value = numpy_helper.to_array(a["value"]) if "value" in a else np.zeros(1, np.float32)
    return [np.full([int(v) for v in x[0]], value.reshape(-1)[0], dtype=value.dtype)]


def _binary(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Op:
    return lambda node, x: [np.asarray(fn(x[0], x[1]))]


def _unary(fn: Callable[[np.ndarray], np.ndarray]) -> Op:
    return lambda node, x: [np.asarray(fn(x[0]))]


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if np.issubdtype(a.dtype, np.integer):
        return (a // b).astype(a.dtype)
    return (a / b).astype(np.result_type(a, b))


def _reduce_mean(node: onnx.NodeProto, x: List[np.ndarray]) -> List[np.ndarray]:
    # opset 17: axes is an attribute (an input only from opset 18)
    attrs = _attrs(node)
    axes = attrs.get("axes")
    keep = bool(attrs.get("keepdims", 1))
    axis = tuple(int(a) for a in axes) if axes is not None else None  # type: ignore[union-attr]
    return [np.mean(x[0], axis=axis, keepdims=keep).astype(x[0].dtype)]


OPS: Mapping[str, Op] = {
    "Add": _binary(np.add),
    "Sub": _binary(np.subtract),
    "Mul": _binary(np.multiply),
    "Div": _binary(_div),
    "MatMul": _binary(np.matmul),
    "Equal": _binary(np.equal),
    "Less": _binary(np.less),
    "LessOrEqual": _binary(np.less_equal),
    "Greater": _binary(np.greater),
    "GreaterOrEqual": _binary(np.greater_equal),
    "And": _binary(np.logical_and),
    "Or": _binary(np.logical_or),
    "Not": _unary(np.logical_not),
    "Neg": _unary(np.negative),
    "Sqrt": _unary(np.sqrt),
    "Relu": _unary(lambda a: np.maximum(a, 0).astype(a.dtype)),
    "Identity": _unary(lambda a: a),
    "Shape": _unary(lambda a: np.asarray(a.shape, dtype=np.int64)),
    "Where": lambda node, x: [np.where(x[0], x[1], x[2])],
    "Cast": lambda node, x: [x[0].astype(_np_dtype(int(_attrs(node)["to"])))],  # type: ignore
    "Concat": lambda node, x: [np.concatenate(x, axis=int(_attrs(node)["axis"]))],  # type: ignore
    "Transpose": lambda node, x: [np.transpose(x[0], _attrs(node).get("perm"))],  # type: ignore
    "Range": lambda node, x: [np.arange(x[0], x[1], x[2]).astype(x[0].dtype)],
    "Expand": lambda node, x: [x[0] * np.ones([int(v) for v in x[1]], dtype=x[0].dtype)],
    "Gather": _gather,
    "Gemm": _gemm,
    "Reshape": _reshape,
    "Unsqueeze": _unsqueeze,
    "Squeeze": _squeeze,
    "Slice": _slice,
    "Softmax": _softmax,
    "ReduceMean": _reduce_mean,
    "LayerNormalization": _layer_norm,
    "Constant": _constant,
    "ConstantOfShape": _constant_of_shape,
}


def run(model: onnx.ModelProto, feeds: Mapping[str, np.ndarray]) -> List[np.ndarray]:
    """Evaluate ``model`` on ``feeds`` (input name -> array); returns the graph outputs."""
    graph = model.graph
    values: Dict[str, np.ndarray] = {
        init.name: numpy_helper.to_array(init) for init in graph.initializer
    }
    for inp in graph.input:
        if inp.name in values:
            continue
        if inp.name not in feeds:
            raise KeyError(f"missing input {inp.name!r}")
        values[inp.name] = np.asarray(feeds[inp.name])
    for node in graph.node:
        op = OPS.get(node.op_type)
        if op is None or node.domain not in ("", "ai.onnx"):
            raise NotImplementedError(f"unsupported ONNX op {node.domain}:{node.op_type}")
        args = [values[name] if name else None for name in node.input]
        outs = op(node, args)  # type: ignore[arg-type]
        for name, value in zip(node.output, outs):
            values[name] = value
    return [values[o.name] for o in graph.output]


def unsupported_ops(model: onnx.ModelProto) -> Sequence[str]:
    return sorted({n.op_type for n in model.graph.node if n.op_type not in OPS})
