"""sample.keep: agreeing keeps the draws a real classifier reads as their class, drawn until
every class has its count, reproducibly; a generator that ignores a label is refused. With
sample.label_temperature the filter's probabilities label the images, a classifier learns them,
and the release writes them."""
import csv
import shutil
import subprocess

import numpy as np
import pytest
import torch
import yaml
from conftest import BIN, shipped
from PIL import Image

from synthset.classify import fit, predict_proba
from synthset.classify.load import load_classifier, save_classifier
from synthset.data import load_digits, preprocess
from synthset.files import read_json, write_json
from synthset.filtering import LabelsNotFollowed, draw_agreeing, keep_images, soft_labels
from synthset.imagesets import ImageSet
from synthset.pixels import to_tensor
from synthset.release import load_release_filter, release_label_temperature, write_release

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def digits_and_judge():
    data = preprocess(load_digits(), 8, "gray")
    return data, fit(data, "lenet", 5, 32, 1e-3, 0, CPU)


def mislabelling_draw(data: ImageSet, wrong: float, seed: int, never: int | None = None):
    """A 'generator' of real digits that hands out, for a share `wrong` of the draws of each
    class, a digit of the next class under this class's label (class `never`: always)."""
    rng = np.random.default_rng(seed)
    truth: list[np.ndarray] = []

    def draw(counts: np.ndarray) -> ImageSet:
        images, labels, true = [], [], []
        for c, n in enumerate(counts):
            share = 1.0 if c == never else wrong
            source = np.where(rng.random(n) < share, (c + 1) % data.num_classes, c)
            for s in source:
                pool = np.flatnonzero(data.labels == s)
                images.append(data.images[rng.choice(pool)])
            labels += [c] * n
            true.append(source)
        truth.append(np.concatenate(true) if true else np.array([], dtype=int))
        return ImageSet(np.stack(images), np.array(labels), data.class_names)
    return draw, truth


def test_filter_drops_mislabelled_draws_and_keeps_the_count(digits_and_judge):
    data, judge = digits_and_judge
    draw, _ = mislabelling_draw(data, wrong=0.3, seed=0)
    kept, stats = draw_agreeing(draw, judge, data.class_names, 40, CPU)
    assert np.bincount(kept.labels, minlength=10).tolist() == [40] * 10
    # every kept image reads as its label, so the mislabelled 30 % went (the judge is ~98 % right on digits)
    assert (predict_proba(judge, kept.images, CPU).argmax(1) == kept.labels).all()
    assert 0.6 < stats["kept_share"] < 0.8 and stats["drawn"] > 400
    # the unfiltered draws of the same stream do not read as their labels nearly as often
    raw = mislabelling_draw(data, wrong=0.3, seed=0)[0](np.full(10, 40))
    assert (predict_proba(judge, raw.images, CPU).argmax(1) == raw.labels).mean() < 0.8


def test_filter_is_reproducible_and_keep_all_is_the_first_draw(digits_and_judge):
    data, judge = digits_and_judge
    a, _ = draw_agreeing(mislabelling_draw(data, 0.3, seed=1)[0], judge, data.class_names, 10, CPU)
    b, _ = draw_agreeing(mislabelling_draw(data, 0.3, seed=1)[0], judge, data.class_names, 10, CPU)
    assert np.array_equal(a.images, b.images)
    every, stats = keep_images(mislabelling_draw(data, 0.3, seed=1)[0], "all", None, data.class_names, 10, CPU)
    first = mislabelling_draw(data, 0.3, seed=1)[0](np.full(10, 10))
    assert np.array_equal(every.images, first.images) and stats["kept_share"] == 1.0


def test_a_label_the_generator_never_follows_is_refused(digits_and_judge):
    data, judge = digits_and_judge
    draw, _ = mislabelling_draw(data, wrong=0.0, seed=2, never=3)
    with pytest.raises(LabelsNotFollowed, match="class '3'.*does not follow this label"):
        draw_agreeing(draw, judge, data.class_names, 5, CPU)


def test_keep_agreeing_without_a_filter_says_what_is_missing(digits_and_judge):
    data, _ = digits_and_judge
    with pytest.raises(ValueError, match="filter classifier"):
        keep_images(mislabelling_draw(data, 0.0, 0)[0], "agreeing", None, data.class_names, 5, CPU)


@pytest.fixture(scope="module")
def trained_with_filter(digits_and_judge, tmp_path_factory):
    """A per-class DCGAN trained 30 epochs on the digits, its release with the filter."""
    from test_release import release_of

    data, judge = digits_and_judge
    tmp = tmp_path_factory.mktemp("filtered")
    filter_dir = save_classifier(judge, "lenet", data, tmp / "filter")
    return data, tmp, filter_dir, release_of("dcgan", data, tmp, filter_dir, epochs=30)


