"""Prints the hex of the one-node model backend-node's probe() loads on each provider (y = x + x, x: float32[1]).

Usage: python3 packages/backend-node/scripts/generate-probe-model.py   (needs `pip install onnx`)
Paste the output into src/probe-model.ts.
"""

import onnx
from onnx import TensorProto, helper

graph = helper.make_graph(
    [helper.make_node("Add", ["x", "x"], ["y"], name="probe_add")],
    "probe",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="qaq-backend-node")
model.ir_version = 8
onnx.checker.check_model(model)
print(model.SerializeToString(deterministic=True).hex())
