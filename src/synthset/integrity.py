"""What `synthset generate` checks before it trusts a release folder it was handed.

A release travels by e-mail, shares and USB sticks: a flipped byte must not turn into
garbage images with exit 0, and an edited spec must not allocate gigabytes or label
images wrongly before anything says so. So every file is checked against the SHA-256
sums the pipeline wrote (SHA256SUMS, the format `sha256sum -c` reads), the spec's keys
and sizes are checked, and the weights' names and shapes are compared with the model
the spec describes, built on the meta device, where it allocates nothing. Each problem
is one line naming the file. Checksums show that nothing changed by accident or by a
careless edit; whoever can rewrite the folder can rewrite SHA256SUMS too, so they are
not a signature.
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import torch
from safetensors import safe_open

CHECKSUMS = "SHA256SUMS"
SPEC_KEYS = {"arch", "kwargs", "class_names", "image_shape", "latent_dim", "train_images", "params"}
OPTIONAL_SPEC_KEYS = {"dp"}
MAX_SIDE, MAX_CLASSES = 4096, 100_000
_LINE = re.compile(r"([0-9a-f]{64})  (\S+)")


class ReleaseError(ValueError):
    """A release folder that is incomplete, changed after release, or not one this project wrote."""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checksum_lines(folder: Path, names: list[str]) -> str:
    return "".join(f"{sha256(folder / name)}  {name}\n" for name in names)


def verify_checksums(folder: Path, required: tuple[str, ...], allowed: set[str]) -> None:
    """Every file SHA256SUMS names matches it; the `required` files are among them."""
    sums = folder / CHECKSUMS
    if not sums.is_file():
        raise ReleaseError(f"{sums}: missing; without it nothing shows the files are the ones released "
                           "(a release written by synthset holds it)")
    listed = {}
    for number, line in enumerate(sums.read_text(errors="replace").splitlines(), 1):
        match = _LINE.fullmatch(line)
        if not match or match[2] not in allowed:
            raise ReleaseError(f"{sums}, line {number}: not '<sha256>  <release file name>'")
        listed[match[2]] = match[1]
    for name in required:
        if name not in listed:
            raise ReleaseError(f"{sums}: lists no {name}")
    for name, expected in listed.items():
        path = folder / name
        if not path.is_file():
            raise ReleaseError(f"{path}: missing; {CHECKSUMS} lists it")
        if sha256(path) != expected:
            raise ReleaseError(f"{path}: its SHA-256 is not the one in {CHECKSUMS}: the file changed after it "
                               "was released; ask its owner for the release again")


def read_spec(path: Path) -> dict:
    """The generator spec, with its keys and sizes checked before any model is built."""
    try:
        spec = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ReleaseError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(spec, dict):
        raise ReleaseError(f"{path}: not a generator spec (a JSON object)")
    missing, unknown = SPEC_KEYS - spec.keys(), spec.keys() - SPEC_KEYS - OPTIONAL_SPEC_KEYS
    if missing or unknown:
        said = [f"missing {', '.join(sorted(missing))}" if missing else "",
                f"unknown {', '.join(sorted(unknown))}" if unknown else ""]
        raise ReleaseError(f"{path}: keys {'; '.join(s for s in said if s)}")
    shape, names = spec["image_shape"], spec["class_names"]
    if not (isinstance(shape, list) and len(shape) == 3 and all(type(s) is int for s in shape)
            and 1 <= shape[0] <= MAX_SIDE and 1 <= shape[1] <= MAX_SIDE and shape[2] in (1, 3)):
        raise ReleaseError(f"{path}: image_shape must be [height, width, 1 or 3], sides up to {MAX_SIDE}; "
                           f"it is {shape!r}")
    if not (isinstance(names, list) and 1 <= len(names) <= MAX_CLASSES and all(isinstance(n, str) for n in names)
            and len(set(names)) == len(names)):
        raise ReleaseError(f"{path}: class_names must be 1 to {MAX_CLASSES} distinct names")
    if not (type(spec["latent_dim"]) is int and 1 <= spec["latent_dim"] <= max(4096, shape[0] * shape[1] * shape[2])):
        raise ReleaseError(f"{path}: latent_dim {spec['latent_dim']!r} is not a size this image shape allows")
    if not isinstance(spec["kwargs"], dict):
        raise ReleaseError(f"{path}: kwargs must be an object")
    for key, expected in (("num_classes", len(names)), ("channels", shape[2]), ("image_size", shape[0])):
        if key in spec["kwargs"] and spec["kwargs"][key] != expected:
            raise ReleaseError(f"{path}: kwargs.{key} is {spec['kwargs'][key]!r} but the spec's "
                               f"{'class_names' if key == 'num_classes' else 'image_shape'} say {expected}")
    return spec


def check_weights(model_on_meta: torch.nn.Module, weights: Path, spec_path: Path) -> None:
    """The weights file holds exactly the tensors, with the shapes, of the model the spec describes."""
    try:
        with safe_open(str(weights), framework="pt") as f:
            shapes = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    except Exception as err:  # safetensors raises its own error type for a malformed header
        raise ReleaseError(f"{weights}: not a readable safetensors file ({str(err).splitlines()[0]})") from None
    wanted = {k: tuple(v.shape) for k, v in model_on_meta.state_dict().items()}
    if shapes.keys() != wanted.keys():
        extra, absent = sorted(shapes.keys() - wanted.keys()), sorted(wanted.keys() - shapes.keys())
        raise ReleaseError(f"{weights}: does not fit {spec_path.name}'s model "
                           f"({len(absent)} tensors missing, {len(extra)} unexpected, e.g. {(absent + extra)[0]})")
    wrong = [k for k in wanted if wanted[k] != shapes[k]]
    if wrong:
        raise ReleaseError(f"{weights}: {wrong[0]} has shape {list(shapes[wrong[0]])} but {spec_path.name}'s model "
                           f"needs {list(wanted[wrong[0]])} (class names, image size or widths do not match)")
