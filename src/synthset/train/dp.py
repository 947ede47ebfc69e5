"""Differentially private discriminators: DP-SGD with Opacus, under the loop's own sampling.

Only the discriminator reads private images, so only its updates are privatised; the
generator learns from the discriminator alone and is post-processing, as are its
samples. Each discriminator step is one DP-SGD step (Abadi et al. 2016):

- Poisson sampling: every real image joins a step's batch independently with probability
  q = batch_size / n, drawn from the loop's seeded generator (so runs repeat exactly on
  the CPU and resume where they stopped); an epoch is round(n / batch_size) steps.
- One example is a real image together with the fake drawn for it (same label, fresh
  noise): D's two forward passes have the same batch size and Opacus sums their
  per-example gradients pairwise, then clips each pair to `max_grad_norm`.
- Gaussian noise of std noise_multiplier * max_grad_norm is added to the sum. The noise
  multiplier is calibrated once, before training, so that the run's total discriminator
  steps (epochs x steps per epoch, whatever d_steps is: d_steps only says how often G
  moves) spend exactly the target epsilon. Opacus's own DCGAN example steps its optimiser
  twice per batch (real, then fake) and so counts each batch twice (opacus issue 418);
  here one batch is one step.
- The generator step draws its labels uniformly, not from the real batch: the labels are
  private too, and the generator must not see anything the accountant did not count.

The accountant's history, the noise generator and the Adam moments are part of the
loop's checkpoint, so a resumed run spends the same epsilon as an uninterrupted one.
What is not covered: training logs (D's loss and accuracy on real batches) are computed
from private data; they stay with the data owner and are never released.
"""
from __future__ import annotations

import contextlib
import copy
import warnings
from dataclasses import dataclass

import torch
from torch import nn

from ..params import DPParams


def _opacus():
    warnings.filterwarnings("ignore", message="Full backward hook is firing when gradients are computed with "
                                              "respect to module outputs", category=UserWarning)
    with warnings.catch_warnings():  # Opacus warns about torch versions it was not tested with
        warnings.simplefilter("ignore")
        import opacus  # noqa: F401  (heavy: only DP runs import it)
        from opacus import GradSampleModule
        from opacus.accountants import create_accountant
        from opacus.accountants.utils import get_noise_multiplier
        from opacus.optimizers import DPOptimizer
        from opacus.validators import ModuleValidator
    return GradSampleModule, DPOptimizer, create_accountant, get_noise_multiplier, ModuleValidator


class DPError(ValueError):
    """A discriminator or a setting DP-SGD cannot train with."""


def plan(n: int, batch_size: int, epochs: int) -> tuple[float, int, int]:
    """(sample rate q, steps per epoch, total steps) of a DP run over n private images."""
    if n < 2:
        raise DPError(f"dp: {n} private images; DP-SGD needs at least 2")
    q = min(batch_size, n) / n
    per_epoch = max(1, round(n / batch_size))
    return q, per_epoch, epochs * per_epoch


def calibrate(dp: DPParams, sample_rate: float, steps: int) -> float:
    """The smallest noise multiplier (to 0.01 in epsilon) at which `steps` Poisson-sampled
    steps at `sample_rate` spend at most dp.epsilon at dp.delta."""
    *_, get_noise_multiplier, _ = _opacus()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Optimal order is the largest alpha")
        return get_noise_multiplier(target_epsilon=dp.epsilon, target_delta=dp.delta, sample_rate=sample_rate,
                                    steps=steps, accountant=dp.accountant, epsilon_tolerance=0.01)


def epsilon(accountant, delta: float) -> float:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Optimal order is the largest alpha")
        return float(accountant.get_epsilon(delta=delta))


