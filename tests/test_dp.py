"""Differentially private discriminators (gan.<arch>.dp): the epsilon Opacus reports agrees with
Google's accountants, the noise is calibrated to the run's real number of discriminator steps,
a resumed run spends the same budget and ends with the same weights, per-example gradients pair
each real image with its own fake, a private discriminator still teaches the generator its
classes, and every setting DP-SGD cannot honour stops with one line."""
import contextlib
import copy
import warnings

import numpy as np
import pytest
import torch
from conftest import SHIPPED as SHIPPED_PATH
from conftest import shipped
from test_params import SHIPPED_RAW

from synthset.data import load_digits, preprocess
from synthset.imagesets import ImageSet
from synthset.models import build_pair
from synthset.params import DP_ARCHS, ParamsError, parse_params
from synthset.params import GAN_ARCHS as ARCHS
from synthset.pixels import to_tensor
from synthset.sampling import sample_per_class
from synthset.train.checkpoint import Checkpointer
from synthset.train.dp import DPError, make_private, plan, privacy_spent
from synthset.train.loop import build_units, d_step, g_step, train_gan
from synthset.train.losses import d_loss_fake, d_loss_real
from synthset.train.trainlog import TrainLog

CPU = torch.device("cpu")
DP = {"epsilon": 10.0, "delta": 1e-5, "max_grad_norm": 1.0, "accountant": "prv"}


@pytest.fixture(scope="module")
def digits() -> ImageSet:
    """sklearn's real 8x8 digits, 4 classes, 60 each."""
    s = preprocess(load_digits(), 8, "gray")
    keep = np.concatenate([np.flatnonzero(s.labels == c)[:60] for c in range(4)])
    return ImageSet(s.images[keep], s.labels[keep], s.class_names[:4])


def dp_params(arch="cdcgan_dp", dp=None, **overrides):
    base = {"latent_dim": 16, "width": 8, "epochs": 2, "batch_size": 16, "checkpoint_every": 1,
            "dp": {**DP, **(dp or {})}}
    return shipped({"gan": {"archs": [arch], arch: {**base, **overrides}}}).arch(arch)


def run(data, p, tmp_path, seed=0, checkpointer=None, on_epoch=None, resume=False):
    log = TrainLog(tmp_path / "live", tmp_path / "grids", data.num_classes, grid_cols=2, resume=resume)
    spent = {}

    def watch(epoch, units):
        spent.update(privacy_spent(units), units=units)
        if on_epoch:
            on_epoch(epoch, units)

    g = train_gan("cdcgan_dp", data, p, CPU, seed, log, checkpointer, on_epoch=watch)
    return g, spent


# ---------------------------------------------------------------- (a) accounting

