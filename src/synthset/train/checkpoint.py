"""Saved models and resumable training checkpoints.

A model is a state dict plus a small JSON spec of how to rebuild it. A checkpoint is a
folder per epoch (state, logs and progress grids so far) and a `latest.json` marker
written last, so a kill at any moment leaves either the old or the new checkpoint,
never half of one. Its key hashes the arch, its params and the training data: a
checkpoint from other settings or other data is never resumed. The state is read with
torch.load(weights_only=True): tensors, numbers, strings and containers, never pickled code,
and only from an epoch folder inside the checkpoint folder.
"""
from __future__ import annotations

import hashlib
import json
import logging
import pickle
import re
import shutil
from pathlib import Path

import torch
from pydantic import BaseModel

from ..files import atomic_path, read_json, write_json
from ..imagesets import ImageSet
from ..models import build_generator

log = logging.getLogger("synthset.train")


def save_model(folder: str | Path, spec: dict, model: torch.nn.Module) -> None:
    folder = Path(folder)
    with atomic_path(folder / "generator.pt") as tmp:
        torch.save(model.state_dict(), tmp)
    write_json(folder / "generator.json", spec)


def save_discriminators(folder: str | Path, discriminators: list[torch.nn.Module]) -> None:
    """The trained discriminators (one per unit), kept in the owner's environment for the
    white-box membership audit; the release never copies them."""
    states = {f"{i}.{k}": v for i, d in enumerate(discriminators)
              for k, v in getattr(d, "_module", d).state_dict().items()}  # Opacus wraps D in _module
    with atomic_path(Path(folder) / "discriminator.pt") as tmp:
        torch.save(states, tmp)


def load_discriminators(folder: str | Path, spec: dict, device: torch.device) -> list[torch.nn.Module]:
    """The discriminators saved beside a generator, rebuilt from its spec, in eval mode."""
    from ..models import build_pair
    from ..params import ArchParams

    path = Path(folder) / "discriminator.pt"
    if not path.exists():
        raise FileNotFoundError(f"{path}: missing (run train_gan for this architecture again)")
    states = torch.load(path, map_location="cpu", weights_only=True)
    p = ArchParams(**{"dp": None, **spec["params"]})  # a spec from before `dp` existed was trained without it
    units = len({k.split(".", 1)[0] for k in states})
    h, w, c = spec["image_shape"]
    out = []
    for i in range(units):
        _, d = build_pair(spec["arch"], len(spec["class_names"]), (h, w, c), p)
        d.load_state_dict({k.split(".", 1)[1]: v for k, v in states.items() if k.split(".", 1)[0] == str(i)})
        out.append(d.to(device).eval())
    return out


def load_generator(folder: str | Path, device: torch.device) -> tuple[torch.nn.Module, dict]:
    folder = Path(folder)
    for name in ("generator.json", "generator.pt"):
        if not (folder / name).exists():
            raise FileNotFoundError(f"{folder / name}: missing (run train_gan for this architecture first)")
    spec = read_json(folder / "generator.json")
    model = build_generator(spec)
    model.load_state_dict(torch.load(folder / "generator.pt", map_location="cpu", weights_only=True))
    return model.to(device).eval(), spec


def run_key(arch: str, arch_params: BaseModel, seed: int, train: ImageSet) -> str:
    h = hashlib.sha256(json.dumps({"arch": arch, "seed": seed, "params": arch_params.model_dump()},
                                  sort_keys=True).encode())
    h.update(train.images.tobytes())
    h.update(train.labels.tobytes())
    return h.hexdigest()[:16]


class Checkpointer:
    """Epoch-end checkpoints in `folder`, valid only for the run with the same key."""

    def __init__(self, folder: str | Path, key: str):
        self.folder, self.key = Path(folder), key

    def _latest(self) -> Path | None:
        marker = self.folder / "latest.json"
        if not marker.exists():
            return None
        info = read_json(marker)
        if info.get("key") != self.key:
            log.info("ignoring checkpoint in %s: it is from other params or data", self.folder)
            return None
        if not re.fullmatch(r"epoch_\d{4,}", str(info.get("dir"))):  # a folder of ours, never a path elsewhere
            log.warning("ignoring checkpoint in %s: latest.json names %r, not an epoch folder", self.folder,
                        info.get("dir"))
            return None
        return self.folder / info["dir"]

    def latest_epoch(self) -> int | None:
        """The epoch the usable checkpoint was saved after, None when there is none."""
        return read_json(self.folder / "latest.json")["epoch"] if self._latest() else None

    def restore_logs(self, live_dir: str | Path, grid_dir: str | Path) -> bool:
        """Put the logs and grids saved with the checkpoint back; True if there is one to resume."""
        latest = self._latest()
        if latest is None:
            return False
        for src, dst in ((latest / "live", Path(live_dir)), (latest / "figures", Path(grid_dir))):
            shutil.rmtree(dst, ignore_errors=True)
            shutil.copytree(src, dst)
        return True

    def load(self) -> dict | None:
        latest = self._latest()
        if latest is None:
            return None
        try:
            return torch.load(latest / "state.pt", map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as e:
            raise RuntimeError(f"{latest / 'state.pt'}: not a checkpoint this project wrote (it holds more than "
                               f"tensors, numbers and text, and was not run); delete {self.folder} to train from "
                               f"the start") from e

    def save(self, state: dict, train_log) -> None:
        name = f"epoch_{state['epoch']:04d}"
        target = self.folder / name
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        train_log.flush()
        shutil.copytree(train_log.live_dir, target / "live")
        shutil.copytree(train_log.grid_dir, target / "figures")
        torch.save(state, target / "state.pt")
        write_json(self.folder / "latest.json", {"key": self.key, "dir": name, "epoch": state["epoch"]})
        for old in self.folder.glob("epoch_*"):
            if old.name != name:
                shutil.rmtree(old, ignore_errors=True)

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
