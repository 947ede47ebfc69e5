"""The diffusion baseline (ddpm): it learns its labels from real digits, an interrupted run
resumes to the same weights, its sampling is a deterministic G(z, labels) (so the release and
`synthset generate` give the pipeline's images), and its white-box audit finds a model that
memorised its few training images."""
import json

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from browser import check_page
from conftest import run, shipped

from synthset.classify import fit, predict_proba
from synthset.data import load_digits, load_mnist5k, preprocess
from synthset.imagesets import ImageSet
from synthset.metrics.audit import auc
from synthset.models.ddpm import DiffusionGenerator
from synthset.models.factory import generator_spec
from synthset.params import ParamsError
from synthset.pixels import to_tensor
from synthset.presets import apply_preset
from synthset.release import load_release, write_release
from synthset.sampling import sample_per_class
from synthset.train.checkpoint import Checkpointer, save_model
from synthset.train.diffusion import train_diffusion
from synthset.train.trainlog import TrainLog

CPU = torch.device("cpu")


def ddpm_params(**overrides):
    base = {"widths": [8, 16], "epochs": 2, "batch_size": 16, "warmup_steps": 5, "ema_decay": 0.9,
            "sampling_steps": 4, "checkpoint_every": 1, "grid_every": 1}
    return shipped({"gan": {"archs": ["ddpm"], "ddpm": {**base, **overrides}}}).arch("ddpm")


@pytest.fixture(scope="module")
def digits() -> ImageSet:
    """sklearn's real 8x8 digits, 4 classes, 40 each."""
    s = preprocess(load_digits(), 8, "gray")
    keep = np.concatenate([np.flatnonzero(s.labels == c)[:40] for c in range(4)])
    return ImageSet(s.images[keep], s.labels[keep], s.class_names[:4])


def train(data, p, folder, seed=0, threads=1, **kwargs):
    torch.set_num_threads(threads)
    log = TrainLog(folder / "live", folder / "grids", data.num_classes, grid_cols=4, resume=kwargs.pop("resume", False))
    return train_diffusion("ddpm", data, p, CPU, seed, log, **kwargs)


class Killed(Exception):
    pass


