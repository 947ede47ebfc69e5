"""CIFAR-10 and CIFAR-100 as class folders, from their binary version: no pickle is loaded.

The Python version of CIFAR is pickled dicts, and unpickling runs whatever a crafted file
holds. The binary version (cifar-10-binary.tar.gz, cifar-100-binary.tar.gz on the authors'
page) is plain records: the label byte(s), then 3,072 bytes of the image as red, green and
blue planes of 32 x 32. This writes them as <out>/<class>/<batch>_<index>.png, the folder
layout the seed004_cifar presets read (data.source: folder).

    synthset cifar path/to/cifar-10-batches-bin data/raw/cifar10
    synthset cifar path/to/cifar-100-binary data/raw/cifar100        # fine labels (100 classes)
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

SIDE, PIXELS = 32, 3 * 32 * 32
# version: (label names file, batch files, label bytes before the image, which of them is the class)
VERSIONS = {"cifar10": ("batches.meta.txt", ("data_batch_*.bin", "test_batch.bin"), 1, 0),
            "cifar100": ("fine_label_names.txt", ("train.bin", "test.bin"), 2, 1)}


def detect(src: Path) -> str:
    for version, (names, *_) in VERSIONS.items():
        if (src / names).is_file():
            return version
    raise FileNotFoundError(f"{src}: no batches.meta.txt (CIFAR-10) or fine_label_names.txt (CIFAR-100); "
                            "give the folder the binary version unpacks to (cifar-10-batches-bin, cifar-100-binary)")


def read_batch(path: Path, label_bytes: int, label_index: int) -> tuple[np.ndarray, np.ndarray]:
    """(N, 32, 32, 3) uint8 images and their labels from one binary batch file."""
    raw = np.fromfile(path, dtype=np.uint8)
    record = label_bytes + PIXELS
    if raw.size == 0 or raw.size % record:
        raise ValueError(f"{path}: {raw.size} bytes is not a whole number of {record}-byte CIFAR records")
    rows = raw.reshape(-1, record)
    return rows[:, label_bytes:].reshape(-1, 3, SIDE, SIDE).transpose(0, 2, 3, 1), rows[:, label_index].astype(int)


def cifar_to_folders(src: str | Path, out: str | Path) -> dict[str, int]:
    """Every image of every batch as a PNG in its class's folder; returns images per class."""
    src, out = Path(src), Path(out)
    names_file, patterns, label_bytes, label_index = VERSIONS[detect(src)]
    names = [n.strip() for n in (src / names_file).read_text().splitlines() if n.strip()]
    odd = [n for n in names if n in (".", "..") or "/" in n or "\\" in n]
    if odd:
        raise ValueError(f"{src / names_file}: class names must be folder names, got {odd[:3]}")
    batches = [b for pattern in patterns for b in sorted(src.glob(pattern))]
    if not batches:
        raise FileNotFoundError(f"{src}: no batch files ({', '.join(patterns)})")
    counts = dict.fromkeys(names, 0)
    for batch in batches:
        images, labels = read_batch(batch, label_bytes, label_index)
        if labels.max() >= len(names):
            raise ValueError(f"{batch}: label {labels.max()} but {src / names_file} names {len(names)} classes")
        for i, (image, label) in enumerate(tqdm(zip(images, labels), total=len(labels), desc=batch.name,
                                                unit="image", leave=False)):
            folder = out / names[label]
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(folder / f"{batch.stem}_{i:05d}.png")
            counts[names[label]] += 1
    return counts
