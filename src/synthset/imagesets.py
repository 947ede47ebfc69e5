"""The labelled image sets every stage passes on: same-size images (ImageSet) and the differing
sizes ingest finds (RaggedImageSet), stored as .npz without pickle."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from .files import read_npz, write_npz


@dataclass
class ImageSet:
    """Same-size labelled images: uint8 (N, H, W, C), int64 labels, class names.

    `soft`, when set, holds each image's label as probabilities over the classes (N, classes):
    generated images labelled by the filter classifier (`sample.label_temperature`), which every
    classifier trained on them learns instead of the one class (classify.fit)."""

    images: np.ndarray
    labels: np.ndarray
    class_names: list[str]
    soft: np.ndarray | None = None

    def __post_init__(self):
        self.images = np.asarray(self.images)
        self.labels = np.asarray(self.labels, dtype=np.int64)
        if self.images.dtype != np.uint8 or self.images.ndim != 4:
            raise ValueError(f"images must be uint8 (N, H, W, C), got {self.images.dtype} {self.images.shape}")
        if len(self.images) != len(self.labels):
            raise ValueError(f"{len(self.images)} images but {len(self.labels)} labels")
        if len(self.labels) and (self.labels.min() < 0 or self.labels.max() >= len(self.class_names)):
            raise ValueError("labels must index class_names")
        if self.soft is not None:
            self.soft = np.asarray(self.soft, dtype=np.float32)
            if self.soft.shape != (len(self.labels), len(self.class_names)):
                raise ValueError(f"soft labels must be (images, classes) = {(len(self.labels), len(self.class_names))}, "
                                 f"got {self.soft.shape}")
            if not (np.isfinite(self.soft).all() and np.allclose(self.soft.sum(1), 1, atol=1e-3)):
                raise ValueError("soft labels must be probabilities: finite, each row summing to 1")

    @property
    def targets(self) -> np.ndarray:
        """What a classifier learns: the soft labels, else each image's class as probabilities."""
        if self.soft is not None:
            return self.soft
        return np.eye(len(self.class_names), dtype=np.float32)[self.labels]

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])

    def concat(self, *others: "ImageSet") -> "ImageSet":
        """All the sets' images, in one copy; where any of them has soft labels, the others' classes
        become certain ones."""
        sets = (self, *others)
        if any(o.class_names != self.class_names or o.image_shape != self.image_shape for o in others):
            raise ValueError("image sets with different classes or image shapes cannot be joined")
        soft = None if all(s.soft is None for s in sets) else np.concatenate([s.targets for s in sets])
        return ImageSet(np.concatenate([s.images for s in sets]), np.concatenate([s.labels for s in sets]),
                        self.class_names, soft)

    def subset(self, rows) -> "ImageSet":
        return ImageSet(self.images[rows], self.labels[rows], self.class_names,
                        None if self.soft is None else self.soft[rows])

    def first_per_class(self, k: int) -> "ImageSet":
        """The first k images of every class, in class order (what a grid of k per class shows)."""
        return self.subset(np.concatenate([np.flatnonzero(self.labels == c)[:k] for c in range(self.num_classes)]))

    def of_class(self, c: int) -> np.ndarray:
        return self.images[self.labels == c]

    def save(self, path: str | Path) -> None:
        soft = {} if self.soft is None else {"soft": self.soft}
        write_npz(path, images=self.images, labels=self.labels, class_names=np.array(self.class_names, dtype=str),
                  **soft)

    @classmethod
    def load(cls, path: str | Path) -> "ImageSet":
        z = read_npz(path, "the stage that makes it")
        return cls(z["images"], z["labels"], [str(c) for c in z["class_names"]], z["soft"] if "soft" in z else None)


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
        write_npz(path, pixels=self.pixels, shapes=self.shapes, labels=self.labels,
                   class_names=np.array(self.class_names, dtype=str), names=np.array(self.names, dtype=str))

    @classmethod
    def load(cls, path: str | Path) -> "RaggedImageSet":
        z = read_npz(path, "the ingest stage")
        return cls(z["pixels"], z["shapes"], z["labels"], [str(c) for c in z["class_names"]],
                   [str(n) for n in z["names"]])
