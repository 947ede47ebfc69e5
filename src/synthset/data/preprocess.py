"""Bring ingested images of any size to one square size and one colour mode.

Resizing keeps the aspect ratio and centre-crops, so objects are never squashed.
"""
from __future__ import annotations

import math

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from synthset.imagesets import ImageSet, RaggedImageSet


def _to_pil(image: np.ndarray) -> Image.Image:
    return Image.fromarray(image[:, :, 0], "L") if image.shape[2] == 1 else Image.fromarray(image, "RGB")


def _from_pil(img: Image.Image) -> np.ndarray:
    a = np.asarray(img, dtype=np.uint8)
    return a[:, :, None] if a.ndim == 2 else a


def resize_center_crop(image: np.ndarray, size: int) -> np.ndarray:
    """Shorter side to `size` (bicubic, antialiased by PIL), then crop the longer side's centre."""
    h, w = image.shape[:2]
    if (h, w) == (size, size):
        return image.copy()
    scale = size / min(h, w)
    new_h = max(size, math.floor(h * scale + 0.5))
    new_w = max(size, math.floor(w * scale + 0.5))
    resized = _from_pil(_to_pil(image).resize((new_w, new_h), Image.Resampling.BICUBIC))
    top, left = (new_h - size) // 2, (new_w - size) // 2
    return resized[top:top + size, left:left + size].copy()


def resize_effects(shapes, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Which images `resize_center_crop` to `size` upscales, and which it crops hard, from their shapes.

    Upscaled: the shorter side is below `size`, so pixels are invented (a 5x5 icon at 64 px).
    Cropped over half: the centre crop of the shorter-side-resized image keeps short/long of
    its area, so an aspect ratio above 2:1 loses more than half of it (a 4000x40 strip keeps
    1 %). Both are worth a look by the user, neither is an error."""
    hw = np.asarray(shapes, dtype=np.int64).reshape(-1, 3)[:, :2]
    short, long = hw.min(axis=1), hw.max(axis=1)
    return short < size, long > 2 * short


def resize_summary(sets: dict[str, RaggedImageSet], image_size: int, examples: int = 5) -> dict:
    """What resizing these splits to `image_size` does: how many images it upscales and how many
    lose over half their area to the centre crop (see `resize_effects`), per split and in total,
    with the first few names of each so the user can look at them (the report's header)."""
    effects = {split: resize_effects(s.shapes, image_size) for split, s in sets.items()}
    out = {"image_size": image_size}
    names = {}
    for i, key in enumerate(("upscaled", "cropped_over_half")):
        counts = {split: int(e[i].sum()) for split, e in effects.items()}
        out[key] = {**counts, "total": sum(counts.values())}
        names[key] = [n for split, s in sets.items() for n, hit in zip(s.names, effects[split][i]) if hit][:examples]
    out["examples"] = names
    return out


def convert_color(image: np.ndarray, color: str) -> np.ndarray:
    """gray -> rgb repeats the channel; rgb -> gray uses PIL's ITU-R 601-2 luma."""
    channels = image.shape[2]
    if color == "rgb" and channels == 1:
        return np.repeat(image, 3, axis=2)
    if color == "gray" and channels == 3:
        return _from_pil(_to_pil(image).convert("L"))
    return image


def preprocess(ragged: RaggedImageSet, size: int, color: str) -> ImageSet:
    """Every image to size x size in `color`, stacked as uint8 (N, size, size, C)."""
    out = [convert_color(resize_center_crop(im, size), color)
           for im in tqdm(ragged, total=len(ragged), desc="preprocess", unit="img")]
    channels = 3 if color == "rgb" else 1
    images = np.stack(out) if out else np.zeros((0, size, size, channels), np.uint8)
    return ImageSet(images, ragged.labels, ragged.class_names)
