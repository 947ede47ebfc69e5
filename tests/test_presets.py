"""presets/: short override files for the seeds' setups, valid on top of params.yaml (docs/seeds.md)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import ROOT, VEHICLES  # VEHICLES: what racecar*.yaml's data.path points at

from synthset.data import ingest, load_idx, resize_center_crop
from synthset.imagesets import RaggedImageSet
from synthset.params import load_params as load_params_file
from synthset.presets import leaves


def load_params(preset: Path):
    """What `synthset preset <preset>` makes of the shipped params.yaml."""
    return load_params_file(ROOT / "params.yaml", preset)


PRESETS = sorted((ROOT / "presets").glob("*.yaml"))
FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")  # Debian's dataset-fashion-mnist


def test_the_seed_setups_have_presets():
    assert {"racecar64", "racecar128", "seed004_fashion_mnist", "seed004_mnist", "seed004_cifar10",
            "seed004_cifar100", "seed004_intel"} <= {p.stem for p in PRESETS}


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.stem)
def test_preset_is_short_and_valid(path):
    """Only what the setup sets (an unknown key is an error): the rest is params.yaml's, so a
    preset does not go stale when params.yaml gains a key."""
    load_params(path)
    overrides = yaml.safe_load(path.read_text())
    shipped = yaml.safe_load((ROOT / "params.yaml").read_text())
    assert len(leaves(overrides)) < len(leaves(shipped)) / 2


def test_racecar_presets_are_seed_000s_setup():
    for size in (64, 128):
        params = load_params(ROOT / "presets" / f"racecar{size}.yaml")
        assert (params.preprocess.image_size, params.preprocess.color) == (size, "rgb")
        assert params.data.source == "folder" and len(params.data.classes) == 4
        assert "sngan" in params.gan.archs and params.gan.sngan.batch_size == 64
        assert (params.gan.sngan.lr_g, params.gan.sngan.beta1, params.gan.sngan.beta2) == (2e-4, 0.5, 0.999)
    assert load_params(ROOT / "presets/racecar128.yaml").data == load_params(ROOT / "presets/racecar64.yaml").data


@pytest.fixture(scope="module")
def racecar_ingested(tmp_path_factory):
    """The racecar presets' data section, ingested for real from the shared vehicles folder."""
    if not VEHICLES.is_dir():
        pytest.skip(f"shared vehicles photos not found at {VEHICLES} (a clean clone has no ../shared)")
    params = load_params(ROOT / "presets/racecar64.yaml")
    data = params.data.model_copy(update={"path": str(ROOT / params.data.path)})  # stages run in ROOT
    out = tmp_path_factory.mktemp("racecar")
    return params, ingest(data, params.preprocess.color, out), out


def test_racecar_preset_ingests_four_classes_of_real_photos(racecar_ingested):
    params, summary, out = racecar_ingested
    assert summary["class_names"] == sorted(params.data.classes) and summary["skipped"] == 0
    assert summary["per_class"]["train"] == dict.fromkeys(params.data.classes, 576)
    assert summary["per_class"]["val"] == dict.fromkeys(params.data.classes, 64)
    assert summary["per_class"]["test"] == dict.fromkeys(params.data.classes, 160)
    photos = list(RaggedImageSet.load(out / "train.npz"))[:: 576]  # one per class
    for size in (64, 128):
        resized = np.stack([resize_center_crop(im, size) for im in photos])
        assert resized.shape == (4, size, size, 3) and resized.std() > 10


def test_racecar_sngan_epochs_are_50k_iterations_at_batch_64(racecar_ingested):
    _, summary, _ = racecar_ingested
    for size in (64, 128):
        sngan = load_params(ROOT / "presets" / f"racecar{size}.yaml").gan.sngan
        # one iteration per full batch; the loop drops the last short batch of an epoch
        per_epoch = summary["images"]["train"] // sngan.batch_size
        assert 50_000 <= sngan.epochs * per_epoch < 50_000 + per_epoch


def test_fashion_mnist_preset_reads_the_installed_set():
    params = load_params(ROOT / "presets/seed004_fashion_mnist.yaml")
    assert Path(params.data.path) == FASHION_MNIST
    if not FASHION_MNIST.is_dir():
        pytest.skip(f"{FASHION_MNIST} not installed (apt-get install dataset-fashion-mnist)")
    sets = load_idx(params.data.path)
    assert (len(sets["train"]), len(sets["test"])) == (60_000, 10_000)
    assert sets["train"].class_names[9] == "Ankle boot"
    assert params.sample.per_class == 6_000  # as many generated as real train images per class


def test_the_64_px_photo_preset_is_the_32_px_one_at_64_px():
    """photos64 was not tuned again at 64 px: it must stay photos32 with the size changed, so a choice
    made on the 32 px validation split reaches both."""
    small, large = (yaml.safe_load((ROOT / "presets" / f"photos{size}.yaml").read_text()) for size in (32, 64))
    assert (small["preprocess"].pop("image_size"), large["preprocess"].pop("image_size")) == (32, 64)
    assert small == large
    assert load_params(ROOT / "presets" / "photos64.yaml").preprocess.image_size == 64
