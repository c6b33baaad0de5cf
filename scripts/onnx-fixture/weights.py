"""Deterministic weights of the fixture network (PyTorch state_dict names and layouts), shared by
make_fixture_torch.py and make_fixture_onnx.py so both describe the same model."""
import numpy as np


def _bn(rng, prefix, c, out):
    out[prefix + ".weight"] = rng.uniform(0.5, 1.5, c).astype(np.float32)
    out[prefix + ".bias"] = rng.uniform(-0.2, 0.2, c).astype(np.float32)
    out[prefix + ".running_mean"] = rng.uniform(-0.3, 0.3, c).astype(np.float32)
    out[prefix + ".running_var"] = rng.uniform(0.5, 2.0, c).astype(np.float32)


def _conv(rng, name, cout, cin, k, out):
    bound = 1.0 / np.sqrt(cin * k * k)
    out[name] = rng.uniform(-bound, bound, (cout, cin, k, k)).astype(np.float32) * np.float32(np.sqrt(3.0))


def fixture_weights():
    rng = np.random.RandomState(13)
    w = {}
    _conv(rng, "conv1.weight", 8, 3, 3, w)
    _bn(rng, "bn1", 8, w)
    for name, cin, cout, proj in (("layer1", 8, 16, True), ("layer2", 16, 16, False)):
        _conv(rng, name + ".conv1.weight", cout, cin, 3, w)
        _bn(rng, name + ".bn1", cout, w)
        _conv(rng, name + ".conv2.weight", cout, cout, 3, w)
        _bn(rng, name + ".bn2", cout, w)
        if proj:
            _conv(rng, name + ".downsample.0.weight", cout, cin, 1, w)
            _bn(rng, name + ".downsample.1", cout, w)
    w["fc.weight"] = rng.uniform(-1, 1, (5, 16)).astype(np.float32)
    w["fc.bias"] = rng.uniform(-0.1, 0.1, 5).astype(np.float32)
    return w