def test_sample_stage_keeps_what_the_filter_agrees_with(trained_with_filter, tmp_path):
    data, tmp, filter_dir, _ = trained_with_filter
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(shipped({"device": "cpu", "sample": {"per_class": 12, "keep": "agreeing"}})
                                     .model_dump(mode="json")))
    out, stats = tmp_path / "samples.npz", tmp_path / "stats.json"
    subprocess.run([str(BIN / "python"), "-m", "synthset.stages.sample", "--params", str(params), "--arch", "dcgan",
                    "--model", str(tmp / "model"), "--filter", str(filter_dir), "--out", str(out),
                    "--stats", str(stats)], check=True, capture_output=True, text=True)
    kept, judge = ImageSet.load(out), load_classifier(filter_dir, CPU)
    assert np.bincount(kept.labels).tolist() == [12] * 10
    assert (predict_proba(judge, kept.images, CPU).argmax(1) == kept.labels).all()
    recorded = read_json(stats)
    assert recorded["keep"] == "agreeing" and 0 < recorded["kept_share"] <= 1 and recorded["drawn"] >= 120
    assert recorded["label_temperature"] is None and kept.soft is None
    # with sample.label_temperature the same draws carry the filter's probabilities, saved with them
    params.write_text(yaml.safe_dump(shipped({"device": "cpu", "sample": {"per_class": 12, "keep": "agreeing",
                                                                          "label_temperature": 4.0}})
                                     .model_dump(mode="json")))
    subprocess.run([str(BIN / "python"), "-m", "synthset.stages.sample", "--params", str(params), "--arch", "dcgan",
                    "--model", str(tmp / "model"), "--filter", str(filter_dir), "--out", str(out),
                    "--stats", str(stats)], check=True, capture_output=True, text=True)
    soft = ImageSet.load(out)
    assert (soft.images == kept.images).all() and read_json(stats)["label_temperature"] == 4.0
    np.testing.assert_allclose(soft.soft, soft_labels(judge, soft.images, 4.0, CPU), rtol=1e-5, atol=1e-7)


def test_release_with_filter_generates_only_agreeing_images(trained_with_filter, tmp_path):
    """The filter travels with the release: `synthset generate` keeps what the pipeline kept."""
    data, _, _, folder = trained_with_filter
    assert {"filter.safetensors", "filter.json"} <= {p.name for p in folder.iterdir()}
    assert "## Filter" in (folder / "MODEL_CARD.md").read_text()
    moved = tmp_path / "elsewhere"
    shutil.copytree(folder, moved)
    out = tmp_path / "mydata"
    proc = subprocess.run([str(BIN / "synthset"), "generate", str(moved), "--per-class", "6", "--out", str(out)],
                          capture_output=True, text=True, check=True)
    assert "wrote 60 images" in proc.stdout and "filter kept" in proc.stdout
    files = sorted(out.glob("*/*.png"))
    images = np.stack([np.array(Image.open(p))[:, :, None] for p in files])
    labels = np.array([data.class_names.index(p.parent.name) for p in files])
    assert (predict_proba(load_release_filter(moved), images, CPU).argmax(1) == labels).all()


def test_a_dp_generator_is_never_filtered_nor_released_with_the_filter(trained_with_filter, tmp_path):
    """The filter classifier learned from the private images without DP: filtering a DP
    generator's draws, or releasing the filter with it, would leak what epsilon does not count."""
    _, tmp, filter_dir, _ = trained_with_filter
    model = tmp_path / "model"
    shutil.copytree(tmp / "model", model)
    spec = read_json(model / "generator.json")
    spec["dp"] = {"dp_epsilon": 9.9, "dp_delta": 1e-5, "dp_steps": 420}
    write_json(model / "generator.json", spec)
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(shipped({"device": "cpu", "sample": {"per_class": 12, "keep": "agreeing"}})
                                     .model_dump(mode="json")))
    stats = tmp_path / "stats.json"
    run_stage = [str(BIN / "python"), "-m"]
    subprocess.run(run_stage + ["synthset.stages.sample", "--params", str(params), "--arch", "dcgan", "--model",
                                str(model), "--filter", str(filter_dir), "--out", str(tmp_path / "samples.npz"),
                                "--stats", str(stats)], check=True, capture_output=True, text=True)
    recorded = read_json(stats)
    assert recorded["keep"] == "all" and recorded["kept_share"] == 1.0
    assert "differential privacy" in recorded["unfiltered_because"]
    release = tmp_path / "release"
    subprocess.run(run_stage + ["synthset.stages.release", "--params", str(params), "--arch", "dcgan", "--model",
                                str(model), "--live", str(tmp_path / "live"), "--metrics", str(tmp_path / "metrics"),
                                "--filter", str(filter_dir), "--out", str(release)],
                   check=True, capture_output=True, text=True)
    assert not (release / "filter.safetensors").exists()
    card = (release / "MODEL_CARD.md").read_text()
    assert "## Filter" not in card and "epsilon 9.9 at delta 1e-05, over 420 steps" in card


