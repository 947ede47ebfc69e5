"""The conditional architectures: shapes at every size, the label's effect, seed 003's
capacity and depth, spectral norm, virtual batch norm, save/load, one training step."""
import io

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load, save
from torch import nn
from torch.nn.utils import parametrize

from synthset.models import ARCHS, GENERATORS, build_generator
from synthset.models.dcgan import init_weights
from synthset.models.layers import VirtualBatchNorm
from synthset.params import ARCHS as PARAM_ARCHS
from synthset.params import GAN_ARCHS

K, LATENT = 3, 8
CONV_ARCHS = ["cdcgan", "cdcgan_late", "sngan", "wgan_gp"]


def pair(arch, size=8, channels=1, width=4, capacity=1, depth=1, norm="batch"):
    g_cls, d_cls = ARCHS[arch]
    g = g_cls(num_classes=K, latent_dim=LATENT, channels=channels, image_size=size, width=width,
              capacity=capacity, norm=norm)
    d = d_cls(num_classes=K, channels=channels, image_size=size, width=width, capacity=capacity, depth=depth,
              leaky_slope=0.2)
    init_weights(g, 0.02)
    init_weights(d, 0.02)
    return g, d


def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def test_registry_covers_every_conditional_arch():
    assert set(ARCHS) == set(GAN_ARCHS) - {"dcgan"}
    assert set(GENERATORS) == set(PARAM_ARCHS)


@pytest.mark.parametrize("arch", list(ARCHS))
@pytest.mark.parametrize("size", [8, 28, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_and_range(arch, size, channels):
    torch.manual_seed(0)
    g, d = pair(arch, size, channels)
    x = g(torch.randn(2, LATENT), torch.tensor([0, 2]))
    assert x.shape == (2, channels, size, size)
    assert x.min() >= -1 and x.max() <= 1
    assert d(x, torch.tensor([0, 2])).shape == (2,)
    assert g.latent_dim == LATENT and g.num_classes == K


def test_128_px():
    g, d = pair("cdcgan", 128, 3)
    x = g(torch.randn(2, LATENT), torch.tensor([0, 1]))
    assert x.shape == (2, 3, 128, 128) and d(x, torch.tensor([0, 1])).shape == (2,)


@pytest.mark.parametrize("arch", list(ARCHS))
def test_label_changes_generator_and_discriminator(arch):
    torch.manual_seed(0)
    g, d = pair(arch, 28)
    z = torch.randn(1, LATENT).repeat(4, 1)
    x = g(z, torch.tensor([0, 1, 2, 0]))  # train mode: batch norm normalises, outputs are not tiny
    assert torch.allclose(x[0], x[3], atol=1e-5) and (x[0] - x[1]).abs().max() > 1e-3
    d.eval()  # no dropout
    s = d(x[:1].repeat(2, 1, 1, 1), torch.tensor([0, 1]))
    assert (s[0] - s[1]).abs() > 1e-3 * s.abs().max()


@pytest.mark.parametrize("arch", list(ARCHS))
def test_capacity_and_depth_grow_the_networks(arch):
    g1, d1 = pair(arch, 28)
    g2, d2 = pair(arch, 28, capacity=2)
    _, d_deep = pair(arch, 28, depth=2)
    assert n_params(g2) > n_params(g1) and n_params(d2) > n_params(d1)
    assert n_params(d_deep) > n_params(d1)


def test_sngan_discriminator_is_spectrally_normalised():
    torch.manual_seed(0)
    _, d = pair("sngan", 28, depth=2)
    layers = [m for m in d.modules() if isinstance(m, (nn.Conv2d, nn.Linear, nn.Embedding))]
    assert len(layers) == 6 and all(parametrize.is_parametrized(m, "weight") for m in layers)
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in d.modules())
    x, y = torch.randn(4, 1, 28, 28), torch.randint(K, (4,))
    d.train()
    for _ in range(30):  # one power iteration per forward pass in train mode
        d(x, y)
    for m in layers:
        w = m.weight
        assert abs(torch.linalg.matrix_norm(w.reshape(w.shape[0], -1), 2).item() - 1) < 0.1


def test_wgan_gp_critic_has_no_batch_norm_and_takes_a_gradient_penalty():
    g, d = pair("wgan_gp", 28)
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in d.modules())
    x = torch.randn(3, 1, 28, 28, requires_grad=True)
    grad, = torch.autograd.grad(d(x, torch.tensor([0, 1, 2])).sum(), x, create_graph=True)
    (grad.flatten(1).norm(dim=1) - 1).pow(2).mean().backward()
    assert all(p.grad is not None for p in d.parameters())
    # per-example scores: a critic's output for one image ignores the rest of the batch
    d.train()
    assert torch.allclose(d(x[:1], torch.tensor([0])), d(x, torch.tensor([0, 1, 2]))[:1], atol=1e-5)


