"""The shared adversarial loop: every architecture trains on real gray and RGB data,
learns, logs, repeats exactly, resumes after kill -9, and stops on an exploding loss."""
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from conftest import BIN, SHIPPED, VEHICLES, shipped

from synthset.data import ingest, load_digits, load_mnist5k, preprocess
from synthset.files import read_json, write_json
from synthset.imagesets import ImageSet, RaggedImageSet
from synthset.params import GAN_ARCHS as ARCHS
from synthset.presets import apply_preset
from synthset.sampling import sample_per_class
from synthset.train.checkpoint import Checkpointer, run_key
from synthset.train.loop import NonFiniteLoss, train_gan
from synthset.train.trainlog import TrainLog

CPU = torch.device("cpu")


def subset(s: ImageSet, per_class: int, classes: int) -> ImageSet:
    keep = np.concatenate([np.flatnonzero(s.labels == c)[:per_class] for c in range(classes)])
    return ImageSet(s.images[keep], s.labels[keep], s.class_names[:classes])


@pytest.fixture(scope="module")
def mnist() -> ImageSet:
    return subset(preprocess(load_mnist5k(), 28, "gray"), 16, 3)


@pytest.fixture(scope="module")
def digits() -> ImageSet:
    return subset(preprocess(load_digits(), 8, "gray"), 60, 4)


@pytest.fixture(scope="module")
def rgb_folder(tmp_path_factory) -> ImageSet:
    """A small RGB class folder made here from real vehicle photos, through real ingest."""
    if not VEHICLES.is_dir():
        pytest.skip(f"{VEHICLES} not present")
    root = tmp_path_factory.mktemp("rgb")
    for cls in ("bike", "car", "truck"):
        (root / "raw" / cls).mkdir(parents=True)
        for f in sorted((VEHICLES / cls).iterdir())[:12]:
            shutil.copy(f, root / "raw" / cls / f.name)
    data = shipped({"data": {"source": "folder", "path": str(root / "raw"), "min_per_class": 5}}).data
    ingest(data, "rgb", root / "ingest")
    return preprocess(RaggedImageSet.load(root / "ingest" / "train.npz"), 32, "rgb")


def arch_params(arch, **overrides):
    base = {"latent_dim": 16, "width": 8, "epochs": 1, "batch_size": 8, "checkpoint_every": 1}
    return shipped({"gan": {"archs": [arch], arch: {**base, **overrides}}}).arch(arch)


def train(arch, data, tmp_path, seed=3, **overrides):
    p = arch_params(arch, **overrides)
    log = TrainLog(tmp_path / "live", tmp_path / "grids", data.num_classes, grid_cols=4)
    g = train_gan(arch, data, p, CPU, seed, log)
    log.finish({"train_seconds": log.elapsed()})
    return g


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("dataset", ["mnist", "rgb_folder"])
def test_every_arch_trains_and_samples_labelled_images(arch, dataset, request, tmp_path):
    data = request.getfixturevalue(dataset)
    g = train(arch, data, tmp_path, epochs=2)  # wgan_gp's 5 critic steps need > 1 epoch of 3 batches
    fake = sample_per_class(g.eval(), data.class_names, 5, seed=0)
    assert fake.images.shape == (5 * data.num_classes, *data.image_shape)
    assert fake.images.dtype == np.uint8 and fake.images.std() > 0
    assert np.bincount(fake.labels).tolist() == [5] * data.num_classes
    assert np.isfinite(pd.read_csv(tmp_path / "live/plots/metrics/train/loss_d.tsv", sep="\t")["loss_d"]).all()


@pytest.mark.parametrize("arch", ["dcgan", "cdcgan"])
def test_same_seed_same_weights_on_cpu(arch, digits, tmp_path):
    a = train(arch, digits, tmp_path / "a", epochs=2, replay=True, ema_decay=0.9, label_smoothing=0.1)
    b = train(arch, digits, tmp_path / "b", epochs=2, replay=True, ema_decay=0.9, label_smoothing=0.1)
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(x, y), name