@dataclass
class PrivateD:
    """What a DP discriminator carries besides its weights: the plan, the noise and the accountant."""

    dp: DPParams
    n: int
    num_classes: int
    sample_rate: float
    steps_per_epoch: int
    planned_steps: int
    noise_multiplier: float
    accountant: object
    noise_gen: torch.Generator

    def batches(self, gen: torch.Generator) -> list[torch.Tensor]:
        """One epoch of Poisson-sampled index batches (some may be short, a few even empty)."""
        return [torch.nonzero(torch.rand(self.n, generator=gen) < self.sample_rate).view(-1)
                for _ in range(self.steps_per_epoch)]

    def fake_labels(self, size: int, gen: torch.Generator, device: torch.device) -> torch.Tensor:
        """Labels for a generator step: uniform, never the private batch's."""
        return torch.randint(self.num_classes, (size,), generator=gen).to(device)

    @staticmethod
    def noise_only_step(d: nn.Module, opt) -> None:
        """An empty Poisson batch is still a step the accountant counts: noise alone moves D."""
        opt.zero_grad(set_to_none=True)
        for p in d.parameters():
            if p.requires_grad:
                p.grad_sample = torch.zeros((0, *p.shape), device=p.device, dtype=p.dtype)
        opt.step()

    @staticmethod
    @contextlib.contextmanager
    def frozen(d: nn.Module):
        """D as a fixed function for the generator step: no per-example gradients, no D gradients."""
        params = [p for p in d.parameters() if p.requires_grad]
        for p in params:
            p.requires_grad_(False)
        d.disable_hooks()
        try:
            yield
        finally:
            d.enable_hooks()
            for p in params:
                p.requires_grad_(True)

    def spent(self) -> dict[str, float]:
        """The privacy spent so far, under the names the stage's metrics and the model card use."""
        steps = sum(int(s) for _, _, s in self.accountant.history)
        return {"dp_epsilon": epsilon(self.accountant, self.dp.delta) if steps else 0.0, "dp_delta": self.dp.delta,
                "dp_noise_multiplier": self.noise_multiplier, "dp_sample_rate": self.sample_rate,
                "dp_steps": steps}

    def card(self) -> dict:
        """spent() and the settings behind it, for the generator's spec (generator.json)."""
        return {**self.spent(), "dp_target_epsilon": self.dp.epsilon, "dp_max_grad_norm": self.dp.max_grad_norm,
                "dp_accountant": self.dp.accountant, "dp_planned_steps": self.planned_steps,
                "dp_private": "discriminator (DP-SGD); the generator is post-processing"}

    def state_dict(self) -> dict:
        return {"accountant": self.accountant.state_dict(), "noise_gen": self.noise_gen.get_state(),
                "noise_multiplier": self.noise_multiplier}

    def load_state_dict(self, state: dict) -> None:
        self.accountant.load_state_dict(state["accountant"])
        self.noise_gen.set_state(state["noise_gen"])
        self.noise_multiplier = state["noise_multiplier"]


def check_discriminator(arch: str, d: nn.Module) -> None:
    """Opacus's verdict on D (batch norm mixes examples; some layers have no per-example gradient)."""
    GradSampleModule, *_, ModuleValidator = _opacus()
    errors = ModuleValidator.validate(d, strict=False)
    if not errors:
        try:
            GradSampleModule(copy.deepcopy(d)).remove_hooks()
        except NotImplementedError as err:  # e.g. spectral norm's parametrisation
            errors = [err]
    if errors:
        first = " ".join(str(errors[0]).split())[:160]
        raise DPError(f"gan.{arch}.dp: {arch}'s discriminator cannot train with DP-SGD ({first}); use cdcgan_dp")


def make_private(arch: str, d: nn.Module, opt_d: torch.optim.Optimizer, n: int, num_classes: int,
                 p, device: torch.device, gen: torch.Generator
                 ) -> tuple[nn.Module, torch.optim.Optimizer, PrivateD]:
    """D wrapped for per-example gradients, its optimiser clipping and noising them, and the
    accountant counting every step; the noise multiplier calibrated to the whole run."""
    GradSampleModule, DPOptimizer, create_accountant, _, _ = _opacus()
    check_discriminator(arch, d)
    for m in d.modules():  # Opacus's backward hooks cannot follow in-place activations
        if hasattr(m, "inplace"):
            m.inplace = False
    q, per_epoch, steps = plan(n, p.batch_size, p.epochs)
    sigma = calibrate(p.dp, q, steps)
    noise_gen = torch.Generator(device=device).manual_seed(int(torch.randint(2 ** 62, (1,), generator=gen)))
    d = GradSampleModule(d, loss_reduction="mean")
    opt = DPOptimizer(opt_d, noise_multiplier=sigma, max_grad_norm=p.dp.max_grad_norm,
                      expected_batch_size=max(1, round(q * n)), loss_reduction="mean", generator=noise_gen)
    accountant = create_accountant(mechanism=p.dp.accountant)
    opt.attach_step_hook(accountant.get_optimizer_hook_fn(sample_rate=q))
    return d, opt, PrivateD(p.dp, n, num_classes, q, per_epoch, steps, sigma, accountant, noise_gen)


def privacy_spent(units) -> dict[str, float]:
    """The DP metrics of a run (empty when it is not private)."""
    private = [u.dp for u in units if getattr(u, "dp", None) is not None]
    return private[0].spent() if len(private) == 1 else {}


def privacy_card(units) -> dict | None:
    private = [u.dp for u in units if getattr(u, "dp", None) is not None]
    return private[0].card() if len(private) == 1 else None
