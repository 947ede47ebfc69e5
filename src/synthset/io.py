"""Files every stage reads and writes: image sets as .npz, JSON, atomically.

A crash must never leave a half-written file that looks complete, so every writer
goes through a temporary name in the same folder and an atomic rename.
"""
from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np


@contextmanager
def atomic_path(path: str | Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` only on success, with the
    permissions any tool gives a new file under the user's umask (mkstemp's are owner-only,
    which would keep a release or a report from the people it is handed to)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix or path.suffix)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        if tmp.exists():
            os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def displayable(name: str) -> str:
    """A file-system name as text every writer takes: bytes that are not UTF-8 (Python holds them
    as lone surrogates, which no UTF-8 file, JSON reader or figure accepts) shown as \\xNN."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def current_umask() -> int:
    mask = os.umask(0)  # reading the umask means setting it: put it straight back
    os.umask(mask)
    return mask


def write_json(path: str | Path, obj) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=False) + "\n")


def read_json(path: str | Path):
    return json.loads(Path(path).read_text())


def _write_npz(path: str | Path, **arrays: np.ndarray) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)


def _read_npz(path: str | Path, made_by: str) -> dict[str, np.ndarray]:
    """Every array of an .npz written by `_write_npz` (no pickle); a missing file names its maker."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such image set (run {made_by} first)")
    with np.load(path, allow_pickle=False) as z:
        return {name: z[name] for name in z.files}


@dataclass
class ImageSet:
    """Same-size labelled images: uint8 (N, H, W, C), int64 labels, class names."""

    images: np.ndarray
    labels: np.ndarray
    class_names: list[str]

    def __post_init__(self):
        self.images = np.asarray(self.images)
        self.labels = np.asarray(self.labels, dtype=np.int64)
        if self.images.dtype != np.uint8 or self.images.ndim != 4:
            raise ValueError(f"images must be uint8 (N, H, W, C), got {self.images.dtype} {self.images.shape}")
        if len(self.images) != len(self.labels):
            raise ValueError(f"{len(self.images)} images but {len(self.labels)} labels")
        if len(self.labels) and (self.labels.min() < 0 or self.labels.max() >= len(self.class_names)):
            raise ValueError("labels must index class_names")

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])

    def concat(self, other: "ImageSet") -> "ImageSet":
        if other.class_names != self.class_names or other.image_shape != self.image_shape:
            raise ValueError("image sets with different classes or image shapes cannot be joined")
        return ImageSet(np.concatenate([self.images, other.images]), np.concatenate([self.labels, other.labels]),
                        self.class_names)

    def subset(self, rows) -> "ImageSet":
        return ImageSet(self.images[rows], self.labels[rows], self.class_names)

    def first_per_class(self, k: int) -> "ImageSet":
        """The first k images of every class, in class order (what a grid of k per class shows)."""
        keep = np.concatenate([np.flatnonzero(self.labels == c)[:k] for c in range(self.num_classes)])
        return ImageSet(self.images[keep], self.labels[keep], self.class_names)

    def of_class(self, c: int) -> np.ndarray:
        return self.images[self.labels == c]

    def save(self, path: str | Path) -> None:
        _write_npz(path, images=self.images, labels=self.labels, class_names=np.array(self.class_names, dtype=str))

    @classmethod
    def load(cls, path: str | Path) -> "ImageSet":
        z = _read_npz(path, "the stage that makes it")
        return cls(z["images"], z["labels"], [str(c) for c in z["class_names"]])


@dataclass
class RaggedImageSet:
    """Labelled images of differing sizes, as ingest finds them, stored without pickle.

    Pixels of all images are concatenated into one flat uint8 buffer; `shapes`
    holds each image's (H, W, C), so image i is a slice of the buffer.
    """

    pixels: np.ndarray
    shapes: np.ndarray
    labels: np.ndarray
    class_names: list[str]
    names: list[str]

    @classmethod
    def from_images(cls, images: list[np.ndarray], labels, class_names, names) -> "RaggedImageSet":
        images = [im if im.ndim == 3 else im[:, :, None] for im in images]
        shapes = np.array([im.shape for im in images], dtype=np.int64).reshape(-1, 3)
        pixels = np.concatenate([im.astype(np.uint8).ravel() for im in images]) if images else np.zeros(0, np.uint8)
        return cls(pixels, shapes, np.asarray(labels, dtype=np.int64), list(class_names), list(names))

    def __len__(self) -> int:
        return len(self.labels)

    def __iter__(self) -> Iterator[np.ndarray]:
        offset = 0
        for shape in self.shapes:
            size = int(np.prod(shape))
            yield self.pixels[offset:offset + size].reshape(shape)
            offset += size

    def save(self, path: str | Path) -> None:
        _write_npz(path, pixels=self.pixels, shapes=self.shapes, labels=self.labels,
                   class_names=np.array(self.class_names, dtype=str), names=np.array(self.names, dtype=str))

    @classmethod
    def load(cls, path: str | Path) -> "RaggedImageSet":
        z = _read_npz(path, "the ingest stage")
        return cls(z["pixels"], z["shapes"], z["labels"], [str(c) for c in z["class_names"]],
                   [str(n) for n in z["names"]])