def test_logs_every_step_and_grids_every_epoch(digits, tmp_path):
    train("dcgan", digits, tmp_path, epochs=3, batch_size=16, grid_every=1)
    loss = pd.read_csv(tmp_path / "live/plots/metrics/train/loss_d.tsv", sep="\t")
    assert len(loss) == 3 * (60 // 16)
    assert sorted(p.name for p in (tmp_path / "grids").iterdir()) == [f"epoch_{e:04d}.png" for e in range(4)]


@pytest.mark.parametrize("arch", ["dcgan", "cdcgan"])
def test_each_class_is_learnt(arch, digits, tmp_path):
    """Generated images of class c look more like real class c than like any other class.
    Without mode seeking (dcgan's default has it): its 1 / ratio term leads G's first steps, while
    G's images barely vary, and on these 8 px digits dcgan then needs about 80 epochs instead
    of 40 (measured with weights 0.1 to 1); test_ema_and_mode_seeking tests it on its own."""
    g = train(arch, digits, tmp_path, epochs=40, batch_size=20, lr_g=1e-3, lr_d=1e-3, width=16, mode_seeking=0.0)
    fake = sample_per_class(g.eval(), digits.class_names, 64, seed=0)
    real_means = np.stack([digits.of_class(c).mean(0).ravel() for c in range(4)])
    for c in range(4):
        distances = np.linalg.norm(real_means - fake.of_class(c).mean(0).ravel(), axis=1)
        assert distances.argmin() == c, f"class {c}: generated mean is nearest to class {distances.argmin()}"


def test_exploding_loss_stops_naming_the_step_and_keeps_the_last_checkpoint(digits, tmp_path):
    p = arch_params("cdcgan", epochs=5, checkpoint_every=2)
    log = TrainLog(tmp_path / "live", tmp_path / "grids", digits.num_classes)
    checkpoints = Checkpointer(tmp_path / "ckpt", key="k")

    def diverge_after_epoch_3(epoch, units):  # no checkpoint is due after epoch 3: epoch 2's is the last
        if epoch == 3:
            for param in units[0].g.parameters():
                param.data.fill_(float("inf"))

    with pytest.raises(NonFiniteLoss, match=r"at step \d+ \(epoch 4\)"):
        train_gan("cdcgan", digits, p, CPU, 0, log, checkpoints, on_epoch=diverge_after_epoch_3)
    assert read_json(tmp_path / "ckpt" / "latest.json")["epoch"] == 2
    assert all(torch.isfinite(v).all() for v in checkpoints.load()["units"][0]["g"].values())


def test_kill_minus_9_then_rerun_resumes_to_the_same_weights(tmp_path):
    """A real stage process killed mid-run, started again, ends where an uninterrupted run ends."""
    params = {"device": "cpu", "threads": 1,
              "data": {"source": "digits", "max_per_class": 40, "min_per_class": 10},
              "preprocess": {"image_size": 8},
              "gan": {"archs": ["cdcgan"], "cdcgan": {"epochs": 15, "width": 8, "latent_dim": 8, "batch_size": 8,
                                                       "checkpoint_every": 1, "ema_decay": 0.9, "replay": True}}}
    shutil.copy(SHIPPED, tmp_path / "params.yaml")
    (tmp_path / "run.yaml").write_text(yaml.safe_dump(params))
    apply_preset(tmp_path / "params.yaml", tmp_path / "run.yaml")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    for stage in (["ingest", "--out", "ing"], ["preprocess", "--ingested", "ing", "--out", "pre"]):
        subprocess.run([sys.executable, "-m", f"synthset.stages.{stage[0]}", *stage[1:]], cwd=tmp_path, env=env,
                       check=True, capture_output=True)

    def train_cmd(tag):
        return [sys.executable, "-m", "synthset.stages.train_gan", "--arch", "cdcgan", "--train", "pre/train.npz",
                "--model", f"{tag}/model", "--live", f"{tag}/live", "--figures", f"{tag}/fig",
                "--checkpoints", f"{tag}/ckpt"]

    subprocess.run(train_cmd("whole"), cwd=tmp_path, env=env, check=True, capture_output=True)

    proc = subprocess.Popen(train_cmd("killed"), cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    marker = tmp_path / "killed/ckpt/latest.json"
    deadline = time.time() + 120
    while time.time() < deadline and not (marker.exists() and read_json(marker)["epoch"] >= 3):
        assert proc.poll() is None, "training finished before it could be killed: make it longer"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / "killed/model/generator.pt").exists()

    rerun = subprocess.run(train_cmd("killed"), cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert "resuming from the checkpoint" in rerun.stdout
    whole = torch.load(tmp_path / "whole/model/generator.pt", weights_only=True)
    resumed = torch.load(tmp_path / "killed/model/generator.pt", weights_only=True)
    for name in whole:
        assert torch.equal(whole[name], resumed[name]), name
    assert not (tmp_path / "killed/ckpt").exists(), "checkpoints are removed after a finished run"
    steps = pd.read_csv(tmp_path / "killed/live/plots/metrics/train/loss_d.tsv", sep="\t")["step"]
    assert list(steps) == list(range(len(steps))) and len(steps) % 15 == 0


class _RunsCode:
    """A pickle that runs a command when loaded, as a crafted state.pt would."""

    def __init__(self, flag):
        self.flag = flag

    def __reduce__(self):
        return (os.system, (f"touch {self.flag}",))


def test_a_tampered_checkpoint_is_refused_without_running_anything(digits, tmp_path):
    p = shipped({"gan": {"archs": ["cdcgan"], "cdcgan": {"epochs": 2, "width": 8, "latent_dim": 8, "batch_size": 32,
                                                          "checkpoint_every": 1}}}).arch("cdcgan")
    data = digits.subset(slice(0, 100))
    key = run_key("cdcgan", p, 0, data)
    checkpoints = Checkpointer(tmp_path / "ckpt", key)
    train_gan("cdcgan", data, p, CPU, 0, TrainLog(tmp_path / "live", tmp_path / "fig", data.num_classes), checkpoints)
    assert checkpoints.load()["epoch"] == 1  # a real checkpoint loads as tensors and numbers

    state = tmp_path / "ckpt" / "epoch_0001" / "state.pt"
    flag = tmp_path / "ran"
    torch.save({"epoch": _RunsCode(flag)}, state)
    with pytest.raises(RuntimeError, match="not a checkpoint this project wrote"):
        checkpoints.load()
    assert not flag.exists()

    (tmp_path / "elsewhere").mkdir()
    write_json(tmp_path / "ckpt" / "latest.json", {"key": key, "dir": "../elsewhere", "epoch": 1})
    assert checkpoints.load() is None and checkpoints.latest_epoch() is None  # never a folder outside ckpt