def test_soft_labels_are_the_filters_probabilities_at_the_temperature(digits_and_judge):
    """sample.label_temperature: every kept image carries softmax(logits / T), whose top class
    is its label (the filter agreed with it); a higher T spreads the same order out."""
    data, judge = digits_and_judge
    draw, _ = mislabelling_draw(data, wrong=0.3, seed=0)
    plain, _ = keep_images(draw, "agreeing", judge, data.class_names, 20, CPU)
    warm, _ = keep_images(mislabelling_draw(data, wrong=0.3, seed=0)[0], "agreeing", judge, data.class_names, 20,
                          CPU, temperature=4.0)
    hot, _ = keep_images(mislabelling_draw(data, wrong=0.3, seed=0)[0], "agreeing", judge, data.class_names, 20,
                         CPU, temperature=16.0)
    assert plain.soft is None and (warm.images == plain.images).all() and (hot.images == plain.images).all()
    with torch.no_grad():
        logits = judge(to_tensor(plain.images)).double()
    np.testing.assert_allclose(warm.soft, torch.softmax(logits / 4, 1).numpy(), rtol=1e-5, atol=1e-7)
    assert (warm.soft.argmax(1) == warm.labels).all() and (hot.soft.argmax(1) == hot.labels).all()
    own = np.arange(len(warm))
    assert (hot.soft[own, hot.labels] < warm.soft[own, warm.labels]).all()  # flatter: more on the other classes
    with pytest.raises(ValueError, match="keep: all has none"):
        keep_images(draw, "all", judge, data.class_names, 20, CPU, temperature=4.0)


def test_a_classifier_learns_the_probabilities_of_soft_labels_not_just_the_class(digits_and_judge):
    """Every digit labelled 70 % its class, 30 % the next one: a classifier trained on that says
    about 0.3 for the next class, where one trained on the classes alone says about 0."""
    data, _ = digits_and_judge
    train = data.subset(slice(0, 600))
    soft = np.zeros((len(train), 10), dtype=np.float32)
    soft[np.arange(len(train)), train.labels] = 0.7
    soft[np.arange(len(train)), (train.labels + 1) % 10] = 0.3
    test = data.subset(slice(1000, 1400))
    nxt = (test.labels + 1) % 10
    said = {}
    for name, labels in (("soft", soft), ("hard", None)):
        model = fit(ImageSet(train.images, train.labels, train.class_names, labels), "lenet", 15, 32, 1e-3, 0, CPU)
        p = predict_proba(model, test.images, CPU)
        said[name] = (p[np.arange(len(test)), nxt].mean(), (p.argmax(1) == test.labels).mean())
    assert 0.2 < said["soft"][0] < 0.4 and said["hard"][0] < 0.05
    assert said["soft"][1] > 0.85  # the class is still the most likely one


def test_a_release_with_soft_labels_writes_them_beside_each_image(trained_with_filter, tmp_path):
    """The release's filter.json carries the temperature; `synthset generate` labels each image
    with the filter's probabilities in labels.csv, as the pipeline's sample stage did."""
    data, tmp, filter_dir, _ = trained_with_filter
    release = write_release(tmp / "model", tmp_path / "release", {}, filter_dir, label_temperature=4.0)
    assert release_label_temperature(release) == 4.0 and release_label_temperature(trained_with_filter[3]) is None
    assert "temperature 4" in (release / "MODEL_CARD.md").read_text()
    out = tmp_path / "mydata"
    subprocess.run([str(BIN / "synthset"), "generate", str(release), "--per-class", "3", "--out", str(out)],
                   capture_output=True, text=True, check=True)
    rows = list(csv.DictReader(open(out / "labels.csv")))
    assert [k for k in rows[0] if k.startswith("p_")] == [f"p_{c}" for c in range(10)]
    images = np.stack([np.array(Image.open(out / r["path"]))[:, :, None] for r in rows])
    soft = np.array([[float(r[f"p_{c}"]) for c in range(10)] for r in rows])
    expected = soft_labels(load_release_filter(release), images, 4.0, CPU)
    np.testing.assert_allclose(soft, expected, rtol=1e-4, atol=1e-6)
    assert (soft.argmax(1) == np.array([int(r["label"]) for r in rows])).all()


def test_soft_labels_need_the_filter_in_params(tmp_path):
    with pytest.raises(Exception, match="label_temperature.*sample.keep: agreeing"):
        shipped({"sample": {"keep": "all", "label_temperature": 4.0}})
    for bad in (0, -1.0):
        with pytest.raises(Exception, match="label_temperature"):
            shipped({"sample": {"label_temperature": bad}})
