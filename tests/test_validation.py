"""`synthset validate`: a GAN's settings scored on the validation split. The score must tell a
generator that learnt from one that did not, and the command must refuse what it cannot score."""
import numpy as np
import pytest
import torch
from conftest import SHIPPED, shipped

from synthset.cli import main as cli
from synthset.data import load_mnist5k, preprocess
from synthset.imagesets import ImageSet
from synthset.params import ParamsError
from synthset.validation import nested_overrides, score_on_val


def split(per_class_train: int, per_class_val: int) -> tuple[ImageSet, ImageSet]:
    s = preprocess(load_mnist5k(), 28, "gray")
    rows = [np.flatnonzero(s.labels == c) for c in range(10)]
    train = np.sort(np.concatenate([r[:per_class_train] for r in rows]))
    val = np.sort(np.concatenate([r[per_class_train:per_class_train + per_class_val] for r in rows]))
    return (ImageSet(s.images[train], s.labels[train], s.class_names),
            ImageSet(s.images[val], s.labels[val], s.class_names))


def test_the_validation_score_rises_as_the_generator_learns(tmp_path):
    train, val = split(100, 30)
    torch.set_num_threads(1)
    scores = {}
    for epochs in (1, 15):
        params = shipped({"device": "cpu", "gan": {"archs": ["cdcgan"], "cdcgan": {
            "epochs": epochs, "width": 16, "batch_size": 32, "ema_decay": 0.99}},
            "sample": {"per_class": 60, "keep": "all"}, "classify": {"epochs": 3}})
        result = score_on_val(params, "cdcgan", train, val, torch.device("cpu"), seeds=1,
                              filter_folder=tmp_path / "no-filter")
        assert result["val_images"] == len(val) and len(result["acc_val_seeds"]) == 1
        assert result["acc_val_low"] <= result["acc_val"] <= result["acc_val_high"]
        scores[epochs] = result["acc_val"]
    assert scores[1] < 0.2 and scores[15] > scores[1] + 0.25, scores  # measured: 10 % (chance) and 50 %


def test_overrides_are_dvc_style_keys_with_yaml_values():
    assert nested_overrides(["gan.cdcgan.epochs=150", "gan.cdcgan.augment=[color, translation]",
                             "sample.keep=all"]) == {
        "gan": {"cdcgan": {"epochs": 150, "augment": ["color", "translation"]}}, "sample": {"keep": "all"}}
    with pytest.raises(ParamsError, match="key=value"):
        nested_overrides(["gan.cdcgan.epochs"])


@pytest.mark.parametrize("args, message", [
    (["cdcgan"], "train.npz: missing (run `dvc repro preprocess`"),
    (["cdcgan", "-S", "gan.cdcgan.epochs=-1"], "gan.cdcgan.epochs"),
    (["cdcgan", "-S", "gan.cdcgan.nope=1"], "unknown key"),
])
def test_what_it_cannot_score_is_one_line(args, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        cli(["validate", *args, "--params", str(SHIPPED), "--prepared", str(tmp_path)])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1, err
