#!/usr/bin/env python3
"""Loads a bnlab model.safetensors into the equivalent torch.nn.Sequential with
load_state_dict(strict=True) and checks that PyTorch gives the test accuracy bnlab reported.

  /usr/bin/python3 scripts/check_torch_load.py RUN_DIR/model.safetensors [RUN_DIR/metrics.json]

Without a metrics.json (a checkpoint outside a run directory) it only loads the checkpoint and runs
the model in eval mode on random inputs of the checkpoint's input shape. Images are channels first:
`bn` on (C, H, W) samples is nn.BatchNorm2d, `gn:G` is nn.GroupNorm(G, C).

Needs Debian's python3-torch (not part of CI). Reads safetensors with the standard library, so
the `safetensors` package is not needed.
"""
import gzip, json, os, struct, sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPES = {"F32": torch.float32, "I64": torch.int64, "F64": torch.float64, "I32": torch.int32, "U8": torch.uint8}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        buf = bytearray(data[8 + n + begin:8 + n + end])
        tensors[name] = torch.frombuffer(buf, dtype=DTYPES[info["dtype"]]).reshape(info["shape"]).clone()
    return tensors, meta


def pair(text):
    """'3' -> (3, 3), '3x5' -> (3, 5)."""
    h, _, w = text.partition("x")
    return int(h), int(w or h)


def same_padding(size, kernel, stride):
    """TensorFlow's SAME padding along one axis, as bnlab pads: (before, after)."""
    out = (size + stride - 1) // stride
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class SameConv2d(nn.Conv2d):
    """nn.Conv2d after TensorFlow's SAME zeros, which may be one more after the image than before
    (nn.Conv2d's padding='same' takes stride 1 only). Its parameters are nn.Conv2d's, so the
    state_dict names are the same."""

    def __init__(self, *args, pads, **kwargs):
        super().__init__(*args, **kwargs)
        self.pads = pads  # (left, right, top, bottom)

    def forward(self, x):
        return super().forward(F.pad(x, self.pads))


ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


def option(opts, key, default):
    """The value of `key=value` among a spec token's options, as a float."""
    return next((float(o.split("=", 1)[1]) for o in opts if o.startswith(key + "=")), default)


def activation(name):
    return nn.Softmax(dim=1) if name == "softmax" else ACTIVATIONS[name]()


def torch_model(spec, bn_meta, input_shape):
    """The nn.Sequential bnlab's checkpoint names follow: one module per layer, but Dense and Conv2D
    with an activation -> Linear / Conv2d + the activation, and gap -> AdaptiveAvgPool2d + Flatten.
    shape: one sample's, (C, H, W) for images ((H, W) input is one channel)."""
    modules, bns = [], iter(bn_meta)
    shape = list(input_shape)
    for token in spec.split(","):
        kind, *opts = token.split("@")[0].split(":")
        image = [1] + shape if len(shape) == 2 else shape
        if kind == "flatten":
            modules.append(nn.Flatten())
            shape = [int(np.prod(shape))]
        elif kind == "dense":
            units = int(opts[0])
            modules.append(nn.Linear(shape[0], units, bias="nobias" not in opts))
            act = next((o for o in opts[1:] if o != "nobias"), "linear")
            if act != "linear":
                modules.append(activation(act))
            shape = [units]
        elif kind == "conv":
            filters, (kh, kw) = int(opts[0]), pair(opts[1])
            stride, same, bias, act = (1, 1), False, True, "linear"
            for o in opts[2:]:
                if o.startswith("stride="):
                    stride = pair(o[7:])
                elif o in ("same", "valid"):
                    same = o == "same"
                elif o in ("nobias", "bias=0"):
                    bias = False
                elif o != "bias=1":
                    act = o
            c, h, w = image
            if same:
                (top, bottom), (left, right) = same_padding(h, kh, stride[0]), same_padding(w, kw, stride[1])
                modules.append(SameConv2d(c, filters, (kh, kw), stride=stride, bias=bias, pads=(left, right, top, bottom)))
                h, w = (h + stride[0] - 1) // stride[0], (w + stride[1] - 1) // stride[1]
            else:
                modules.append(nn.Conv2d(c, filters, (kh, kw), stride=stride, bias=bias))
                h, w = (h - kh) // stride[0] + 1, (w - kw) // stride[1] + 1
            if act != "linear":
                modules.append(activation(act))
            shape = [filters, h, w]
        elif kind in ("maxpool", "avgpool"):
            pool = pair(opts[0])
            stride = next((pair(o[7:]) for o in opts[1:] if o.startswith("stride=")), pool)
            modules.append((nn.MaxPool2d if kind == "maxpool" else nn.AvgPool2d)(pool, stride=stride))
            c, h, w = image
            shape = [c, (h - pool[0]) // stride[0] + 1, (w - pool[1]) // stride[1] + 1][3 - len(shape):]
        elif kind == "gap":
            modules += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
            shape = [image[0]]
        elif kind == "bn":
            b = next(bns)
            modules.append(nn.BatchNorm1d(shape[0], eps=b["eps"]) if len(shape) == 1
                           else nn.BatchNorm2d(shape[0], eps=b["eps"]))
        elif kind == "gn":
            affine = "center=0" not in opts and "scale=0" not in opts
            modules.append(nn.GroupNorm(int(opts[0]), shape[0], eps=option(opts, "eps", 1e-5), affine=affine))
        elif kind == "ln":
            modules.append(nn.LayerNorm(shape[0], eps=option(opts, "eps", 1e-3)))
        elif kind == "dropout":
            modules.append(nn.Dropout(float(opts[0])))
        else:
            modules.append(activation(kind))
    return nn.Sequential(*modules)


def mnist_test():
    root = os.path.join(os.environ.get("BNLAB_DATA") or os.path.expanduser("~/.cache/bnlab"), "mnist")

    def idx(name):
        path = os.path.join(root, name)
        data = open(path, "rb").read() if os.path.exists(path) else gzip.open(path + ".gz").read()
        rank = data[3]
        dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
        return np.frombuffer(data, np.uint8, offset=4 + 4 * rank).reshape(dims)

    return torch.from_numpy(idx("t10k-images-idx3-ubyte") / 255.0).float(), torch.from_numpy(idx("t10k-labels-idx1-ubyte").astype(np.int64))


def main():
    ckpt = sys.argv[1]
    metrics = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(ckpt), "metrics.json")
    state, meta = read_safetensors(ckpt)
    input_shape = json.loads(meta["input_shape"])
    model = torch_model(meta["spec"], json.loads(meta["batchnorm"]), input_shape)
    model.load_state_dict(state, strict=True)
    model.eval()
    image_layers = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d)
    if len(input_shape) == 2 and any(isinstance(m, image_layers) for m in model):
        input_shape = [1] + input_shape  # (H, W) samples are one channel, as bnlab takes them
    if not os.path.exists(metrics):
        with torch.no_grad():
            out = model(torch.rand([8] + input_shape))
        print(f"loaded into {model} with strict=True; eval output {tuple(out.shape)}")
        return
    x, y = mnist_test()
    x = x.reshape([-1] + input_shape)
    with torch.no_grad():
        accuracy = (model(x).argmax(1) == y).float().mean().item()
    expected = json.load(open(metrics))["test"]["accuracy"]
    print(f"PyTorch test accuracy {accuracy:.4f}; bnlab reported {expected:.4f}")
    sys.exit(0 if abs(accuracy - expected) < 1e-4 else 1)


if __name__ == "__main__":
    main()
