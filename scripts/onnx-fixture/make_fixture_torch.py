#!/usr/bin/env python3
"""The network behind test/onnx/fixtures/small-resnet.onnx, exported the way docs/onnx.md tells PyTorch
users to export their models for `goten import`.

    pip install torch onnx        # PyTorch >= 2.1
    python3 scripts/onnx-fixture/make_fixture_torch.py test/onnx/fixtures/small-resnet.onnx

PyTorch is not installed on this project's machines (and they cannot download it), so the committed
fixture was NOT produced by this script: it was written by make_fixture_onnx.py, which builds the graph
that torch.onnx.export (TorchScript exporter, opset 17, eval mode, constant folding) produces for this
network, with the same deterministic weights. See docs/onnx.md, "The PyTorch fixture".
"""
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from weights import fixture_weights  # the same numbers make_fixture_onnx.py uses


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += x if self.downsample is None else self.downsample(x)
        return F.relu(out)


class SmallResNet(nn.Module):
    """3x12x12 inputs in [0, 1], 5 classes; the normalisation is part of the model (goten's convention)."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor([0.5, 0.4, 0.3]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.25, 0.2, 0.3]).view(1, 3, 1, 1))
        self.conv1 = nn.Conv2d(3, 8, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2)
        self.layer1 = BasicBlock(8, 16, 2)
        self.layer2 = BasicBlock(16, 16, 1)
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        x = (x - self.mean) / self.std
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = self.layer2(self.layer1(x))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.fc(self.drop(x))


def main(out):
    model = SmallResNet()
    state = {k: torch.from_numpy(v) for k, v in fixture_weights().items()}
    model.load_state_dict(state, strict=False)  # mean/std are set in __init__
    model.eval()
    x = torch.rand(2, 3, 12, 12)
    torch.onnx.export(
        model, x, out,
        input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        opset_version=17, do_constant_folding=True, dynamo=False,
    )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "small-resnet.onnx")
