"""DCGAN geometry at every supported size, and the per-class generator routing."""
import pytest
import torch

from synthset.models import build_generator
from synthset.models.dcgan import Discriminator, Generator, PerClassDCGAN, init_weights, size_factors


@pytest.mark.parametrize("size, base, k", [(8, 4, 1), (28, 7, 2), (32, 4, 3), (64, 4, 4), (128, 4, 5), (96, 6, 4)])
def test_size_factors(size, base, k):
    assert size_factors(size) == (base, k)


@pytest.mark.parametrize("size", [8, 28, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_generator_and_discriminator_shapes(size, channels):
    g, d = Generator(16, channels, size, width=4), Discriminator(channels, size, width=4)
    x = g(torch.randn(3, 16))
    assert x.shape == (3, channels, size, size)
    assert x.min() >= -1 and x.max() <= 1
    assert d(x).shape == (3,)


def test_init_follows_dcgan():
    g = Generator(100, 1, 64, width=64)
    init_weights(g, 0.02)
    conv = g.net[0].weight
    assert abs(conv.mean().item()) < 1e-3 and abs(conv.std().item() - 0.02) < 1e-3


def test_per_class_generator_routes_each_label_to_its_own_generator():
    torch.manual_seed(0)
    m = PerClassDCGAN(num_classes=3, latent_dim=8, channels=1, image_size=8, width=4).eval()
    z = torch.randn(5, 8)
    labels = torch.tensor([2, 0, 1, 2, 0])
    out = m(z, labels)
    for i, c in enumerate(labels.tolist()):
        assert torch.allclose(out[i], m.generators[c](z[i:i + 1])[0])


def test_build_generator_from_spec():
    spec = {"arch": "dcgan", "kwargs": {"num_classes": 2, "latent_dim": 8, "channels": 3, "image_size": 32, "width": 4}}
    assert build_generator(spec)(torch.randn(2, 8), torch.tensor([0, 1])).shape == (2, 3, 32, 32)
    with pytest.raises(ValueError, match="unknown architecture"):
        build_generator({"arch": "nope", "kwargs": {}})
