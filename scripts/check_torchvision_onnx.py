#!/usr/bin/env python3
"""Checks Tessera against ONNX Runtime on torchvision's full ResNet-50 and EfficientNet-B0 as
torch.onnx.export writes them. By hand, not in CI: it needs torch and torchvision (several GB).

Usage: check_torchvision_onnx.py [WORKDIR]   (after `swift build -c release --product tessera`)

For each model (random weights with a fixed seed; no weights are downloaded) and each exporter
(TorchScript at opsets 13 and 17, dynamo at opset 18, which writes the weights as external data),
exports a batch-2 224 × 224 model, runs it in ONNX Runtime and in `tessera run MODEL --input
--save-outputs`, and prints the largest difference relative to the largest output.
"""
import os
import subprocess
import sys

import numpy as np
import onnxruntime as ort
import torch
import torchvision

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
TESSERA = os.path.join(ROOT, ".build", "release", "tessera")


def check(work, name, opset, dynamo):
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=None).eval()
    x = torch.randn(2, 3, 224, 224)
    stem = os.path.join(work, f"{name}_opset{opset}_{'dynamo' if dynamo else 'torchscript'}")
    torch.onnx.export(model, (x,), stem + ".onnx", opset_version=opset, dynamo=dynamo, input_names=["input"], output_names=["output"])
    expected = ort.InferenceSession(stem + ".onnx").run(None, {"input": x.numpy()})[0]
    np.save(stem + ".input.npy", x.numpy())
    run = subprocess.run([TESSERA, "run", stem + ".onnx", "--input", stem + ".input.npy", "--save-outputs", stem + ".tessera.npy"],
                         capture_output=True, text=True)
    if run.returncode != 0:
        print(f"{os.path.basename(stem)}: tessera failed: {run.stderr.strip() or run.stdout.strip()[-500:]}")
        return
    actual = np.load(stem + ".tessera.npy")
    difference = float(np.max(np.abs(actual - expected)))
    print(f"{os.path.basename(stem)}: max |Tessera − ONNX Runtime| = {difference:.3g}, "
          f"{difference / float(np.max(np.abs(expected))):.3g} of the largest output")


if __name__ == "__main__":
    work = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "reports", "torchvision-onnx")
    os.makedirs(work, exist_ok=True)
    for name in ["resnet50", "efficientnet_b0"]:
        for opset, dynamo in [(13, False), (17, False), (18, True)]:
            check(work, name, opset, dynamo)
