"""LeNet training speed: our layer order (pool, then the second ReLU) against seed 003's Keras
order (ReLU, then pool), the network behind every utility number.

Both fit the same real MNIST digits with the same recipe (classify.fit's Adam at 1e-3, batch
64, the same seed, so the same batches and dropout masks) in the same run, one after the other,
each from the same initial weights. Prints images/s of each, the ratio, and whether the two
ended with identical weights (they must: max and ReLU commute). Torch gets --threads (default 1,
what a `make run` job has). Not a test.

Usage line:
    python benchmarks/lenet_fit.py [--images 4000] [--epochs 2] [--threads 1]
"""
from __future__ import annotations

import argparse
import copy
import time

import numpy as np
import torch
import torch.nn.functional as F

from synthset.classify import build_classifier
from synthset.data import load_mnist5k, preprocess
from synthset.pixels import to_tensor


def keras_order(model: torch.nn.Module) -> torch.nn.Module:
    """The same weights with ReLU before max pooling, as seed 003's listing has it."""
    keras = copy.deepcopy(model)
    keras.body[3], keras.body[4] = keras.body[4], keras.body[3]
    assert isinstance(keras.body[3], torch.nn.ReLU) and isinstance(keras.body[4], torch.nn.MaxPool2d)
    return keras


def train(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int, seed: int = 0) -> float:
    """classify.fit's loop without the averaging: seconds for `epochs` passes."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    started = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(len(y), generator=gen)
        for i in range(0, len(y), 64):
            idx = perm[i:i + 64]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=4000)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    digits = preprocess(load_mnist5k(), 28, "gray")
    some = np.random.default_rng(0).permutation(len(digits.labels))[:args.images]  # the set is sorted by class
    x = to_tensor(digits.images[some]).contiguous(memory_format=torch.channels_last)
    y = torch.from_numpy(digits.labels[some])
    torch.manual_seed(0)
    ours = build_classifier("lenet", digits.image_shape, digits.num_classes).to(memory_format=torch.channels_last)
    keras = keras_order(ours)
    seconds = {name: train(model, x, y, args.epochs) for name, model in (("keras order", keras), ("ours", ours))}
    for name, s in seconds.items():
        print(f"{name:12s} {args.images * args.epochs / s:8.0f} images/s ({s:.1f} s)")
    print(f"ratio (ours / keras order): {seconds['keras order'] / seconds['ours']:.2f}x")
    same = all(torch.equal(a, b) for a, b in zip(ours.state_dict().values(), keras.state_dict().values()))
    print(f"identical weights after training: {same}")


if __name__ == "__main__":
    main()
