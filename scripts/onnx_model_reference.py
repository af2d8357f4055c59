#!/usr/bin/env python3
"""Runs a whole model in ONNX Runtime, for Tessera's model-throughput benchmark.

Usage: onnx_model_reference.py MODEL.onnx INPUT.npy TESSERA_OUTPUT.npy REPEATS THREADS

Runs MODEL on INPUT with ONNX Runtime's CPU execution provider (THREADS intra-op threads, all
graph optimisations), checks its output against the output Tessera computed for the same model and
input, and prints one JSON object: the median seconds per run over REPEATS runs after one warm-up,
the largest absolute difference from Tessera's output and that difference relative to the largest
absolute output. Installs onnx and onnxruntime from PyPI if they are missing.
"""
import json
import subprocess
import sys
import time


def ensure_packages():
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "onnx", "onnxruntime", "numpy"])


def main():
    ensure_packages()
    import numpy as np
    import onnxruntime as ort

    model, input_path, tessera_path, repeats, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    x = np.load(input_path)
    feed = {session.get_inputs()[0].name: x}
    output = session.run(None, feed)[0]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        session.run(None, feed)
        times.append(time.perf_counter() - start)
    tessera = np.load(tessera_path)
    difference = float(np.max(np.abs(output - tessera)))
    scale = float(np.max(np.abs(output)))
    json.dump({"seconds": sorted(times)[len(times) // 2], "maxAbsoluteDifference": difference,
               "relativeDifference": difference / scale if scale > 0 else difference,
               "version": ort.__version__}, sys.stdout)


if __name__ == "__main__":
    main()
