"""Saving and loading the real-data classifier (train_classifier's output folder)."""
from __future__ import annotations

from pathlib import Path

import torch

from ..files import atomic_path, read_json, write_json
from ..imagesets import ImageSet
from .models import build_classifier


def save_classifier(model: torch.nn.Module, model_name: str, trained_on: ImageSet, folder: str | Path) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / "model.pt") as tmp:
        torch.save(model.state_dict(), tmp)
    write_json(folder / "spec.json", {"model": model_name, "image_shape": list(trained_on.image_shape),
                                      "class_names": trained_on.class_names})
    return folder


def load_classifier(folder: str | Path, device: torch.device) -> torch.nn.Module:
    folder = Path(folder)
    if not (folder / "model.pt").exists():
        raise FileNotFoundError(f"{folder / 'model.pt'}: missing (run the train_classifier stage first)")
    spec = read_json(folder / "spec.json")
    model = build_classifier(spec["model"], tuple(spec["image_shape"]), len(spec["class_names"]))
    model.load_state_dict(torch.load(folder / "model.pt", map_location="cpu", weights_only=True))
    return model.to(device).eval()
