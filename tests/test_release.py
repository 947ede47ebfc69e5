"""The release folder and `synthset generate`: usable elsewhere with nothing but the folder."""
import csv
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from safetensors.torch import load_file

from conftest import BIN, shipped
from synthset.data import load_digits, preprocess
from synthset.models.factory import generator_spec
from synthset.io import ImageSet
from synthset.release import class_folders, load_release, write_image_folder, write_release
from synthset.sampling import sample_per_class
from synthset.train.checkpoint import load_generator, save_model
from synthset.train.loop import train_gan
from synthset.train.trainlog import TrainLog


def release_of(arch: str, data, tmp, filter_dir=None, epochs: int = 1):
    """Train `arch` briefly on `data`, save it, write its release folder; returns the model folder.
    Without mode seeking, which slows a G's first hundred steps (test_loop.test_each_class_is_learnt)."""
    p = shipped({"gan": {"archs": [arch], arch: {"epochs": epochs, "width": 8, "latent_dim": 8, "batch_size": 16,
                                                      "ema_decay": 0.9, "mode_seeking": 0.0}}}).arch(arch)
    g = train_gan(arch, data, p, torch.device("cpu"), 0, TrainLog(tmp / "live", tmp / "fig", data.num_classes))
    save_model(tmp / "model", generator_spec(arch, data, p), g)
    return write_release(tmp / "model", tmp / "release", {"train_seconds": 1.5}, filter_dir)


@pytest.fixture(scope="module", params=["dcgan", "sngan"])
def release(request, tmp_path_factory):
    arch = request.param
    tmp = tmp_path_factory.mktemp(arch)
    data = preprocess(load_digits(), 8, "gray")
    release_of(arch, data, tmp)
    moved = tmp / "elsewhere" / "release"
    shutil.copytree(tmp / "release", moved)
    return arch, tmp / "model", moved, data


def test_release_holds_only_the_generator(release):
    arch, model_dir, folder, data = release
    assert sorted(p.name for p in folder.iterdir()) == ["MODEL_CARD.md", "generator.json", "generator.safetensors"]
    weights = load_file(str(folder / "generator.safetensors"))
    assert all(t.numel() < data.images.size for t in weights.values())
    card = (folder / "MODEL_CARD.md").read_text()
    assert arch in card and "8x8" in card and "train_seconds" in card


def test_release_generates_what_the_trained_model_generates(release):
    arch, model_dir, folder, data = release
    g_model, spec = load_generator(model_dir, torch.device("cpu"))
    g_release, _ = load_release(folder)
    a = sample_per_class(g_model, spec["class_names"], 4, seed=2)
    b = sample_per_class(g_release, spec["class_names"], 4, seed=2)
    assert np.array_equal(a.images, b.images)


def test_synthset_generate_writes_an_image_folder(release, tmp_path):
    arch, _, folder, data = release
    out = tmp_path / "mydata"
    proc = subprocess.run([str(BIN / "synthset"), "generate", str(folder), "--per-class", "3", "--out", str(out)],
                          capture_output=True, text=True, check=True)
    assert "wrote 30 images" in proc.stdout
    with open(out / "labels.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 30 and sorted({r["class_name"] for r in rows}) == data.class_names
    for r in rows:
        im = Image.open(out / r["path"])
        assert im.size == (8, 8) and im.mode == "L"
        assert r["path"].startswith(r["class_name"] + "/")


def test_generate_says_what_is_missing(tmp_path):
    proc = subprocess.run([str(BIN / "synthset"), "generate", str(tmp_path), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "generator.safetensors: missing" in proc.stderr


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=10), min_size=1, max_size=6, unique=True))
def test_any_class_names_get_distinct_folders_inside_the_output(names):
    """Class names are folder names of the owner's data: whatever they hold ('..', '_..', '/',
    punctuation only, names equal but for case or punctuation), every image lands inside the
    output folder, in its own class's folder, and none is overwritten."""
    folders = class_folders(names)
    assert len({f.lower() for f in folders}) == len(names)
    assert all(f not in (".", "..") and not f.startswith(".") and "/" not in f and "\\" not in f for f in folders)
    images = ImageSet(np.full((2 * len(names), 2, 2, 1), 7, np.uint8), np.repeat(np.arange(len(names)), 2), names)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        write_image_folder(images, out)
        written = sorted(p for p in Path(tmp).rglob("*.png"))
        assert len(written) == len(images) and all(out in p.parents for p in written)
        with open(out / "labels.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        assert len({r["path"] for r in rows}) == len(images)
        assert [r["class_name"] for r in rows] == [names[y] for y in images.labels]