def test_virtual_batch_norm_is_batch_norm_over_reference_plus_one_example():
    torch.manual_seed(0)
    vbn = VirtualBatchNorm(5)
    vbn.n_ref = 6
    ref, own = torch.randn(6, 5, 4, 4), torch.randn(3, 5, 4, 4) * 2 + 1
    out = vbn(torch.cat([ref, own]))
    assert torch.allclose(out[:6], F.batch_norm(ref, None, None, training=True), atol=1e-5)
    for i in range(3):
        expected = F.batch_norm(torch.cat([ref, own[i:i + 1]]), None, None, training=True)[-1]
        assert torch.allclose(out[6 + i], expected, atol=1e-5)
    flat = VirtualBatchNorm(5)  # (N, C) inputs, for the MLP generator
    flat.n_ref = 6
    expected = F.batch_norm(torch.cat([ref[:, :, 0, 0], own[:1, :, 0, 0]]), None, None, training=True)[-1]
    assert torch.allclose(flat(torch.cat([ref[:, :, 0, 0], own[:, :, 0, 0]]))[6], expected, atol=1e-5)


@pytest.mark.parametrize("arch", list(ARCHS))
def test_virtual_batch_norm_makes_each_image_independent_of_its_batch(arch):
    torch.manual_seed(0)
    g, _ = pair(arch, 28, norm="virtual")
    z, y = torch.randn(5, LATENT), torch.tensor([0, 1, 2, 0, 1])
    with pytest.raises(RuntimeError, match="set_reference"):
        g(z, y)
    g.set_reference(torch.randn(8, LATENT), torch.randint(K, (8,)))
    g.train()
    alone, in_batch = g(z[:1], y[:1]), g(z, y)
    assert torch.allclose(alone[0], in_batch[0], atol=1e-5)
    assert torch.allclose(g(z[3:], y[3:]), in_batch[3:], atol=1e-5)
    g.eval()
    assert torch.allclose(g(z, y), in_batch, atol=1e-5)


def test_batch_norm_in_train_mode_does_mix_the_batch():
    torch.manual_seed(0)
    g, _ = pair("cdcgan", 28)
    g.set_reference(torch.randn(8, LATENT), torch.randint(K, (8,)))  # no effect without virtual norm
    z, y = torch.randn(5, LATENT), torch.tensor([0, 1, 2, 0, 1])
    assert not torch.allclose(g(z[:2], y[:2])[0], g(z, y)[0], atol=1e-4)


@pytest.mark.parametrize("arch", ["dcgan", *ARCHS])
@pytest.mark.parametrize("norm", ["batch", "virtual"])
def test_build_generator_round_trip(arch, norm):
    torch.manual_seed(0)
    spec = {"arch": arch, "kwargs": {"num_classes": K, "latent_dim": LATENT, "channels": 3, "image_size": 8,
                                     "width": 4, "capacity": 1, "norm": norm}}
    g = build_generator(spec)
    init_weights(g, 0.02)
    if norm == "virtual":
        for m in g.generators if arch == "dcgan" else [g]:
            m.set_reference(torch.randn(6, LATENT), torch.randint(K, (6,)))
    z, y = torch.randn(4, LATENT), torch.tensor([0, 1, 2, 1])
    g.train()
    g(z, y)  # moves batch-norm running statistics away from their initial values
    g.eval()
    expected = g(z, y)
    buf = io.BytesIO()
    torch.save(g.state_dict(), buf)
    buf.seek(0)
    for state in (torch.load(buf, weights_only=True), load(save(g.state_dict()))):  # torch and safetensors
        g2 = build_generator(spec)
        g2.load_state_dict(state)
        assert torch.equal(g2.eval()(z, y), expected)


@pytest.mark.parametrize("arch", list(ARCHS))
def test_one_optimisation_step(arch):
    torch.manual_seed(0)
    g, d = pair(arch, 28, depth=2)
    opt = torch.optim.Adam(d.parameters(), lr=1e-3)
    real, y = torch.rand(4, 1, 28, 28) * 2 - 1, torch.randint(K, (4,))
    fake = g(torch.randn(4, LATENT), y)
    s_real, s_fake = d(real, y), d(fake.detach(), y)
    loss = (F.binary_cross_entropy_with_logits(s_real, torch.ones(4))
            + F.binary_cross_entropy_with_logits(s_fake, torch.zeros(4)))
    before = [p.detach().clone() for p in d.parameters()]
    opt.zero_grad()
    loss.backward()
    opt.step()
    assert torch.isfinite(loss)
    assert any(not torch.equal(a, b) for a, b in zip(before, d.parameters()))
    F.binary_cross_entropy_with_logits(d(fake, y), torch.ones(4)).backward()  # the generator's step
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in g.parameters())
