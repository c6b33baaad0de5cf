#!/usr/bin/env python3
"""Writes test/onnx/fixtures/small-resnet.onnx without PyTorch: the graph torch.onnx.export produces for
make_fixture_torch.py's SmallResNet (TorchScript exporter, opset 17, eval mode, do_constant_folding=True),
built with the onnx package's helpers from the same weights (weights.py).

    apt-get install -y python3-onnx            # Debian's onnx 1.12 and numpy
    /usr/bin/python3 scripts/onnx-fixture/make_fixture_onnx.py test/onnx/fixtures/small-resnet.onnx

What it reproduces of PyTorch's exporter: BatchNorm folded into the preceding conv (its eval-mode peephole
pass), folded weights named onnx::Conv_<n>, buffers (mean, std) and the Linear's parameters kept under
their module names, node names /<module path>/<Op>, values /<module path>/<Op>_output_0, Dropout removed,
adaptive_avg_pool2d(x, 1) as GlobalAveragePool, torch.flatten as Flatten, nn.Linear as Gemm(transB=1),
`out += identity` as Add, graph main_graph, producer pytorch. It is an honest stand-in, not PyTorch output:
docs/onnx.md says so.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from weights import fixture_weights

EPS = 1e-5


class Builder:
    def __init__(self, w):
        self.w = w
        self.nodes = []
        self.inits = []
        self.counter = 100  # PyTorch numbers its onnx::Conv_<n> constants; any increasing numbers do
        self.op_count = {}

    def init(self, name, array):
        self.inits.append(numpy_helper.from_array(np.asarray(array, dtype=np.float32), name))
        return name

    def node(self, scope, op, inputs, **attrs):
        key = (scope, op)
        k = self.op_count.get(key, 0)
        self.op_count[key] = k + 1
        base = f"{scope}/{op}" + (f"_{k}" if k else "")
        out = f"{base}_output_0"
        self.nodes.append(helper.make_node(op, inputs, [out], name=base, **attrs))
        return out

    def conv_bn(self, scope, x, conv, bn, stride, pad):
        """Conv (no bias) followed by BatchNorm, folded the way PyTorch's exporter folds them."""
        w = self.w[conv + ".weight"]
        g, b, m, v = (self.w[f"{bn}.{k}"] for k in ("weight", "bias", "running_mean", "running_var"))
        scale = g / np.sqrt(v + EPS)
        wf = w * scale[:, None, None, None]
        bf = b - m * scale
        wn = self.init(f"onnx::Conv_{self.counter}", wf)
        bnm = self.init(f"onnx::Conv_{self.counter + 1}", bf)
        self.counter += 2
        k = w.shape[2]
        return self.node(scope, "Conv", [x, wn, bnm], dilations=[1, 1], group=1, kernel_shape=[k, k], pads=[pad] * 4, strides=[stride, stride])

    def block(self, name, x, proj, stride):
        s = f"/{name}"
        out = self.conv_bn(f"{s}/conv1", x, f"{name}.conv1", f"{name}.bn1", stride, 1)
        out = self.node(s, "Relu", [out])
        out = self.conv_bn(f"{s}/conv2", out, f"{name}.conv2", f"{name}.bn2", 1, 1)
        short = self.conv_bn(f"{s}/downsample/downsample.0", x, f"{name}.downsample.0", f"{name}.downsample.1", stride, 0) if proj else x
        out = self.node(s, "Add", [out, short])
        return self.node(s, "Relu", [out])


def build():
    w = fixture_weights()
    b = Builder(w)
    mean = b.init("mean", np.array([0.5, 0.4, 0.3]).reshape(1, 3, 1, 1))
    std = b.init("std", np.array([0.25, 0.2, 0.3]).reshape(1, 3, 1, 1))
    x = b.node("", "Sub", ["input", mean])
    x = b.node("", "Div", [x, std])
    x = b.conv_bn("/conv1", x, "conv1", "bn1", 1, 1)
    x = b.node("", "Relu", [x])
    x = b.node("/pool", "MaxPool", [x], ceil_mode=0, kernel_shape=[2, 2], pads=[0, 0, 0, 0], strides=[2, 2])
    x = b.block("layer1", x, True, 2)
    x = b.block("layer2", x, False, 1)
    x = b.node("", "GlobalAveragePool", [x])
    x = b.node("", "Flatten", [x], axis=1)
    fw = b.init("fc.weight", w["fc.weight"])
    fb = b.init("fc.bias", w["fc.bias"])
    b.nodes.append(helper.make_node("Gemm", [x, fw, fb], ["logits"], name="/fc/Gemm", alpha=1.0, beta=1.0, transB=1))
    graph = helper.make_graph(
        b.nodes, "main_graph",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, 12, 12])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 5])],
        b.inits,
    )
    model = helper.make_model(graph, producer_name="pytorch", producer_version="2.1.0", opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "small-resnet.onnx"
    onnx.save(build(), out)
    print(f"wrote {out}")