def test_interrupted_run_resumes_to_the_same_weights(digits, tmp_path):
    p = ddpm_params(epochs=3)
    whole = train(digits, p, tmp_path / "whole")

    def kill_after_2_is_saved(epoch, model):
        if epoch == 3:
            raise Killed  # on_epoch runs before its epoch's checkpoint: 2's is the last

    ckpt = Checkpointer(tmp_path / "ckpt", "key")
    with pytest.raises(Killed):
        train(digits, p, tmp_path / "killed", checkpointer=ckpt, on_epoch=kill_after_2_is_saved)
    assert ckpt.latest_epoch() == 2
    ckpt.restore_logs(tmp_path / "killed/live", tmp_path / "killed/grids")
    resumed = train(digits, p, tmp_path / "killed", checkpointer=ckpt, resume=True)
    for (name, x), y in zip(whole.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(x, y), name
    losses = (tmp_path / "killed/live/plots/metrics/train/loss.tsv").read_text().splitlines()
    assert len(losses) == 1 + 3 * (len(digits) // 16), "one logged step per batch, none twice"


@pytest.mark.parametrize("sampler", ["ddim", "dpm"])
def test_sampling_is_a_seeded_function_of_the_noise_and_the_release_repeats_it(sampler, digits, tmp_path):
    p = ddpm_params(epochs=1, sampler=sampler, guidance_scale=2.0)
    model = train(digits, p, tmp_path)
    first = sample_per_class(model, digits.class_names, 3, seed=5)
    assert first.images.shape == (12, 8, 8, 1) and first.images.std() > 0
    assert np.array_equal(first.images, sample_per_class(model, digits.class_names, 3, seed=5).images)
    save_model(tmp_path / "model", generator_spec("ddpm", digits, p), model)
    released, spec = load_release(write_release(tmp_path / "model", tmp_path / "release"))
    assert spec["latent_dim"] == 64 and spec["kwargs"]["guidance_scale"] == 2.0
    assert np.array_equal(first.images, sample_per_class(released, digits.class_names, 3, seed=5).images)


def test_guidance_needs_an_unconditional_model_and_widths_must_fit_the_image():
    with pytest.raises(ParamsError, match="label_dropout"):
        ddpm_params(guidance_scale=3.0, label_dropout=0.0)
    with pytest.raises(ValueError, match="not divisible"):
        DiffusionGenerator(10, 1, 28, [8, 8, 8, 8], 1, False, 100, "linear", "ddim", 4, 1.0)


def test_ddpm_learns_its_labels_on_real_digits(tmp_path):
    """A short run on 100 real MNIST digits per class (at 14 px, for time): a classifier trained
    on real digits reads most generated images as the class asked for (chance: 10 %)."""
    s = preprocess(load_mnist5k(), 14, "gray")
    keep = np.sort(np.concatenate([np.flatnonzero(s.labels == c)[:100] for c in range(10)]))
    train_set = ImageSet(s.images[keep], s.labels[keep], s.class_names)
    p = ddpm_params(widths=[16, 32], epochs=12, batch_size=32, lr=2e-3, warmup_steps=20, ema_decay=0.99,
                    sampler="ddim", sampling_steps=10, guidance_scale=2.0, grid_every=12, checkpoint_every=12)
    model = train(train_set, p, tmp_path, threads=2)
    judge = fit(train_set, "lenet", 5, 64, 1e-3, 0, CPU)
    fake = sample_per_class(model, train_set.class_names, 20, seed=0)
    agreement = float((predict_proba(judge, fake.images, CPU).argmax(1) == fake.labels).mean())
    assert agreement > 0.5, agreement  # 0.87 after 20 epochs, when measured


def test_the_loss_attack_finds_a_model_that_memorised_its_training_images(digits, tmp_path):
    """Trained 250 epochs on 24 digits, the model denoises them better than unseen digits of the same classes."""
    members = digits.subset(np.concatenate([np.flatnonzero(digits.labels == c)[:6] for c in range(4)]))
    unseen = digits.subset(np.concatenate([np.flatnonzero(digits.labels == c)[20:40] for c in range(4)]))
    model = train(members, ddpm_params(widths=[32, 64], epochs=250, batch_size=24, lr=2e-3, label_dropout=0.0,
                                       ema_decay=None, grid_every=250, checkpoint_every=250), tmp_path)
    gen = torch.Generator().manual_seed(0)

    def scores(s):
        x, y = to_tensor(s.images), torch.from_numpy(s.labels)
        return -model.denoising_loss(x, y, [50, 100, 200, 300], gen).numpy()
    assert auc(scores(members), scores(unseen)) > 0.8


@pytest.mark.slow
def test_ddpm_and_dpmerf_go_through_every_stage_into_the_report_and_their_releases_generate(built_project, tmp_path):
    """The built tiny project with the two generators that have no discriminator as its only ones, the
    diffusion model and the DP baseline (DP-MERF, tests/test_merf.py): the pipeline trains, samples,
    scores (the loss attack, or GAN-Leaks with G, in place of LOGAN), reports and releases them, and a
    third party's `synthset generate` draws from each release alone. The data, the real baseline and PCA
    are the built project's: Snakemake runs only what the change of generators needs."""
    project = built_project
    tiny = {"gan": {"archs": ["ddpm", "dpmerf"],
                    "ddpm": {"widths": [8, 16], "epochs": 2, "batch_size": 16, "sampling_steps": 3},
                    "dpmerf": {"frequencies": 100, "latent_dim": 8, "width": 8, "epochs": 2, "batch_size": 16}}}
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(tiny))
    apply_preset(project / "params.yaml", tmp_path / "tiny.yaml")
    ran = run(["snakemake", "--cores", "2"], project)  # the same stages as dvc repro (test_workflows), in parallel
    assert "rule ingest:" not in ran.stdout + ran.stderr and "rule train_classifier:" not in ran.stdout + ran.stderr
    summary = json.loads((project / "results/metrics/summary.json").read_text())
    for arch in ("ddpm", "dpmerf"):
        assert {"acc_fake", "acc_fake_low", "vs_real", "fid", "copy_share", "attack_tpr",
                "train_seconds"} <= set(summary[arch])
    price = summary["price_of_privacy"]  # the private row beside the non-private one, with what epsilon cost
    assert (price["private"], price["versus"]) == ("dpmerf", "ddpm") and price["epsilon"] == pytest.approx(10.0)
    assert price["acc_gap"] == pytest.approx(summary["dpmerf"]["acc_fake"] - summary["ddpm"]["acc_fake"])
    assert price["acc_gap_interval"][0] <= price["acc_gap"] <= price["acc_gap_interval"][1]
    spec = json.loads((project / "results/release/dpmerf/generator.json").read_text())
    assert spec["dp"]["dp_epsilon"] == pytest.approx(10.0) and spec["dp"]["dp_steps"] == 1
    live = project / "results/live/train_gan/dpmerf"  # the noise's share of the loss, drawn in its curve
    mmd = pd.read_csv(live / "plots/metrics/train/mmd.tsv", sep="\t")["mmd"]
    assert 0 < json.loads((live / "metrics.json").read_text())["mmd_noise_floor"] < mmd.min()
    attacks = {arch: set(json.loads((project / f"results/metrics/audit/{arch}.json").read_text())["attacks"])
               for arch in ("ddpm", "dpmerf")}
    assert attacks == {"ddpm": {"gan_leaks", "loss"}, "dpmerf": {"gan_leaks", "gan_leaks_g"}}
    page = check_page(project / "results/report/index.html")
    assert page.errors == [] and page.broken_images == []
    assert page.headings == ["Summary", "ddpm", "dpmerf", "PCA baseline"]
    report = (project / "results/report/index.html").read_text()
    assert "What privacy cost:</b> the best private generator, dpmerf (epsilon 10), teaches" in report
    card = (project / "results/release/dpmerf/MODEL_CARD.md").read_text()
    assert "never saw a private image" in card and "epsilon 10 at delta 1e-05" in card
    for arch in ("ddpm", "dpmerf"):
        run(["synthset", "generate", str(project / f"results/release/{arch}"), "--per-class", "3",
             "--out", str(tmp_path / arch)], project)
        classes = json.loads((project / f"results/release/{arch}/generator.json").read_text())["class_names"]
        assert len((tmp_path / arch / "labels.csv").read_text().splitlines()) == 1 + 3 * len(classes)
