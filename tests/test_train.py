"""Per-class DCGAN training on real digits: it learns each class, logs, and repeats exactly."""
import numpy as np
import pandas as pd
import pytest
import torch

from synthset.data import load_digits, preprocess
from synthset.io import ImageSet
from synthset.params import DCGANParams
from synthset.sampling import grid_png, sample_per_class
from synthset.train.checkpoint import load_generator, save_model
from synthset.train.logging import TrainLog
from synthset.train.per_class import NonFiniteLoss, train_per_class

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def digits() -> ImageSet:
    """scikit-learn's real 8x8 digits, 60 per class for the first four digits."""
    s = preprocess(load_digits(), 8, "gray")
    keep = np.concatenate([np.flatnonzero(s.labels == c)[:60] for c in range(4)])
    return ImageSet(s.images[keep], s.labels[keep], s.class_names[:4])


def train(digits, tmp_path, **overrides):
    p = DCGANParams(**{"latent_dim": 16, "width": 16, "epochs": 2, "batch_size": 16, **overrides})
    log = TrainLog(tmp_path / "live", tmp_path / "grids", digits.num_classes, grid_cols=4)
    model = train_per_class(digits, p, CPU, seed=3, log=log)
    log.finish({"train_seconds": log.elapsed()})
    return model, p


def test_same_seed_same_weights_on_cpu(digits, tmp_path):
    a, _ = train(digits, tmp_path / "a")
    b, _ = train(digits, tmp_path / "b")
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(x, y), name


def test_logs_every_step_and_grids_every_epoch(digits, tmp_path):
    train(digits, tmp_path, epochs=3)
    loss = pd.read_csv(tmp_path / "live/plots/metrics/train/loss_d.tsv", sep="\t")
    assert len(loss) == 3 * (60 // 16) and np.isfinite(loss["loss_d"]).all()
    assert sorted(p.name for p in (tmp_path / "grids").iterdir()) == [f"epoch_{e:04d}.png" for e in range(4)]
    assert (tmp_path / "live/metrics.json").is_file()


def test_each_class_generator_learns_its_own_class(digits, tmp_path):
    model, p = train(digits, tmp_path, epochs=40, batch_size=20, lr_g=1e-3, lr_d=1e-3)
    fake = sample_per_class(model.eval(), digits.class_names, 64, seed=0)
    real_means = np.stack([digits.of_class(c).mean(0).ravel() for c in range(4)])
    for c in range(4):
        fake_mean = fake.of_class(c).mean(0).ravel()
        distances = np.linalg.norm(real_means - fake_mean, axis=1)
        assert distances.argmin() == c, f"class {c}: generated mean is nearest to class {distances.argmin()}"


def test_exploding_loss_stops_with_the_step(digits, tmp_path):
    with pytest.raises(NonFiniteLoss, match="at step 1"):
        train(digits, tmp_path, init_std=1e30)


def test_saved_model_samples_balanced_labelled_images(digits, tmp_path):
    model, p = train(digits, tmp_path)
    save_model(tmp_path / "model", "dcgan", model, digits, p)
    generator, spec = load_generator(tmp_path / "model", CPU)
    assert spec["class_names"] == digits.class_names
    fake = sample_per_class(generator, spec["class_names"], 7, seed=5)
    assert fake.images.shape == (28, 8, 8, 1) and fake.images.dtype == np.uint8
    assert np.bincount(fake.labels).tolist() == [7, 7, 7, 7]
    again = sample_per_class(generator, spec["class_names"], 7, seed=5)
    assert np.array_equal(fake.images, again.images)
    assert not np.array_equal(fake.images, sample_per_class(generator, spec["class_names"], 7, seed=6).images)
    assert grid_png(fake, tmp_path / "grid.png", per_class=4).stat().st_size > 0