@pytest.mark.parametrize("q, sigma, steps", [(256 / 3600, 1.0, 700), (0.01, 1.1, 3000), (16 / 240, 0.8, 90)])
def test_opacus_epsilon_matches_google_dp_accounting(q, sigma, steps):
    """The accountant the run uses (PRV), and Opacus's RDP, against dp-accounting's PLD and RDP
    accountants: independent code for the same Poisson-subsampled Gaussian mechanism."""
    import dp_accounting
    from dp_accounting.pld import pld_privacy_accountant
    from dp_accounting.rdp import rdp_privacy_accountant
    from opacus.accountants import PRVAccountant, RDPAccountant

    delta = 1e-5
    event = dp_accounting.PoissonSampledDpEvent(q, dp_accounting.GaussianDpEvent(sigma))
    pld = pld_privacy_accountant.PLDAccountant(value_discretization_interval=1e-4).compose(event, steps)
    rdp = rdp_privacy_accountant.RdpAccountant().compose(event, steps)
    ours = {}
    for name, cls in (("prv", PRVAccountant), ("rdp", RDPAccountant)):
        acc = cls()
        acc.history = [(sigma, q, steps)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours[name] = acc.get_epsilon(delta=delta)
    assert ours["prv"] == pytest.approx(pld.get_epsilon(delta), rel=0.01)
    assert ours["rdp"] == pytest.approx(rdp.get_epsilon(delta), rel=0.01)
    assert ours["prv"] < ours["rdp"]  # why prv is the default: the tighter of the two


# ---------------------------------------------------------------- (b) calibration

@pytest.mark.parametrize("d_steps", [1, 3])
def test_noise_is_calibrated_to_every_discriminator_step_of_the_run(d_steps, digits, tmp_path):
    """The accountant counts one step per discriminator update (d_steps only says how often G moves),
    and the noise chosen before training spends the target epsilon exactly at the last one."""
    p = dp_params(epochs=3, d_steps=d_steps)
    _, spent = run(digits, p, tmp_path)
    q, per_epoch, steps = plan(len(digits), 16, 3)
    assert (q, per_epoch, steps) == (16 / 240, 15, 45)
    assert spent["dp_steps"] == steps == spent["units"][0].d_updates
    assert spent["dp_sample_rate"] == q
    assert 0.99 * 10 <= spent["dp_epsilon"] <= 10
    # twice the steps at this noise would spend clearly more: the count matters
    acc = copy.deepcopy(spent["units"][0].dp.accountant)
    acc.history = [(spent["dp_noise_multiplier"], q, 2 * steps)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert acc.get_epsilon(delta=1e-5) > 12


def test_more_discriminator_steps_per_generator_step_buy_more_noise_at_the_same_epsilon(digits, tmp_path):
    """Bie et al.'s recipe (many D steps per G step) is paid for: with the generator taking the same
    number of steps, d_steps 4 runs 4 times the DP-SGD steps, so the same epsilon needs more noise."""
    spent = {}
    for d_steps in (1, 4):
        _, spent[d_steps] = run(digits, dp_params(epochs=d_steps, d_steps=d_steps), tmp_path / str(d_steps))
    g_steps = {k: max(s["step"] for s in v["units"][0].opt_g.state_dict()["state"].values())
               for k, v in spent.items()}
    assert g_steps[1] == g_steps[4] == 15
    assert spent[4]["dp_steps"] == 4 * spent[1]["dp_steps"] == 60
    assert spent[4]["dp_noise_multiplier"] > 1.2 * spent[1]["dp_noise_multiplier"]
    for v in spent.values():
        assert 0.99 * 10 <= v["dp_epsilon"] <= 10


# ---------------------------------------------------------------- (c) resume

def test_interrupted_dp_run_resumes_to_the_same_weights_and_epsilon(digits, tmp_path):
    p = dp_params(epochs=4, ema_decay=0.9, label_smoothing=0.1)
    whole, spent_whole = run(digits, p, tmp_path / "whole")

    class Killed(Exception):
        pass

    def kill_after_2_is_saved(epoch, units):
        if epoch == 3:
            raise Killed  # on_epoch runs before its epoch's checkpoint: 2's is the last

    ckpt = Checkpointer(tmp_path / "ckpt", key="dp")
    with pytest.raises(Killed):
        run(digits, p, tmp_path / "killed", checkpointer=ckpt, on_epoch=kill_after_2_is_saved)
    assert ckpt.latest_epoch() == 2
    ckpt.restore_logs(tmp_path / "killed/live", tmp_path / "killed/grids")
    resumed, spent_resumed = run(digits, p, tmp_path / "killed", checkpointer=ckpt, resume=True)

    for (name, x), y in zip(whole.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(x, y), name
    d_whole, d_resumed = spent_whole["units"][0].d, spent_resumed["units"][0].d
    for (name, x), y in zip(d_whole.state_dict().items(), d_resumed.state_dict().values()):
        assert torch.equal(x, y), name
    assert spent_resumed["dp_steps"] == spent_whole["dp_steps"] == 4 * 15
    assert spent_resumed["dp_epsilon"] == spent_whole["dp_epsilon"]


# ---------------------------------------------------------------- per-example gradients

def test_each_real_image_and_its_fake_are_one_clipped_example(digits):
    """Opacus's per-example gradient of pair i is the gradient of loss_real(x_i) + loss_fake(fake_i),
    computed here one pair at a time on a plain copy of D: pairs are summed, not concatenated."""
    p = dp_params(dp={"accountant": "rdp"})
    g, d = build_pair("cdcgan_dp", 4, digits.image_shape, p)
    plain = copy.deepcopy(d)
    opt = torch.optim.Adam(d.parameters())
    d, opt, _ = make_private("cdcgan_dp", d, opt, len(digits), 4, p, CPU, torch.Generator().manual_seed(0))
    x, y = to_tensor(digits.images[:5]), torch.from_numpy(digits.labels[:5])
    fake = torch.randn(5, *x.shape[1:])
    loss = d_loss_real("nonsaturating", d(x, y)) + d_loss_fake("nonsaturating", d(fake, y))
    loss.backward()
    plain.train()
    for name, param in d.named_parameters():
        assert param.grad_sample.shape == (5, *param.shape), name
    for i in range(5):
        plain.zero_grad()
        (d_loss_real("nonsaturating", plain(x[i:i + 1], y[i:i + 1]))
         + d_loss_fake("nonsaturating", plain(fake[i:i + 1], y[i:i + 1]))).backward()
        for (name, param), ref in zip(d.named_parameters(), plain.parameters()):
            torch.testing.assert_close(param.grad_sample[i], ref.grad, rtol=1e-4, atol=1e-6, msg=name)


def test_generator_step_leaves_no_gradients_in_the_private_discriminator(digits):
    p = dp_params(dp={"accountant": "rdp"})
    gen = torch.Generator().manual_seed(0)
    (u,) = build_units("cdcgan_dp", digits, p, CPU, gen)
    real, y = u.images[:16], u.labels[:16]
    d_step(u, real, y, p, gen, contextlib.nullcontext, keep_fake=False)
    u.opt_d.zero_grad(set_to_none=True)
    g_step(u, y, p, gen, contextlib.nullcontext)
    for name, param in u.d.named_parameters():
        assert param.grad_sample is None and param.grad is None, name
        assert param.requires_grad, name
    assert any(q.grad is not None for q in u.g.parameters())


def test_an_empty_poisson_batch_is_a_counted_noise_only_step(digits):
    p = dp_params(dp={"accountant": "rdp"})
    gen = torch.Generator().manual_seed(0)
    (u,) = build_units("cdcgan_dp", digits, p, CPU, gen)
    before = [q.detach().clone() for q in u.d.parameters()]
    d_step(u, u.images[:0], u.labels[:0], p, gen, contextlib.nullcontext, keep_fake=False)
    assert len(u.dp.accountant) == 1
    assert all(not torch.equal(a, b) for a, b in zip(before, u.d.parameters()))


# ---------------------------------------------------------------- (d) learning

def test_a_private_discriminator_still_teaches_the_generator_its_classes(digits, tmp_path):
    """At a generous budget (epsilon 200: little noise, but every example clipped), each class's
    generated mean is nearest the real mean of the class asked for."""
    torch.set_num_threads(1)
    p = dp_params(dp={"epsilon": 200.0, "accountant": "rdp"}, epochs=30, batch_size=20, width=16,
                  lr_g=2e-3, lr_d=2e-3, ema_decay=None)
    g, spent = run(digits, p, tmp_path)
    assert spent["dp_epsilon"] <= 200
    fake = sample_per_class(g.eval(), digits.class_names, 64, seed=0)
    real_means = np.stack([digits.of_class(c).mean(0).ravel() for c in range(4)])
    for c in range(4):
        distances = np.linalg.norm(real_means - fake.of_class(c).mean(0).ravel(), axis=1)
        assert distances.argmin() == c, f"class {c}: generated mean is nearest to class {distances.argmin()}"


# ---------------------------------------------------------------- (e) refusals

@pytest.mark.parametrize("arch, overrides, words", [
    ("dcgan", {}, "one GAN per class"),
    ("cdcgan", {}, "batch norm"),
    ("cdcgan_late", {}, "batch norm"),
    ("sngan", {}, "spectral norm"),
    ("wgan_gp", {}, "gradient penalty"),
    ("cdcgan_dp", {"grad_clip": 1.0}, "set grad_clip: null"),
    ("cdcgan_dp", {"replay": True}, "replay: false"),
    ("cdcgan_dp", {"mode_seeking": 1.0}, "mode_seeking: with dp"),
    ("cdcgan_dp", {"amp": True}, "amp: false"),
    ("cdcgan_dp", {"dp": {**DP, "delta": 1.5}}, "less than 1"),
    ("cdcgan_dp", {"dp": {**DP, "epsilon": 0}}, "greater than 0"),
])
def test_settings_dp_cannot_honour_stop_with_one_line(arch, overrides, words):
    raw = copy.deepcopy(SHIPPED_RAW)
    raw["gan"][arch].update({"dp": DP, **overrides})
    with pytest.raises(ParamsError) as err:
        parse_params(raw)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"params.yaml: gan.{arch}")
    assert words in message


@pytest.mark.parametrize("arch", [a for a in ARCHS if a != "dcgan"])
def test_dp_archs_are_the_ones_opacus_can_train(arch, digits, tmp_path):
    """params.py's DP_ARCHS (checked before any work starts) agrees with what Opacus accepts
    (at 28 px: at 8 px some discriminators have no layer that needs a norm)."""
    p = dp_params("cdcgan_dp", dp={"accountant": "rdp"}).model_copy(update={"loss": "nonsaturating", "gp_weight": 0.0})
    g, d = build_pair(arch, 4, (28, 28, 1), p)
    opt = torch.optim.Adam(d.parameters())
    if arch in DP_ARCHS:
        d, opt, _ = make_private(arch, d, opt, len(digits), 4, p, CPU, torch.Generator().manual_seed(0))
        x, y = torch.randn(4, 1, 28, 28), torch.arange(4)
        d(x, y).mean().backward()
        opt.step()
    else:
        with pytest.raises(DPError, match=f"gan.{arch}.dp: .*use cdcgan_dp"):
            make_private(arch, d, opt, len(digits), 4, p, CPU, torch.Generator().manual_seed(0))


def test_dp_is_off_by_default_and_cdcgan_dp_is_not_a_default_arch():
    params = shipped()
    assert all(getattr(params.gan, a).dp is None for a in ARCHS if a != "cdcgan_dp")
    assert params.gan.cdcgan_dp.dp.epsilon == 10 and params.gan.cdcgan_dp.dp.delta == 1e-5
    assert "cdcgan_dp" not in params.gan.archs


# ---------------------------------------------------------------- the stage and the preset

def test_train_gan_stage_writes_the_privacy_spent_to_metrics_and_generator_spec(tmp_path):
    """A tiny DP cdcgan_dp run at epsilon 10 on real MNIST-5k digits through the stage itself."""
    import argparse

    from synthset.data import load_mnist5k
    from synthset.files import read_json
    from synthset.stages import train_gan as stage

    s = preprocess(load_mnist5k(), 28, "gray")
    keep = np.concatenate([np.flatnonzero(s.labels == c)[:12] for c in range(10)])
    ImageSet(s.images[keep], s.labels[keep], s.class_names).save(tmp_path / "train.npz")
    params = shipped({"device": "cpu", "threads": 1, "gan": {"archs": ["cdcgan_dp"], "cdcgan_dp": {
        "epochs": 2, "width": 8, "latent_dim": 16, "batch_size": 30, "dp": {"accountant": "rdp"}}}})
    ns = argparse.Namespace(arch="cdcgan_dp", train=str(tmp_path / "train.npz"), model=str(tmp_path / "model"),
                            live=str(tmp_path / "live"), figures=str(tmp_path / "fig"),
                            checkpoints=str(tmp_path / "ckpt"))
    stage.main(ns, params)
    metrics = read_json(tmp_path / "live/metrics.json")
    spec = read_json(tmp_path / "model/generator.json")
    assert metrics["dp_steps"] == spec["dp"]["dp_steps"] == 2 * 4
    assert metrics["dp_delta"] == 1e-5 and metrics["dp_sample_rate"] == 30 / 120
    assert 9.9 <= metrics["dp_epsilon"] == spec["dp"]["dp_epsilon"] <= 10
    assert metrics["dp_noise_multiplier"] > 0


def test_fashion_mnist_preset_trains_the_private_cdcgan_at_epsilon_10():
    from synthset.params import load_params

    params = load_params(SHIPPED_PATH, SHIPPED_PATH.parent / "presets/dp_fashion_mnist.yaml")
    assert (params.data.source, params.data.path) == ("idx", "/usr/share/datasets/fashion-mnist")
    assert "cdcgan_dp" in params.gan.archs
    assert (params.gan.cdcgan_dp.dp.epsilon, params.gan.cdcgan_dp.dp.delta) == (10, 1e-5)
    assert params.sample.keep == "all"
