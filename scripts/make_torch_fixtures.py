#!/usr/bin/env python3
"""Writes ONNX fixtures made by PyTorch's own exporters from torchvision's own modules.

Where make_onnx_fixtures.py writes the operator patterns by hand, these files come out of
torch.onnx.export, so Tessera's importer is tested on exactly what users feed it: batch norm
folded into convolutions, deduplicated weights behind Identity nodes, Flatten/Reshape before Gemm,
SiLU as Sigmoid·Mul, squeeze-excitation through GlobalAveragePool or ReduceMean with axes as an
input (opset 18). Two small models (small so the files can be committed):

- torch_resnet_blocks: a stem and three torchvision Bottleneck blocks (one with a stride-2
  projection), pooled into a Linear head; TorchScript exporter, opset 13. The middle block keeps
  its fresh batch norms, so two of its folded biases are deduplicated behind Identity nodes.
- torch_efficientnet_small: torchvision's EfficientNet-B0 built at width 0.25 and depth 0.25;
  the dynamo exporter, opset 18.

For each: Tests/TesseraModelsTests/Fixtures/<name>.onnx, <name>.input.npy and <name>.output.npy
(ONNX Runtime's output, checked against PyTorch's). Run once and commit the files; swift test needs
no Python. Needs torch, torchvision, onnx, onnxscript and onnxruntime (pip), which CI never installs.
"""
import os

import numpy as np
import onnxruntime as ort
import torch
from torch import nn
from torchvision.models import efficientnet, resnet

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "TesseraModelsTests", "Fixtures")


def resnet_blocks():
    def projection(cin, cout, stride):
        return nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    return nn.Sequential(
        nn.Conv2d(3, 16, 7, 2, 3, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1),
        resnet.Bottleneck(16, 8, downsample=projection(16, 32, 1)),
        resnet.Bottleneck(32, 8),
        resnet.Bottleneck(32, 16, stride=2, downsample=projection(32, 64, 2)),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))


def efficientnet_small():
    setting, last_channel = efficientnet._efficientnet_conf("efficientnet_b0", width_mult=0.25, depth_mult=0.25)
    return efficientnet.EfficientNet(setting, dropout=0.2, last_channel=last_channel, num_classes=10)


def randomise_statistics(model, generator, keep=None):
    """Batch norm with non-trivial statistics and affine terms, so folding them is really tested.

    The batch norms inside `keep` stay as constructed: their folded biases are all zero, equal
    for equal channel counts, so the exporter deduplicates them behind Identity nodes."""
    kept = set(keep.modules()) if keep is not None else set()
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d) and module not in kept:
            channels = module.num_features
            module.running_mean.copy_(torch.randn(channels, generator=generator) * 0.1)
            module.running_var.copy_(torch.rand(channels, generator=generator) * 0.5 + 0.75)
            module.weight.data.copy_(torch.rand(channels, generator=generator) * 0.5 + 0.75)
            module.bias.data.copy_(torch.randn(channels, generator=generator) * 0.1)


def write(name, model, input_shape, opset, dynamo, keep=None):
    generator = torch.Generator().manual_seed(2026)
    with torch.no_grad():
        randomise_statistics(model, generator, keep)
    model.eval()
    x = torch.randn(*input_shape, generator=generator)
    path = os.path.join(OUT, f"{name}.onnx")
    torch.onnx.export(model, (x,), path, opset_version=opset, dynamo=dynamo, input_names=["input"], output_names=["output"])
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    y = session.run(None, {"input": x.numpy()})[0]
    with torch.no_grad():
        assert np.allclose(model(x).numpy(), y, rtol=1e-4, atol=1e-5), name
    np.save(os.path.join(OUT, f"{name}.input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(OUT, f"{name}.output.npy"), y.astype(np.float32))
    print(name, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    torch.manual_seed(2026)
    blocks = resnet_blocks()
    write("torch_resnet_blocks", blocks, (2, 3, 32, 32), opset=13, dynamo=False, keep=blocks[5])
    write("torch_efficientnet_small", efficientnet_small(), (2, 3, 32, 32), opset=18, dynamo=True)
