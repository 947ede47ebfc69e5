"""Loading the real-data classifier that train_classifier saved."""
from __future__ import annotations

from pathlib import Path

import torch

from ..io import read_json
from .models import build_classifier


def load_classifier(folder: str | Path, device: torch.device) -> torch.nn.Module:
    folder = Path(folder)
    if not (folder / "model.pt").exists():
        raise FileNotFoundError(f"{folder / 'model.pt'}: missing (run the train_classifier stage first)")
    spec = read_json(folder / "spec.json")
    model = build_classifier(spec["model"], tuple(spec["image_shape"]), len(spec["class_names"]))
    model.load_state_dict(torch.load(folder / "model.pt", map_location="cpu", weights_only=True))
    return model.to(device).eval()
