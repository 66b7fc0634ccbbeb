#!/usr/bin/python3
"""samples/fmnist_cnn.hpp's recipe in PyTorch, for the time-to-accuracy comparison of
scripts/accuracy.sh (part `peer`): the same model, data, augmentation, loss, optimizer,
schedule, batch and epochs, and the same test-time flip averaging.

  /usr/bin/python3 scripts/peer_fmnist_cnn.py [--seed 0] [--threads 2] [--epochs 25]
                                             [--data /usr/share/datasets/fashion-mnist]
                                             [--out metrics.csv]

Writes metrics.csv with kiln's columns (epoch, lr, train_loss, train_accuracy, test_loss,
test_accuracy, seconds = that epoch's training loop, evaluation left out) and prints
`test_accuracy=<v>` last, as the kiln sample does. Needs python3-torch (Debian's PyTorch 1.13);
kiln never does. Initialization and sample order are PyTorch's own: the two runs are the same
recipe, not the same numbers.

The recipe, written out (keep it in step with samples/fmnist_cnn.hpp):
  conv 3x3 32 pad 1 - BN - ReLU - max pool 2 - conv 3x3 64 pad 1 - BN - ReLU - max pool 2 -
  residual block (conv 64 - BN - ReLU - conv 64 - BN; stochastic depth: the block's f(x) kept
  with probability 0.9 per batch in training, scaled by 0.9 at test) - ReLU - dense 256 - BN -
  ReLU - dropout 0.2 - dense 10; CrossEntropyLoss(label_smoothing=0.1); random crop (pad 2,
  zeros) and horizontal flip (p 0.5) per sample; SGD lr 0.05, momentum 0.9, Nesterov, coupled L2
  5e-4 on conv and dense weights (not biases, not batch norm: kiln's l2 default); lr per step:
  linear warmup from 0.1x over the first epoch times cosine annealing over 25 epochs; batch 64;
  evaluation averages the logits of each image and its mirror image. kiln's products run in
  bf16 (f32 master weights, the plan's .precision); PyTorch's here in f32, its CPU default.
"""
import argparse
import gzip
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(data_dir):
    def part(prefix):
        x = read_idx(os.path.join(data_dir, prefix + "-images-idx3-ubyte.gz"))
        y = read_idx(os.path.join(data_dir, prefix + "-labels-idx1-ubyte.gz"))
        return (torch.from_numpy(x.astype(np.float32) / 255).unsqueeze(1),
                torch.from_numpy(y.astype(np.int64)))
    return part("train"), part("t10k")


class Residual(nn.Module):
    def __init__(self, channels, survival):
        super().__init__()
        self.survival = survival
        self.f = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1), nn.BatchNorm2d(channels), nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=1), nn.BatchNorm2d(channels))

    def forward(self, x):
        if self.training:
            # The whole batch's f(x) skipped with probability 1 - survival (kiln's
            # stochastic_depth; its batch-norm statistics then do not move either).
            return x + self.f(x) if torch.rand(()) < self.survival else x
        return x + self.survival * self.f(x)


def model():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        Residual(64, 0.9), nn.ReLU(), nn.Flatten(),
        nn.Linear(64 * 7 * 7, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(256, 10))


def augment(x, gen):
    """Random crop with zero padding 2 and horizontal flip (p 0.5), per sample."""
    n = x.shape[0]
    padded = F.pad(x, (2, 2, 2, 2))
    dx = torch.randint(0, 5, (n,), generator=gen)
    dy = torch.randint(0, 5, (n,), generator=gen)
    rows = (dy.view(n, 1) + torch.arange(28).view(1, 28)).view(n, 1, 28, 1).expand(n, 1, 28, 32)
    out = padded.gather(2, rows)
    cols = (dx.view(n, 1) + torch.arange(28).view(1, 28)).view(n, 1, 1, 28).expand(n, 1, 28, 28)
    out = out.gather(3, cols)
    flip = torch.rand(n, generator=gen) < 0.5
    out[flip] = out[flip].flip(3)
    return out


def evaluate(net, x, y, criterion):
    net.eval()
    loss = correct = 0.0
    with torch.no_grad():
        for i in range(0, len(x), 1000):
            xb, yb = x[i:i + 1000], y[i:i + 1000]
            z = (net(xb) + net(xb.flip(3))) * 0.5  # test-time flip averaging
            loss += criterion(z, yb).item() * len(xb)
            correct += (z.argmax(1) == yb).sum().item()
    return loss / len(x), correct / len(x)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--out", default="metrics.csv")
    a = ap.parse_args()
    if a.threads < 1 or a.epochs < 1:
        sys.exit("error: --threads and --epochs must be at least 1")
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    (xtr, ytr), (xte, yte) = load(a.data)
    net = model()
    decay = [p for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear)) for p in [m.weight]]
    rest = [p for p in net.parameters() if all(p is not d for d in decay)]
    base_lr, batch, period = 0.05, 64, 25
    opt = torch.optim.SGD([{"params": decay, "weight_decay": 5e-4},
                           {"params": rest, "weight_decay": 0}],
                          lr=base_lr, momentum=0.9, nesterov=True)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    steps_per_epoch = math.ceil(len(xtr) / batch)

    def lr_at(step):
        warm = 0.1 + 0.9 * min(step / steps_per_epoch, 1.0)
        return base_lr * warm * (1 + math.cos(math.pi * (step / steps_per_epoch % period) / period)) / 2

    with open(a.out, "w") as csv:
        csv.write("epoch,lr,train_loss,train_accuracy,test_loss,test_accuracy,seconds\n")
        step = 0
        for epoch in range(1, a.epochs + 1):
            net.train()
            order = torch.randperm(len(xtr), generator=gen)
            start = time.perf_counter()
            loss_sum = correct = 0.0
            first_lr = lr_at(step)
            for i in range(0, len(xtr), batch):
                idx = order[i:i + batch]
                xb, yb = augment(xtr[idx], gen), ytr[idx]
                for g in opt.param_groups:
                    g["lr"] = lr_at(step)
                opt.zero_grad(set_to_none=True)
                z = net(xb)
                loss = criterion(z, yb)
                loss.backward()
                opt.step()
                step += 1
                loss_sum += loss.item() * len(idx)
                correct += (z.argmax(1) == yb).sum().item()
            seconds = time.perf_counter() - start
            test_loss, test_acc = evaluate(net, xte, yte, criterion)
            csv.write(f"{epoch},{first_lr:.6g},{loss_sum / len(xtr):.6f},{correct / len(xtr):.6f},"
                      f"{test_loss:.6f},{test_acc:.6f},{seconds:.4f}\n")
            csv.flush()
            print(f"epoch {epoch}: test_accuracy {test_acc:.4f}, {seconds:.1f} s", file=sys.stderr)
    print(f"test_accuracy={test_acc:.4f}")


if __name__ == "__main__":
    main()
