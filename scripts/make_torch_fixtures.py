#!/usr/bin/python3
"""Makes the PyTorch fixtures under tests/data/torch/ (run once; the files are committed).

For each architecture of samples/torch_import.cpp (mlp, cnn, cnn_bn) it trains the PyTorch
nn.Sequential for one epoch on Fashion-MNIST (seeded), then writes its state dict as
  <arch>.safetensors   (F32; written by the small writer below, no safetensors package needed)
  <arch>.npz           (np.savez_compressed: deflated members)
  <arch>.onnx          (torch.onnx.export, eval mode, initializers named as the state dict)
and what kiln must reproduce:
  <arch>_logits.npy    (float32 [32, 10]: logits of the first 32 test images, eval mode)
  <arch>.json          ({"test_accuracy": ...} over the 10,000 test images)
plus dtypes.safetensors: the same values stored as F16, BF16 and F64 beside their float32
conversions by PyTorch (kiln must convert them identically).

Needs python3-torch and python3-numpy (Debian 12); never used by the build or the tests.
Usage: scripts/make_torch_fixtures.py [fashion-mnist folder]
"""
import copy, gzip, json, os, struct, sys

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "data", "torch")
DATA = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"


def idx(name):
    path = os.path.join(DATA, name + ".gz")
    with (gzip.open(path) if os.path.exists(path) else open(path[:-3], "rb")) as f:
        raw = f.read()
    rank = raw[3]
    dims = struct.unpack(">" + "I" * rank, raw[4:4 + 4 * rank])
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * rank).reshape(dims)


def images(split):
    x = idx(split + "-images-idx3-ubyte").astype(np.float32) / np.float32(255)
    return torch.from_numpy(x).reshape(-1, 1, 28, 28)


def labels(split):
    return torch.from_numpy(idx(split + "-labels-idx1-ubyte").astype(np.int64))


def architectures():
    def cnn(bn):
        layers = [nn.Conv2d(1, 8, 3, padding=1)]
        if bn:
            layers.append(nn.BatchNorm2d(8))
        layers += [nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
                   nn.MaxPool2d(2), nn.Flatten(), nn.Linear(784, 10)]
        return nn.Sequential(*layers)
    return {
        "mlp": lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10)),
        "cnn": lambda: cnn(False),
        "cnn_bn": lambda: cnn(True),
    }


def write_safetensors(path, tensors):
    """tensors: name -> torch tensor. The format: u64 header length, JSON header, data."""
    names = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
             torch.float64: "F64", torch.int64: "I64"}
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        raw = (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes()
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def export_onnx(model, example, path):
    """Exports with the initializers named as the state dict. In eval mode the exporter folds
    BatchNorm into the convolution before it (new tensors, new names); in training mode it keeps
    them, but its tracing pass would move the running statistics: so a copy whose BatchNorm
    momentum is 0 is exported in training mode (the statistics stay; the file's BatchNorm nodes say
    training_mode=1, which kiln ignores: it reads only the initializers)."""
    frozen = copy.deepcopy(model)
    for m in frozen.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = 0.0
    torch.onnx.export(frozen, example, path, do_constant_folding=False,
                      training=torch.onnx.TrainingMode.TRAINING)


def train_one_epoch(model, x, y):
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    model.train()
    order = torch.randperm(len(x))
    for i in range(0, len(x), 64):
        batch = order[i:i + 64]
        opt.zero_grad()
        nn.functional.cross_entropy(model(x[batch]), y[batch]).backward()
        opt.step()
    model.eval()


def main():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    train_x, train_y = images("train"), labels("train")
    test_x, test_y = images("t10k"), labels("t10k")
    for arch, make in architectures().items():
        model = make()
        train_one_epoch(model, train_x, train_y)
        state = model.state_dict()
        base = os.path.join(OUT, arch)
        write_safetensors(base + ".safetensors", state)
        np.savez_compressed(base + ".npz", **{k: v.numpy() for k, v in state.items()})
        export_onnx(model, test_x[:1], base + ".onnx")
        with torch.no_grad():
            logits = model(test_x)
        np.save(base + "_logits.npy", logits[:32].numpy().astype(np.float32))
        accuracy = (logits.argmax(1) == test_y).double().mean().item()
        with open(base + ".json", "w") as f:
            json.dump({"test_accuracy": accuracy}, f)
        print(f"{arch}: test accuracy {accuracy:.4f}")

    values = torch.tensor([0.1, -2.5, 3.14159, 65504.0, 1e-6, -0.0, 1234.5678])
    stored = {"half": values.half(), "bfloat": values.bfloat16(), "double": values.double() / 3}
    expected = {name + "_as_float": t.float() for name, t in stored.items()}
    write_safetensors(os.path.join(OUT, "dtypes.safetensors"), {**stored, **expected})


if __name__ == "__main__":
    main()
