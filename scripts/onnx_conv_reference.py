#!/usr/bin/env python3
"""Times single convolution layers in ONNX Runtime, for Tessera's kernel benchmark.

Reads a JSON list of convolution shapes on stdin (fields: name, batch, inputChannels,
outputChannels, groups, height, width, kernel, stride, padding), builds a one-node ONNX model for
each with random float32 weights, runs it in ONNX Runtime on this machine, and prints a JSON list
with the median seconds per run and the GFLOP/s of each layer. Installs onnx and onnxruntime from
PyPI if they are missing.
"""
import json
import subprocess
import sys
import time


def ensure_packages():
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "onnx", "onnxruntime", "numpy"])


def conv_model(shape):
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    weights = rng.standard_normal(
        (shape["outputChannels"], shape["inputChannels"] // shape["groups"], shape["kernel"], shape["kernel"]),
        dtype=np.float32)
    node = helper.make_node(
        "Conv", ["x", "w"], ["y"], group=shape["groups"], kernel_shape=[shape["kernel"]] * 2,
        strides=[shape["stride"]] * 2, pads=[shape["padding"]] * 4)
    graph = helper.make_graph(
        [node], shape["name"],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                       [shape["batch"], shape["inputChannels"], shape["height"], shape["width"]])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=[numpy_helper.from_array(weights, "w")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def main():
    ensure_packages()
    import numpy as np
    import onnxruntime as ort

    shapes = json.load(sys.stdin)
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    results = []
    for shape in shapes:
        session = ort.InferenceSession(conv_model(shape), providers=["CPUExecutionProvider"])
        x = np.random.default_rng(1).standard_normal(
            (shape["batch"], shape["inputChannels"], shape["height"], shape["width"]), dtype=np.float32)
        session.run(None, {"x": x})
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            session.run(None, {"x": x})
            times.append(time.perf_counter() - start)
        seconds = sorted(times)[len(times) // 2]
        results.append({"name": shape["name"], "seconds": seconds, "gflops": shape["flops"] / seconds / 1e9})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
