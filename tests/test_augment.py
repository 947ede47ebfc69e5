"""DiffAugment: each operation does what the paper's reference code does, differentiably
and repeatably, and the training loop shows the discriminator augmented images only."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from synthset.train.augment import color, cutout, diff_augment, flip, translation


@pytest.fixture
def images() -> torch.Tensor:
    return torch.rand(16, 3, 12, 12, generator=torch.Generator().manual_seed(0)) * 2 - 1


def shifted(x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """x moved down by dy and right by dx, zeros coming in."""
    h, w = x.shape[-2:]
    padded = F.pad(x, [abs(dx)] * 2 + [abs(dy)] * 2)
    top, left = abs(dy) - dy, abs(dx) - dx
    return padded[..., top:top + h, left:left + w]


def test_translation_moves_each_image_by_whole_pixels_within_the_ratio(images):
    out = translation(images, torch.Generator().manual_seed(1), ratio=0.25)
    moves = set()
    for x, y in zip(images, out):
        found = [(dy, dx) for dy in range(-3, 4) for dx in range(-3, 4) if torch.equal(shifted(x, dy, dx), y)]
        assert found, "output is not a zero-filled integer shift of its input"
        moves.add(found[0])
    assert len(moves) > 4  # each image gets its own shift


def test_cutout_zeroes_one_square_and_keeps_the_rest(images):
    out = cutout(images, torch.Generator().manual_seed(2), ratio=0.5)
    for x, y in zip(images, out):
        changed = (x != y).any(0)
        assert torch.equal(y[:, changed], torch.zeros_like(y[:, changed]))
        rows, cols = np.nonzero(changed.numpy())
        assert changed.sum() == (np.ptp(rows) + 1) * (np.ptp(cols) + 1), "the cut-out region is one rectangle"
        assert np.ptp(rows) + 1 <= 6 and np.ptp(cols) + 1 <= 6  # half the side, clipped at the borders


def test_color_is_a_per_image_affine_map_and_leaves_gray_saturation_alone(images):
    gray = images[:, :1]
    out = color(gray, torch.Generator().manual_seed(3))
    for x, y in zip(gray, out):  # brightness then contrast: y = a x + b, one (a, b) per image
        a, b = np.polyfit(x.flatten().numpy(), y.flatten().numpy(), 1)
        assert np.allclose(a * x.numpy() + b, y.numpy(), atol=1e-5) and 0.5 <= a <= 1.5
    rgb = color(images, torch.Generator().manual_seed(3))
    assert not torch.allclose(rgb - rgb.mean(1, keepdim=True), images - images.mean(1, keepdim=True))


def test_gradients_reach_the_generator_through_every_operation(images):
    x = images.clone().requires_grad_(True)
    diff_augment(x, ["color", "translation", "cutout"], torch.Generator().manual_seed(4)).square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_same_generator_state_same_augmentation_and_empty_policy_is_identity(images):
    a = diff_augment(images, ["translation", "cutout"], torch.Generator().manual_seed(5))
    b = diff_augment(images, ["translation", "cutout"], torch.Generator().manual_seed(5))
    assert torch.equal(a, b)
    assert diff_augment(images, [], torch.Generator()) is images
    with pytest.raises(ValueError, match="unknown augmentation 'rotate'"):
        diff_augment(images, ["rotate"], torch.Generator())


def test_flip_mirrors_about_half_the_images_and_leaves_the_rest():
    x = torch.rand(400, 3, 6, 6, generator=torch.Generator().manual_seed(6))
    out = flip(x, torch.Generator().manual_seed(7))
    mirrored = [torch.equal(y, a.flip(-1)) for a, y in zip(x, out)]
    kept = [torch.equal(y, a) for a, y in zip(x, out)]
    assert all(m != k for m, k in zip(mirrored, kept))  # each image is one or the other, whole
    assert 0.4 < np.mean(mirrored) < 0.6
