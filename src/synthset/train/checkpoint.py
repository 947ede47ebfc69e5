"""Saved models: state dicts plus a small JSON spec that says how to rebuild them."""
from __future__ import annotations

from pathlib import Path

import torch
from pydantic import BaseModel

from ..io import ImageSet, atomic_path, read_json, write_json
from ..models import build_generator


def generator_spec(arch: str, model: torch.nn.Module, train: ImageSet, arch_params: BaseModel) -> dict:
    h, w, c = train.image_shape
    kwargs = {"latent_dim": arch_params.latent_dim, "channels": c, "image_size": h, "width": arch_params.width}
    if arch == "dcgan":
        kwargs["num_classes"] = train.num_classes
    return {"arch": arch, "kwargs": kwargs, "class_names": train.class_names,
            "image_shape": [h, w, c], "latent_dim": arch_params.latent_dim,
            "train_images": len(train), "params": arch_params.model_dump()}


def save_model(folder: str | Path, arch: str, model: torch.nn.Module, train: ImageSet,
               arch_params: BaseModel) -> None:
    folder = Path(folder)
    with atomic_path(folder / "generator.pt") as tmp:
        torch.save(model.state_dict(), tmp)
    write_json(folder / "generator.json", generator_spec(arch, model, train, arch_params))


def load_generator(folder: str | Path, device: torch.device) -> tuple[torch.nn.Module, dict]:
    folder = Path(folder)
    for name in ("generator.json", "generator.pt"):
        if not (folder / name).exists():
            raise FileNotFoundError(f"{folder / name}: missing (run train_gan for this architecture first)")
    spec = read_json(folder / "generator.json")
    model = build_generator(spec)
    model.load_state_dict(torch.load(folder / "generator.pt", map_location="cpu", weights_only=True))
    return model.to(device).eval(), spec
