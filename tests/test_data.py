"""Data stage: real files written here (PNG, JPEG, IDX), real bundled data, no mocks."""
from __future__ import annotations

import csv
import gzip
import io
import json
import os
import struct
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import VEHICLES, shipped, shipped_data
from PIL import Image

from synthset.data import (
    cap_per_class,
    convert_color,
    ingest,
    load_folder,
    load_idx,
    load_mnist5k,
    preprocess,
    resize_center_crop,
    resize_summary,
    stratified_split,
)
from synthset.data.ingest import SPLITS
from synthset.data.sources import files_read
from synthset.imagesets import ImageSet, RaggedImageSet
from synthset.params import DataParams, ParamsError
from synthset.stages import ingest as ingest_stage
from synthset.stages import preprocess as preprocess_stage

# ---------- resize / crop / colour ----------

def _banded(h, w, channels, vertical=True):
    """Black image with a white band across the middle third (columns if vertical, else rows)."""
    im = np.zeros((h, w, channels), np.uint8)
    if vertical:
        im[:, w // 3: 2 * w // 3] = 255
    else:
        im[h // 3: 2 * h // 3, :] = 255
    return im


@pytest.mark.parametrize("channels", [1, 3])
def test_landscape_keeps_centre_and_crops_sides(channels):
    # 40x100 -> shorter side 20 -> 20x50 -> crop 15 px each side; the band (middle third) fills
    # columns ~16.7..33.3 of 50, i.e. ~1.7..18.3 of the 20 kept: centre white, edges black.
    out = resize_center_crop(_banded(40, 100, channels), 20)
    assert out.shape == (20, 20, channels) and out.dtype == np.uint8
    assert out[:, 5:15].min() > 200
    assert out[:, 0].max() < 255 and out[:, 19].max() < 255  # edges partly outside the band


def test_landscape_crop_removes_side_content():
    im = np.zeros((40, 100, 3), np.uint8)
    im[:, :20] = (255, 0, 0)   # left side: red
    im[:, 80:] = (0, 0, 255)   # right side: blue
    im[:, 40:60] = (0, 255, 0)  # centre: green
    out = resize_center_crop(im, 20)  # keeps original columns 30..70
    assert out[..., 0].max() < 10 and out[..., 2].max() < 10  # red and blue sides cropped away
    assert out[:, 8:12, 1].min() > 240


@pytest.mark.parametrize("channels", [1, 3])
def test_portrait_keeps_centre_rows(channels):
    out = resize_center_crop(_banded(90, 30, channels, vertical=False), 15)
    assert out.shape == (15, 15, channels) and out.dtype == np.uint8
    assert out[6:9].min() > 200
    assert out[0].max() < 255 and out[14].max() < 255


def test_square_passes_through_as_copy():
    im = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    out = resize_center_crop(im, 16)
    assert np.array_equal(out, im) and out is not im
    up = resize_center_crop(im[:8, :8], 16)  # a square upscale changes size only
    assert up.shape == (16, 16, 3)


def test_convert_color_both_ways():
    red = np.zeros((4, 5, 3), np.uint8)
    red[..., 0] = 255
    gray = convert_color(red, "gray")
    assert gray.shape == (4, 5, 1) and gray.dtype == np.uint8 and (gray == 76).all()
    g = np.arange(20, dtype=np.uint8).reshape(4, 5, 1)
    rgb = convert_color(g, "rgb")
    assert rgb.shape == (4, 5, 3) and all(np.array_equal(rgb[..., c], g[..., 0]) for c in range(3))
    assert convert_color(g, "gray") is g and convert_color(red, "rgb") is red


def test_preprocess_stacks_mixed_sizes():
    images = [np.full((10, 20, 1), 7, np.uint8), np.full((30, 12, 1), 9, np.uint8)]
    ragged = RaggedImageSet.from_images(images, [0, 1], ["a", "b"], ["x", "y"])
    out = preprocess(ragged, 8, "rgb")
    assert isinstance(out, ImageSet) and out.images.shape == (2, 8, 8, 3) and out.images.dtype == np.uint8
    assert (out.images[0] == 7).all() and (out.images[1] == 9).all()
    assert out.labels.tolist() == [0, 1] and out.class_names == ["a", "b"]


# ---------- split / cap ----------

def test_stratified_split():
    labels = np.repeat(np.arange(4), [50, 31, 20, 13])
    train, test = stratified_split(labels, 0.25, seed=0)
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(len(labels)))
    assert not set(train) & set(test)
    assert np.array_equal(train, np.sort(train)) and np.array_equal(test, np.sort(test))
    for c, n in enumerate([50, 31, 20, 13]):
        assert abs((labels[test] == c).sum() - n * 0.25) <= 1
    again = stratified_split(labels, 0.25, seed=0)
    assert np.array_equal(again[1], test)
    assert not np.array_equal(stratified_split(labels, 0.25, seed=1)[1], test)


def test_cap_per_class():
    labels = np.repeat(np.arange(3), [10, 3, 7])
    keep = cap_per_class(labels, 5, seed=0)
    assert np.array_equal(keep, np.sort(keep)) and len(set(keep)) == len(keep)
    assert np.bincount(labels[keep]).tolist() == [5, 3, 5]
    assert np.array_equal(keep, cap_per_class(labels, 5, seed=0))
    assert not np.array_equal(keep, cap_per_class(labels, 5, seed=1))


# ---------- folder source ----------

def _png_bytes(size=(24, 24), seed=0) -> bytes:
    noise = np.random.default_rng(seed).integers(0, 256, (*size, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(noise).save(buf, "PNG")
    return buf.getvalue()


def _make_folder(root: Path, counts: dict[str, int]) -> None:
    rng = np.random.default_rng(0)
    for k, (name, n) in enumerate(counts.items()):
        (root / name).mkdir(parents=True)
        for i in range(n):
            h, w = 16 + 2 * i, 20 + k
            im = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
            ext = ["png", "jpg", "JPEG"][i % 3]
            im.save(root / name / f"img{i}.{ext}")


@pytest.fixture
def folder_with_broken(tmp_path):
    root = tmp_path / "imgs"
    _make_folder(root, {"cat": 6, "dog": 6, "fox": 6})
    (root / "cat" / "empty.png").write_bytes(b"")
    (root / "dog" / "notes.jpg").write_text("this is not an image\n")
    good = _png_bytes()
    (root / "fox" / "half.png").write_bytes(good[: len(good) // 2])
    (root / "fox" / "readme.txt").write_text("ignored")
    (root / "fox" / ".hidden.png").write_bytes(b"")
    (root / ".cache").mkdir()
    return root


def test_load_folder_skips_broken_files(folder_with_broken):
    ragged, skipped = load_folder(folder_with_broken, "rgb")
    assert ragged.class_names == ["cat", "dog", "fox"]
    assert len(ragged) == 18 and np.bincount(ragged.labels).tolist() == [6, 6, 6]
    assert all(im.ndim == 3 and im.shape[2] == 3 and im.dtype == np.uint8 for im in ragged)
    assert "cat/img1.jpg" in ragged.names and "cat/img2.JPEG" in ragged.names
    assert sorted(p for p, _ in skipped) == ["cat/empty.png", "dog/notes.jpg", "fox/half.png"]
    assert all(reason for _, reason in skipped)
    gray, _ = load_folder(folder_with_broken, "gray")
    assert all(im.shape[2] == 1 for im in gray)
    assert [im.shape[:2] for im in gray] == [im.shape[:2] for im in ragged]


def test_load_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_folder(tmp_path / "nowhere", "rgb")
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "a.png").write_bytes(_png_bytes())
    with pytest.raises(ValueError, match="no class sub-folders"):
        load_folder(tmp_path / "flat", "rgb")


def test_files_read_are_the_files_ingest_reads(folder_with_broken, tmp_path):
    """The workflow's inputs for ingest: every file load_folder tries (broken ones too: fixing one must
    rerun ingest), none it ignores, only the classes asked for; the IDX files; the folder itself where
    nothing can be listed or the source is packaged."""
    root = str(folder_with_broken)
    read = files_read("folder", root)
    ragged, skipped = load_folder(folder_with_broken, "rgb")
    tried = sorted([*ragged.names, *(name for name, _ in skipped)])
    assert sorted(Path(f).relative_to(root).as_posix() for f in read) == tried
    assert all(Path(f).parent.name == "dog" for f in files_read("folder", root, ["dog"]))
    assert len(files_read("folder", root, ["dog"])) == 7
    for missing in ("folder", "idx"):
        assert files_read(missing, str(tmp_path / "nowhere")) == [str(tmp_path / "nowhere")]
    assert files_read("folder", root, ["wolf"]) == [root]  # ingest names the classes it has
    _make_idx(tmp_path / "mnist", gz=True)
    assert sorted(Path(f).name for f in files_read("idx", str(tmp_path / "mnist"))) == sorted(
        f"{prefix}-{kind}-ubyte.gz" for prefix in ("train", "t10k") for kind in ("images-idx3", "labels-idx1"))
    assert files_read("mnist5k", "data/raw") == ["data/raw"]


def test_ingest_folder_writes_skipped_csv(folder_with_broken, tmp_path):
    out = tmp_path / "out"
    params = shipped_data(source="folder", path=str(folder_with_broken), min_per_class=5, test_fraction=0.3)
    summary = ingest(params, "rgb", out)
    with open(out / "skipped.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["path"] for r in rows) == ["cat/empty.png", "dog/notes.jpg", "fox/half.png"]
    assert summary["skipped"] == 3 and summary["class_names"] == ["cat", "dog", "fox"]
    # 12 train images: the validation split takes 10 % but at least one of each class
    assert summary["images"] == {"train": 9, "val": 3, "test": 6}
    assert summary["per_class"]["test"] == {"cat": 2, "dog": 2, "fox": 2}
    assert summary["per_class"]["val"] == {"cat": 1, "dog": 1, "fox": 1}
    assert json.loads((out / "summary.json").read_text()) == summary
    splits = [RaggedImageSet.load(out / f"{split}.npz") for split in ("train", "val", "test")]
    assert [len(s) for s in splits] == [9, 3, 6]
    names = [set(s.names) for s in splits]
    assert not (names[0] & names[1] or names[0] & names[2] or names[1] & names[2])  # three disjoint splits


def _folder_data(root: Path, min_per_class: int) -> DataParams:
    """Every data key written out, as params.yaml would hold them."""
    return shipped_data(source="folder", path=str(root), test_fraction=0.3, val_fraction=0.1,
                      min_per_class=min_per_class, max_per_class=None, classes=None, seed=0)


def test_preprocess_counts_upscaled_and_hard_cropped_images(tmp_path):
    """A 5x5 icon and a 4000x40 strip among normal photos: preprocess's resize.json names them."""
    root = tmp_path / "imgs"
    _make_folder(root, {"a": 6, "b": 6})  # 16..26 x 20..21 px: all below 32, none longer than 2:1
    odd = {"a/icon.png": (5, 5), "b/strip.png": (40, 4000), "a/tall.png": (80, 20),  # tall: both
           "b/big.png": (32, 32), "a/twice.png": (40, 80)}  # at the limits: exactly 32 px, exactly 2:1
    for name, (h, w) in odd.items():
        Image.fromarray(np.full((h, w, 3), 128, np.uint8)).save(root / name)
    params = SimpleNamespace(data=_folder_data(root, 4), preprocess=SimpleNamespace(color="rgb", image_size=32))
    ingest_stage.main(SimpleNamespace(out=str(tmp_path / "out")), params)
    assert "resize" not in json.loads((tmp_path / "out" / "summary.json").read_text())  # ingest knows no size
    preprocess_stage.main(SimpleNamespace(ingested=str(tmp_path / "out"), out=str(tmp_path / "prep")), params)
    resize = json.loads((tmp_path / "prep" / "resize.json").read_text())
    assert resize["image_size"] == 32
    assert resize["upscaled"]["total"] == 12 + 2  # the 12 small photos, the icon and the tall one
    assert resize["cropped_over_half"]["total"] == 2
    assert sorted(resize["examples"]["cropped_over_half"]) == ["a/tall.png", "b/strip.png"]
    assert len(resize["examples"]["upscaled"]) == 5  # a few, not all 14
    where = {n: split for split in ("train", "val", "test")
             for n in RaggedImageSet.load(tmp_path / "out" / f"{split}.npz").names}
    for key, names in (("upscaled", [n for n in where if n not in ("b/strip.png", "b/big.png", "a/twice.png")]),
                       ("cropped_over_half", ["a/tall.png", "b/strip.png"])):
        per_split = {split: sum(where[n] == split for n in names) for split in ("train", "val", "test")}
        assert resize[key] == {**per_split, "total": len(names)}


def test_resize_summary_names_the_icon_when_the_rest_is_fine(tmp_path):
    root = tmp_path / "imgs"
    for k, cls in enumerate(("a", "b")):
        (root / cls).mkdir(parents=True)
        for i in range(5):
            Image.fromarray(np.full((40 + i, 50, 3), 60 * k, np.uint8)).save(root / cls / f"p{i}.png")
    Image.fromarray(np.zeros((5, 5, 3), np.uint8)).save(root / "a" / "icon.png")
    ingest(_folder_data(root, 5), "rgb", tmp_path / "out")
    resize = resize_summary({split: RaggedImageSet.load(tmp_path / "out" / f"{split}.npz") for split in SPLITS}, 32)
    assert resize["upscaled"]["total"] == 1 and resize["examples"]["upscaled"] == ["a/icon.png"]
    assert resize["cropped_over_half"]["total"] == 0 and resize["examples"]["cropped_over_half"] == []
    assert resize_summary({"train": RaggedImageSet.load(tmp_path / "out" / "train.npz")}, 4)["upscaled"]["total"] == 0


def test_ingest_no_skips_writes_header_only(tmp_path):
    _make_folder(tmp_path / "imgs", {"a": 6, "b": 6})
    ingest(shipped_data(source="folder", path=str(tmp_path / "imgs"), min_per_class=4, test_fraction=0.5),
           "gray", tmp_path / "out")
    assert (tmp_path / "out" / "skipped.csv").read_text().splitlines() == ["path,reason"]


def test_ingest_min_per_class_error_names_class(tmp_path):
    _make_folder(tmp_path / "imgs", {"big": 6, "rare": 2})
    params = shipped_data(source="folder", path=str(tmp_path / "imgs"), min_per_class=3)
    with pytest.raises(ValueError, match=r"class 'rare' has 2 images, fewer than data.min_per_class = 3") as e:
        ingest(params, "rgb", tmp_path / "out")
    assert str(tmp_path / "imgs") in str(e.value) and "\n" not in str(e.value)


def test_ingest_folder_keeps_only_listed_classes(folder_with_broken, tmp_path):
    # data.classes: listed in any order, kept in folder order and relabelled 0..k-1; the other
    # class folder is never read (its broken file is not even reported as skipped)
    params = shipped_data(source="folder", path=str(folder_with_broken), min_per_class=5, test_fraction=0.3,
                        classes=["fox", "cat"])
    summary = ingest(params, "rgb", tmp_path / "out")
    assert summary["class_names"] == ["cat", "fox"]
    assert summary["images"] == {"train": 6, "val": 2, "test": 4}
    assert sorted(r["path"] for r in csv.DictReader(open(tmp_path / "out" / "skipped.csv"))) == [
        "cat/empty.png", "fox/half.png"]
    train = RaggedImageSet.load(tmp_path / "out" / "train.npz")
    assert train.class_names == ["cat", "fox"] and sorted(set(train.labels.tolist())) == [0, 1]
    assert all(name.startswith(("cat/", "fox/")) for name in train.names)
    assert all(train.names[i].startswith(("cat/", "fox/")[label]) for i, label in enumerate(train.labels))


def test_ingest_unknown_class_is_one_line_naming_the_key(folder_with_broken, tmp_path):
    params = shipped_data(source="folder", path=str(folder_with_broken), classes=["cat", "boat"])
    with pytest.raises(ValueError) as e:
        ingest(params, "rgb", tmp_path / "out")
    message = str(e.value)
    assert message.startswith("data.classes: 'boat' not in") and "\n" not in message
    assert str(folder_with_broken) in message and "it has: cat, dog, fox" in message
    assert not (tmp_path / "out").exists()  # nothing written
    with pytest.raises(ValueError, match=r"^data.classes: '10' not in digits source \(it has: 0, 1, 2, "):
        ingest(shipped_data(source="digits", classes=["3", "10"]), "gray", tmp_path / "digits")


def test_ingest_idx_keeps_listed_classes_in_both_official_splits(tmp_path):
    _make_idx(tmp_path / "fashion-mnist", gz=True, n_train=40, n_test=30)
    params = shipped_data(source="idx", path=str(tmp_path / "fashion-mnist"), min_per_class=2,
                        classes=["Sneaker", "Trouser"])
    summary = ingest(params, "gray", tmp_path / "out")
    assert summary["class_names"] == ["Trouser", "Sneaker"]  # the source's order: labels 1 and 7
    assert summary["per_class"] == {"train": {"Trouser": 3, "Sneaker": 3}, "val": {"Trouser": 1, "Sneaker": 1},
                                    "test": {"Trouser": 3, "Sneaker": 3}}
    test = RaggedImageSet.load(tmp_path / "out" / "test.npz")
    assert test.labels.tolist() == [0, 1, 0, 1, 0, 1]


def test_classes_param_is_validated():
    assert shipped_data(classes=[3, 8]).classes == ["3", "8"]  # `classes: [3, 8]` in YAML names digits
    assert shipped_data().classes is None
    for classes, words in ((["car", "car"], "each class may be listed once"), ([], "at least 1 item"),
                           ("car", "valid list")):
        with pytest.raises(ParamsError) as e:
            shipped({"data": {"classes": classes}})
        assert "params.yaml: data.classes: " in str(e.value) and words in str(e.value)
        assert "\n" not in str(e.value)

def _write_idx(path: Path, array: np.ndarray, magic: int | None = None) -> None:
    magic = (0x0800 | array.ndim) if magic is None else magic
    data = struct.pack(f">I{array.ndim}I", magic, *array.shape) + array.astype(np.uint8).tobytes()
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as f:
        f.write(data)


def _make_idx(folder: Path, gz: bool, n_train=12, n_test=5) -> dict:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    ext = ".gz" if gz else ""
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = np.arange(n) % 10
        _write_idx(folder / f"{prefix}-images-idx3-ubyte{ext}", images)
        _write_idx(folder / f"{prefix}-labels-idx1-ubyte{ext}", labels)
        arrays[prefix] = (images, labels)
    return arrays


@pytest.mark.parametrize("gz", [False, True])
def test_load_idx(tmp_path, gz):
    arrays = _make_idx(tmp_path / "mnist", gz)
    sets = load_idx(tmp_path / "mnist")
    assert set(sets) == {"train", "test"}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images, labels = arrays[prefix]
        got = sets[split]
        assert np.array_equal(np.stack(list(got)), images[..., None])
        assert np.array_equal(got.labels, labels)
        assert got.class_names == [str(d) for d in range(10)]


def test_load_idx_fashion_names(tmp_path):
    _make_idx(tmp_path / "fashion-mnist", gz=True)
    names = load_idx(tmp_path / "fashion-mnist")["train"].class_names
    assert names[0] == "T-shirt/top" and names[9] == "Ankle boot"


def test_load_idx_errors(tmp_path):
    _make_idx(tmp_path / "bad", gz=False)
    _write_idx(tmp_path / "bad" / "train-labels-idx1-ubyte", np.zeros(12), magic=0x0803)
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte.*magic"):
        load_idx(tmp_path / "bad")
    _make_idx(tmp_path / "short", gz=False)
    (tmp_path / "short" / "t10k-images-idx3-ubyte").write_bytes(
        (tmp_path / "short" / "t10k-images-idx3-ubyte").read_bytes()[:-10])
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte"):
        load_idx(tmp_path / "short")
    _make_idx(tmp_path / "missing", gz=False)
    (tmp_path / "missing" / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        load_idx(tmp_path / "missing")


def test_ingest_idx_keeps_official_split_and_caps_both(tmp_path):
    _make_idx(tmp_path / "mnist", gz=True, n_train=40, n_test=30)
    params = shipped_data(source="idx", path=str(tmp_path / "mnist"), min_per_class=4, max_per_class=3)
    summary = ingest(params, "gray", tmp_path / "out")
    assert summary["images"] == {"train": 20, "val": 10, "test": 30}  # val: carved from the official train
    assert set(summary["per_class"]["test"].values()) == {3}


# ---------- bundled / shared real data ----------

def test_load_mnist5k():
    ragged = load_mnist5k()
    assert len(ragged) == 5000 and ragged.class_names == [str(d) for d in range(10)]
    assert (ragged.shapes == (28, 28, 1)).all() and ragged.pixels.dtype == np.uint8
    assert ragged.pixels.max() == 255 and ragged.pixels.min() == 0
    assert 0.05 < (ragged.pixels > 127).mean() < 0.3  # mostly background, some ink
    assert np.bincount(ragged.labels).tolist() == [500] * 10
    assert ragged.names[0] == "mnist5k/0"


def test_vehicles_ingest_preprocess_round_trip(tmp_path):
    if not VEHICLES.is_dir():
        pytest.skip(f"shared vehicles data set not found at {VEHICLES}")
    params = shipped_data(source="folder", path=str(VEHICLES), max_per_class=5)
    summary = ingest(params, "rgb", tmp_path)
    assert len(summary["class_names"]) == 6 and summary["skipped"] == 0
    assert sum(summary["images"].values()) == 30
    for split in ("train", "val", "test"):
        out = preprocess(RaggedImageSet.load(tmp_path / f"{split}.npz"), 32, "rgb")
        assert out.images.shape[1:] == (32, 32, 3) and out.images.dtype == np.uint8
        assert out.num_classes == 6 and out.images.std() > 10


def test_too_few_images_for_a_validation_split_is_one_line_naming_the_key(tmp_path):
    _make_folder(tmp_path / "imgs", {"a": 3, "b": 3})
    params = shipped_data(source="folder", path=str(tmp_path / "imgs"), min_per_class=3, test_fraction=0.34)
    with pytest.raises(ValueError) as e:
        ingest(params, "gray", tmp_path / "out")
    assert "data.val_fraction" in str(e.value) and "too few" in str(e.value) and "\n" not in str(e.value)


# ---------- exact duplicates stay inside one split ----------

def test_copies_stay_in_one_split_and_are_listed(tmp_path):
    """Byte-identical and pixel-identical files (PNG and BMP of one picture, a copy filed under
    another class): wherever the seeded split puts a group, all of it goes there."""
    root = tmp_path / "imgs"
    _make_folder(root, {"a": 12, "b": 12})
    rng = np.random.default_rng(1)
    groups = []
    for g in range(6):
        pixels = rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)
        names = [f"a/copy{g}.png", f"a/copy{g}_again.png", f"a/copy{g}.bmp"] + ([f"b/filed_twice{g}.png"] if g < 2 else [])
        for name in names:
            Image.fromarray(pixels).save(root / name)
        groups.append(names)
    summary = ingest(_folder_data(root, 4), "rgb", tmp_path / "out")
    where = {n: split for split in ("train", "val", "test")
             for n in RaggedImageSet.load(tmp_path / "out" / f"{split}.npz").names}
    for names in groups:
        assert len({where[n] for n in names}) == 1, {n: where[n] for n in names}
    assert len({where[names[0]] for names in groups}) > 1  # the groups themselves are still split
    copies = summary["duplicates"]
    assert copies["groups"] == 6 and copies["images"] == 3 * 6 + 2 and copies["label_conflicts"] == 2
    assert sorted(copies["examples"][0]) == sorted(groups[0])
    assert "b/filed_twice0.png (b)" in copies["conflict_examples"][0]


def test_without_copies_the_split_is_the_plain_stratified_one():
    from synthset.data.duplicates import duplicate_groups, group_split

    data = load_mnist5k()
    groups = duplicate_groups(data)
    assert groups.max() + 1 == len(data)  # the 5,000 real digits hold no two identical images
    plain = stratified_split(data.labels, 0.2, 0)
    grouped = group_split(data.labels, groups, lambda labels: stratified_split(labels, 0.2, 0))
    assert all(np.array_equal(p, g) for p, g in zip(plain, grouped))


def test_idx_test_copies_of_train_images_are_dropped(tmp_path):
    """A source with its own split keeps it, but a test image that copies a train image is a
    member, not a held-out image: it goes, and the summary says so."""
    arrays = _make_idx(tmp_path / "mnist", gz=False, n_train=40, n_test=30)
    train_images, train_labels = arrays["train"]
    test_images, test_labels = arrays["t10k"]
    test_images[[3, 7]] = train_images[[5, 9]]
    _write_idx(tmp_path / "mnist" / "t10k-images-idx3-ubyte", test_images)
    summary = ingest(shipped_data(source="idx", path=str(tmp_path / "mnist"), min_per_class=2), "gray",
                     tmp_path / "out")
    assert summary["duplicates"]["dropped_from_test"] == 2 and summary["images"]["test"] == 28
    test = RaggedImageSet.load(tmp_path / "out" / "test.npz")
    train = [*RaggedImageSet.load(tmp_path / "out" / "train.npz"), *RaggedImageSet.load(tmp_path / "out" / "val.npz")]
    assert not {t.tobytes() for t in test} & {t.tobytes() for t in train}


def test_names_that_are_not_utf8_are_read_and_shown_as_escapes(folder_with_broken, tmp_path):
    """A folder and a bad file whose names hold bytes that are not UTF-8 (a Latin-1 'é', a stray
    0xff): ingest reads the class, skips the bad file and writes both names, as \\xNN escapes."""
    root = os.fsencode(folder_with_broken)
    os.rename(os.path.join(root, b"dog"), os.path.join(root, b"caf\xe9"))
    with open(os.path.join(root, b"caf\xe9", b"bad\xff.png"), "wb") as f:
        f.write(b"not an image")
    out = tmp_path / "out"
    summary = ingest(shipped_data(source="folder", path=str(folder_with_broken), min_per_class=5,
                                  test_fraction=0.3), "rgb", out)
    assert summary["class_names"] == ["caf\\xe9", "cat", "fox"]
    with open(out / "skipped.csv", newline="", encoding="utf-8") as f:
        assert "caf\\xe9/bad\\xff.png" in [r["path"] for r in csv.DictReader(f)]


def test_classes_too_small_for_the_splits_are_named_before_any_stage_fails(tmp_path):
    """Three images a class pass data.min_per_class = 2, but test and validation take two of them:
    one train image gave PCA a NaN three stages later. Ingest names the class instead."""
    root = tmp_path / "imgs"
    _make_folder(root, {"cat": 3, "dog": 3})
    with pytest.raises(ValueError, match="class 'cat' keeps 1 train image"):
        ingest(_folder_data(root, 2), "rgb", tmp_path / "out")
    _make_folder(tmp_path / "more", {"cat": 6, "dog": 6})
    summary = ingest(_folder_data(tmp_path / "more", 2), "rgb", tmp_path / "out")
    assert min(summary["per_class"]["train"].values()) >= 2
