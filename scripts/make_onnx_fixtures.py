#!/usr/bin/env python3
"""Writes the small ONNX models Tessera's importer is tested on, with ONNX Runtime's outputs.

For each model: Tests/TesseraModelsTests/Fixtures/<name>.onnx, <name>.input.npy and
<name>.output.npy (float32). The models use the operators and layouts torch.onnx.export produces
for torchvision's ResNet-50 and EfficientNet-B0 (Conv with and without bias, BatchNormalization,
Relu, Sigmoid·Mul for SiLU, squeeze-excitation, residual Add, MaxPool, GlobalAveragePool,
Flatten, Gemm), at opsets 13 and 17. Run once and commit the files: `swift test` needs no Python.
Needs `pip install onnx onnxruntime numpy`.
"""
import os

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "TesseraModelsTests", "Fixtures")
rng = np.random.default_rng(2026)


class Model:
    def __init__(self, name, input_shape, opset):
        self.name, self.input_shape, self.opset = name, input_shape, opset
        self.nodes, self.initializers, self.count = [], [], 0

    def fresh(self, prefix):
        self.count += 1
        return f"{prefix}_{self.count}"

    def weight(self, name, shape, scale=None):
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
        values = (rng.standard_normal(shape) * (scale if scale is not None else 1 / np.sqrt(fan_in))).astype(np.float32)
        self.initializers.append(numpy_helper.from_array(values, name))
        return name

    def conv(self, x, name, cin, cout, k, stride=1, groups=1, bias=False):
        inputs = [x, self.weight(f"{name}.weight", (cout, cin // groups, k, k))]
        if bias:
            inputs.append(self.weight(f"{name}.bias", (cout,), 0.1))
        y = self.fresh(name)
        self.nodes.append(helper.make_node("Conv", inputs, [y], name=name, kernel_shape=[k, k], strides=[stride, stride],
                                           pads=[k // 2] * 4, group=groups, dilations=[1, 1]))
        return y

    def bn(self, x, name, c):
        gamma = self.weight(f"{name}.weight", (c,), 0.2)
        self.initializers[-1] = numpy_helper.from_array((1 + numpy_helper.to_array(self.initializers[-1])).astype(np.float32), gamma)
        beta = self.weight(f"{name}.bias", (c,), 0.1)
        mean = self.weight(f"{name}.running_mean", (c,), 0.1)
        var = numpy_helper.from_array((0.5 + rng.random(c)).astype(np.float32), f"{name}.running_var")
        self.initializers.append(var)
        y = self.fresh(name)
        self.nodes.append(helper.make_node("BatchNormalization", [x, gamma, beta, mean, f"{name}.running_var"], [y],
                                           name=name, epsilon=1e-5))
        return y

    def op(self, kind, inputs, **attributes):
        y = self.fresh(kind.lower())
        self.nodes.append(helper.make_node(kind, inputs, [y], name=y, **attributes))
        return y

    def silu(self, x):
        return self.op("Mul", [x, self.op("Sigmoid", [x])])

    def save(self, output):
        def build(shape):
            graph = helper.make_graph(self.nodes, self.name,
                                      [helper.make_tensor_value_info("input", TensorProto.FLOAT, self.input_shape)],
                                      [helper.make_tensor_value_info(output, TensorProto.FLOAT, shape)], self.initializers)
            return helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)], producer_name="tessera-fixtures")

        x = rng.standard_normal(self.input_shape).astype(np.float32)
        probe = ort.InferenceSession(build(None).SerializeToString(), providers=["CPUExecutionProvider"])
        shape = list(probe.run(None, {"input": x})[0].shape)
        model = build(shape)
        onnx.checker.check_model(model, full_check=True)
        path = os.path.join(OUT, self.name)
        onnx.save(model, path + ".onnx")
        y = ort.InferenceSession(path + ".onnx", providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
        np.save(path + ".input.npy", x)
        np.save(path + ".output.npy", y.astype(np.float32))
        print(f"{self.name}: {len(self.nodes)} nodes, output {list(y.shape)}")


def convolutions():
    m = Model("convolutions", [2, 3, 11, 9], 13)
    x = m.op("Relu", [m.conv("input", "conv1", 3, 8, 3, bias=True)])
    m.save(m.conv(x, "conv2", 8, 16, 3, stride=2))


def residual_block():
    m = Model("residual_block", [2, 16, 8, 8], 17)
    y = m.op("Relu", [m.bn(m.conv("input", "layer1.0.conv1", 16, 8, 1), "layer1.0.bn1", 8)])
    y = m.op("Relu", [m.bn(m.conv(y, "layer1.0.conv2", 8, 8, 3), "layer1.0.bn2", 8)])
    y = m.bn(m.conv(y, "layer1.0.conv3", 8, 32, 1), "layer1.0.bn3", 32)
    shortcut = m.bn(m.conv("input", "layer1.0.downsample.0", 16, 32, 1), "layer1.0.downsample.1", 32)
    y = m.op("Relu", [m.op("Add", [y, shortcut])])
    y = m.op("MaxPool", [y], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    y = m.op("Flatten", [m.op("GlobalAveragePool", [y])], axis=1)
    w = m.weight("fc.weight", (10, 32))
    b = m.weight("fc.bias", (10,), 0.1)
    m.save(m.op("Gemm", [y, w, b], transB=1))


def mbconv_squeeze_excitation():
    m = Model("mbconv_se", [2, 16, 9, 9], 17)
    hidden = 64
    y = m.silu(m.bn(m.conv("input", "block.0.0", 16, hidden, 1), "block.0.1", hidden))
    y = m.silu(m.bn(m.conv(y, "block.1.0", hidden, hidden, 5, groups=hidden), "block.1.1", hidden))
    s = m.op("GlobalAveragePool", [y])
    s = m.silu(m.conv(s, "block.2.fc1", hidden, 4, 1, bias=True))
    s = m.op("Sigmoid", [m.conv(s, "block.2.fc2", 4, hidden, 1, bias=True)])
    y = m.op("Mul", [y, s])
    y = m.bn(m.conv(y, "block.3.0", hidden, 16, 1), "block.3.1", 16)
    m.save(m.op("Add", [y, "input"]))


def grouped_and_depthwise():
    m = Model("grouped_depthwise", [2, 32, 10, 10], 17)
    y = m.conv("input", "grouped", 32, 32, 3, groups=2, bias=True)
    y = m.conv(y, "depthwise", 32, 32, 3, stride=2, groups=32)
    m.save(y)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    convolutions()
    residual_block()
    mbconv_squeeze_excitation()
    grouped_and_depthwise()
