"""The release folder and `synthset generate`: usable elsewhere with nothing but the folder."""
import contextlib
import csv
import io
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import BIN, shipped
from hypothesis import example, given, settings
from hypothesis import strategies as st
from PIL import Image
from safetensors.torch import load_file

from synthset import cli
from synthset.data import load_digits, preprocess
from synthset.imagesets import ImageSet
from synthset.integrity import CHECKSUMS, ReleaseError, checksum_lines
from synthset.models.factory import generator_spec
from synthset.release import (
    FORMULA_STARTS,
    class_folders,
    load_release,
    spreadsheet_text,
    write_image_folder,
    write_release,
)
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
    assert sorted(p.name for p in folder.iterdir()) == ["MODEL_CARD.md", CHECKSUMS, "generator.json",
                                                        "generator.safetensors"]
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
@example(['=HYPERLINK("http://x")', "+1", "-1", "@a", "car"])
@example(["0.png"])  # a class folder whose name ends like an image's
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
        written = sorted(p for p in Path(tmp).rglob("*.png") if p.is_file())
        assert len(written) == len(images) and all(out in p.parents for p in written)
        with open(out / "labels.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        assert len({r["path"] for r in rows}) == len(images)
        # every name as it is, but one a spreadsheet would run as a formula is shown as text
        assert [r["class_name"] for r in rows] == [spreadsheet_text(names[y]) for y in images.labels]
        for row in rows:
            assert not row["class_name"].startswith(FORMULA_STARTS)
            assert not row["path"].startswith(("=", "+", "@")) and "(" not in row["path"]  # folders: \w . - only


def run_generate(folder, out, *extra) -> subprocess.CompletedProcess:
    """`synthset generate` in this process (the subprocess path is tested above): exit code and output."""
    args = ["generate", str(folder), "--out", str(out), *map(str, extra)]
    stdout, stderr = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            cli.main(args)
        except SystemExit as exit_:
            code = exit_.code
    return subprocess.CompletedProcess(args, code, stdout.getvalue(), stderr.getvalue())


def copy_of(folder: Path, tmp: Path) -> Path:
    copy = tmp / f"copy{len(list(tmp.iterdir()))}"
    shutil.copytree(folder, copy)
    return copy


def resum(folder: Path) -> None:
    """Rewrite SHA256SUMS after an edit, as a careless or hostile editor would: the checks behind
    the checksums must still catch what the edit broke."""
    names = [line.split("  ", 1)[1] for line in (folder / CHECKSUMS).read_text().splitlines()]
    (folder / CHECKSUMS).write_text(checksum_lines(folder, names))


def test_the_checksums_are_the_ones_sha256sum_checks(release):
    _, _, folder, _ = release
    proc = subprocess.run(["sha256sum", "-c", CHECKSUMS], cwd=folder, capture_output=True, text=True, check=True)
    assert proc.stdout.count(": OK") == 3
    card = (folder / "MODEL_CARD.md").read_text()
    assert all(line in card for line in (folder / CHECKSUMS).read_text().splitlines()[:2])


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(["generator.safetensors", "generator.json", "MODEL_CARD.md", CHECKSUMS]),
       where=st.floats(0, 1, exclude_max=True), xor=st.integers(1, 255))
def test_a_changed_byte_anywhere_is_refused_before_any_image(release, name, where, xor):
    _, _, folder, _ = release
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "release"
        shutil.copytree(folder, copy)
        data = bytearray((copy / name).read_bytes())
        data[int(where * len(data))] ^= xor
        (copy / name).write_bytes(bytes(data))
        with pytest.raises(ReleaseError) as err:
            load_release(copy)
        assert str(copy) in str(err.value) and "\n" not in str(err.value)


def test_generate_refuses_a_changed_release_in_one_line(release, tmp_path):
    _, _, folder, _ = release
    copy = copy_of(folder, tmp_path)
    data = bytearray((copy / "generator.safetensors").read_bytes())
    data[-5] ^= 1
    (copy / "generator.safetensors").write_bytes(bytes(data))
    proc = run_generate(copy, tmp_path / "out", "--per-class", 2)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "changed after it was released" in proc.stderr
    assert not (tmp_path / "out").exists()
    (copy / CHECKSUMS).unlink()
    proc = run_generate(copy, tmp_path / "out")
    assert proc.returncode == 2 and f"{CHECKSUMS}: missing" in proc.stderr


def edited_spec(folder: Path, tmp: Path, edit) -> Path:
    copy = copy_of(folder, tmp)
    spec = json.loads((copy / "generator.json").read_text())
    edit(spec)
    (copy / "generator.json").write_text(json.dumps(spec))
    resum(copy)
    return copy


@pytest.mark.parametrize("edit, said", [
    (lambda s: s.update(extra=1), "keys unknown extra"),
    (lambda s: s.pop("latent_dim"), "keys missing latent_dim"),
    (lambda s: s.update(image_shape=[10**6, 10**6, 3]), "image_shape must be"),
    (lambda s: s.update(class_names=s["class_names"][:-1]), "kwargs.num_classes"),
    (lambda s: s["kwargs"].update(width=4096), "has shape"),
    (lambda s: s["kwargs"].update(bogus=2), "kwargs do not build this model"),
])
def test_an_edited_spec_is_named_before_any_model_is_built(release, tmp_path, edit, said):
    """Checked in the spec, or against the weights' header on the meta device: a width of 4096
    would allocate gigabytes if the model were built before the shapes were compared."""
    _, _, folder, _ = release
    with pytest.raises(ReleaseError, match=said) as err:
        load_release(edited_spec(folder, tmp_path, edit))
    assert "generator" in str(err.value) and "\n" not in str(err.value)


def test_a_malformed_weights_file_is_named(release, tmp_path):
    _, _, folder, _ = release
    copy = copy_of(folder, tmp_path)
    (copy / "generator.safetensors").write_bytes(b"\xff" * 8 + b"{not json")
    resum(copy)
    with pytest.raises(ReleaseError, match="generator.safetensors: not a readable safetensors file"):
        load_release(copy)


def test_the_output_folder_is_replaced_whole_or_refused(release, tmp_path):
    """Stale PNGs of an earlier run are never left beside new ones; a file, or a folder of other
    files, is refused before anything is drawn or written; an absurd count is refused up front."""
    _, _, folder, data = release
    out = tmp_path / "out"
    assert run_generate(folder, out, "--per-class", 3).returncode == 0
    assert run_generate(folder, out, "--per-class", 1).returncode == 0
    with open(out / "labels.csv") as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["path"] for r in rows) == sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))
    assert len(rows) == data.num_classes
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging folder left behind
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.txt").write_text("keep me")
    for target, said in ((mine, "did not write"), (mine / "thesis.txt", "is a file")):
        proc = run_generate(folder, target)
        assert proc.returncode == 2 and said in proc.stderr and proc.stderr.count("\n") == 1
    assert [p.name for p in mine.iterdir()] == ["thesis.txt"]
    proc = run_generate(folder, tmp_path / "big", "--per-class", 10**12)
    assert proc.returncode == 2 and "per class fits" in proc.stderr and not (tmp_path / "big").exists()
