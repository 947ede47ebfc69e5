"""The release: all a third party needs to make labelled data, and nothing else.

Generator weights as safetensors (no pickle runs on load), the JSON spec to rebuild
it, and a model card. With sample.keep: agreeing, the filter classifier goes with them
(filter.safetensors, filter.json), so that `synthset generate` keeps what the pipeline kept.
SHA256SUMS holds every file's checksum; loading checks it, and the spec, first (integrity.py).
No training image and no discriminator leave the environment.
"""
from __future__ import annotations

import csv
import html
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from safetensors.torch import load_file, save_file

from .classify.models import CLASSIFIERS, build_classifier
from .files import atomic_path, current_umask, read_json, write_json
from .imagesets import ImageSet
from .integrity import CHECKSUMS, ReleaseError, check_weights, checksum_lines, read_spec, verify_checksums
from .models import build_generator
from .params import MERF_ARCHS

WEIGHTS, SPEC, CARD = "generator.safetensors", "generator.json", "MODEL_CARD.md"
FILTER_WEIGHTS, FILTER_SPEC = "filter.safetensors", "filter.json"
RELEASE_FILES = {WEIGHTS, SPEC, CARD, FILTER_WEIGHTS, FILTER_SPEC}


def model_card(spec: dict, metrics: dict, filtered: bool = False, verdict: str | None = None,
               checksums: str = "", label_temperature: float | None = None) -> str:
    """`verdict`: the pipeline's release verdict in words (synthset.verdict), when it was judged;
    `checksums`: the weights' and specs' lines of SHA256SUMS."""
    h, w, c = spec["image_shape"]
    p = spec["params"]
    settings = ", ".join(f"{k}={v}" for k, v in p.items())
    lines = [f"# synthset generator: {spec['arch']}", "",
             f"- Architecture: `{spec['arch']}`, latent size {spec['latent_dim']}",
             f"- Images: {h}x{w} px, {'RGB' if c == 3 else 'grayscale'}, values as uint8 PNG",
             f"- Classes ({len(spec['class_names'])}): "
             + ", ".join(html.escape(n, quote=False) for n in spec["class_names"]),
             f"- Trained on {spec['train_images']} private images (the real train split; none are included here)",
             f"- Training settings: {settings}", ""]
    if verdict:
        lines += ["## Verdict", "", html.escape(verdict, quote=False), ""]
    dp = spec.get("dp")
    lines += ["## Privacy", ""]
    if dp and spec["arch"] in MERF_ARCHS:
        k = spec["kwargs"].get("members", 1)
        who, was, draw = (("The generator", "it was", "it draws") if k == 1 else
                          (f"The {k} generators (each draws an equal share of every batch)", "each was", "they draw"))
        lines += [f"{who} never saw a private image: {was} fitted to the train split's mean random-feature embedding, "
                  f"released once with Gaussian noise (DP-MERF): epsilon {dp['dp_epsilon']:.3g} at delta "
                  f"{dp['dp_delta']:.0e}. Every image {draw} is covered by the same guarantee.", ""]
    elif dp:
        lines += [f"The discriminator, the only network that saw the private images, was trained with DP-SGD (Opacus): "
                  f"epsilon {dp['dp_epsilon']:.3g} at delta {dp['dp_delta']:.0e}, over {dp['dp_steps']} steps. "
                  "The generator learned only from the discriminator, so it and every image it draws are covered by "
                  "the same guarantee. The training logs and the discriminator stayed with the owner; they are not.",
                  ""]
    else:
        lines += ["Trained without differential privacy: the pipeline's copy check and membership audit are evidence, "
                  "not a guarantee, that the generator does not give its training images away.", ""]
    if filtered:
        lines += ["## Filter", "",
                  f"`{FILTER_WEIGHTS}` is a classifier trained on the same private train split. `synthset generate` "
                  "keeps only the images it reads as the class asked for, as the pipeline did for every number "
                  "below (`sample.kept_share`: the share of draws it kept). Like the generator, it was trained on "
                  "private images and is released with it; the pipeline's membership audit attacks it too.", ""]
        if label_temperature is not None:
            lines[-1:-1] = ["", f"It also labels each image with its probabilities at temperature {label_temperature:g} "
                                "(`labels.csv`'s p_0, p_1, ... columns): the pipeline's classifiers learned those, not "
                                "the class alone (knowledge distillation)."]
    if metrics:
        lines += ["## Metrics measured by the pipeline", ""]
        lines += [f"- {k}: {v:.4g}" if isinstance(v, float) else f"- {k}: {v}" for k, v in metrics.items()]
        lines.append("")
    lines += ["## Use", "", "```bash",
              "synthset generate <this folder> --per-class 1000 --out mydata/", "```", "",
              "writes one folder of PNGs per class (torchvision ImageFolder layout) and labels.csv.", ""]
    if checksums:
        lines += ["## Files", "",
                  f"SHA-256 of each file as released (all of them, this card too, in `{CHECKSUMS}`; check with "
                  f"`sha256sum -c {CHECKSUMS}`). `synthset generate` refuses a folder whose files do not match.", "",
                  "```", checksums.rstrip("\n"), "```", ""]
    return "\n".join(lines)


def _save_weights(pt: Path, safetensors: Path) -> None:
    state = torch.load(pt, map_location="cpu", weights_only=True)
    with atomic_path(safetensors) as tmp:
        save_file({k: v.contiguous() for k, v in state.items()}, str(tmp))


def write_release(model_dir: str | Path, out: str | Path, metrics: dict | None = None,
                  filter_dir: str | Path | None = None, verdict: str | None = None,
                  label_temperature: float | None = None) -> Path:
    """The release folder; `filter_dir` (train_classifier's filter) when sample.keep is agreeing,
    with the temperature of its soft labels (sample.label_temperature) in its spec."""
    model_dir, out = Path(model_dir), Path(out)
    spec = read_json(model_dir / "generator.json")
    out.mkdir(parents=True, exist_ok=True)
    _save_weights(model_dir / "generator.pt", out / WEIGHTS)
    write_json(out / SPEC, spec)
    for name in (FILTER_WEIGHTS, FILTER_SPEC):
        (out / name).unlink(missing_ok=True)
    files = [WEIGHTS, SPEC]
    if filter_dir:
        _save_weights(Path(filter_dir) / "model.pt", out / FILTER_WEIGHTS)
        soft = {} if label_temperature is None else {"label_temperature": label_temperature}
        write_json(out / FILTER_SPEC, {**read_json(Path(filter_dir) / "spec.json"), **soft})
        files += [FILTER_WEIGHTS, FILTER_SPEC]
    with atomic_path(out / CARD) as tmp:
        tmp.write_text(model_card(spec, metrics or {}, filtered=bool(filter_dir), verdict=verdict,
                                  checksums=checksum_lines(out, files),
                                  label_temperature=label_temperature if filter_dir else None))
    with atomic_path(out / CHECKSUMS) as tmp:
        tmp.write_text(checksum_lines(out, files + [CARD]))
    return out


def _verified(folder: Path) -> None:
    for name in (WEIGHTS, SPEC):
        if not (folder / name).is_file():
            raise FileNotFoundError(f"{folder / name}: missing; a release folder holds {WEIGHTS} and {SPEC}")
    verify_checksums(folder, (WEIGHTS, SPEC), RELEASE_FILES)


def _build_checked(build, weights: Path, spec_path: Path) -> torch.nn.Module:
    """Build on the meta device first, where nothing is allocated, and compare with the weights'
    header; only a model that fits them is built for real and loaded."""
    try:
        with torch.device("meta"):
            check_weights(build(), weights, spec_path)
    except TypeError as err:  # the spec's kwargs are not the model's arguments
        raise ReleaseError(f"{spec_path}: kwargs do not build this model ({err})") from None
    model = build()
    model.load_state_dict(load_file(str(weights)))
    return model


def load_release(folder: str | Path, device: torch.device = torch.device("cpu")) -> tuple[torch.nn.Module, dict]:
    folder = Path(folder)
    _verified(folder)
    spec = read_spec(folder / SPEC)
    model = _build_checked(lambda: build_generator(spec), folder / WEIGHTS, folder / SPEC)
    return model.to(device).eval(), spec


def load_release_filter(folder: str | Path, device: torch.device = torch.device("cpu")) -> torch.nn.Module | None:
    """The release's filter classifier, or None for a release that keeps every draw."""
    folder = Path(folder)
    if not (folder / FILTER_SPEC).is_file():
        return None
    _verified(folder)
    path, g_spec = folder / FILTER_SPEC, read_spec(folder / SPEC)
    spec = read_json(path)
    if not (isinstance(spec, dict) and spec.get("model") in CLASSIFIERS
            and spec.get("image_shape") == g_spec["image_shape"] and spec.get("class_names") == g_spec["class_names"]):
        raise ReleaseError(f"{path}: not a filter for this generator (its model, image_shape and class_names must "
                           f"be one of {', '.join(CLASSIFIERS)} and those of {SPEC})")
    return _build_checked(lambda: build_classifier(spec["model"], tuple(spec["image_shape"]),
                                                   len(spec["class_names"])),
                          folder / FILTER_WEIGHTS, path).to(device).eval()


def release_label_temperature(folder: str | Path) -> float | None:
    """The temperature of the soft labels the release's filter gives its images, or None (classes only)."""
    path = Path(folder) / FILTER_SPEC
    if not path.is_file():
        return None
    _verified(Path(folder))
    t = read_json(path).get("label_temperature")
    if t is not None and not (isinstance(t, (int, float)) and not isinstance(t, bool) and 0 < t < float("inf")):
        raise ReleaseError(f"{path}: label_temperature must be a positive number, got {t!r}")
    return None if t is None else float(t)


def safe_name(name: str) -> str:
    """A folder name made of word characters, dots and dashes, never "." or ".." nor hidden."""
    return re.sub(r"[^\w.-]+", "_", name).strip("_.") or "class"


def class_folders(class_names: list[str]) -> list[str]:
    """One distinct, safe folder per class. Names that map to the same folder (they differ only in
    characters a folder name cannot keep, or in case, which some file systems ignore) get their
    label's number appended, so no two classes ever write into one folder."""
    def clashing(folders: list[str]) -> set[str]:
        lowered = [f.lower() for f in folders]
        return {f for f in lowered if lowered.count(f) > 1}

    folders = [safe_name(n) for n in class_names]
    clash = clashing(folders)
    numbered = [f"{f}_{i}" if f.lower() in clash else f for i, f in enumerate(folders)]
    if clashing(numbered):  # a number made a name another class already had: number them all
        numbered = [f"{f}_{i}" for i, f in enumerate(folders)]
    return numbered


def check_output_folder(out: str | Path) -> Path:
    """An output folder is new, empty, or an earlier output of generate, which is replaced whole:
    never a mix of old and new images, never someone else's files."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out}: is a file; the output must be a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / "labels.csv").is_file():
        raise ValueError(f"{out}: holds files that synthset generate did not write; give a new or empty folder")
    return out


def write_image_folder(images: ImageSet, out: str | Path) -> Path:
    """<out>/<class>/<class>_00000.png ... plus <out>/labels.csv (path, label, class_name: see
    spreadsheet_text), written beside `out` and renamed onto it at the end, so a crash leaves no
    half-written folder."""
    out = check_output_folder(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.new."))
    try:
        os.chmod(staging, 0o777 & ~current_umask())
        _write_pngs(images, staging)
        if out.exists():
            old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.old."))
            os.replace(out, old / "out")
            os.replace(staging, out)
            shutil.rmtree(old)
        else:
            os.replace(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what makes a spreadsheet read a cell as a formula


def spreadsheet_text(cell: str) -> str:
    """The cell as a spreadsheet shows text: one that starts like a formula gets a leading ' (OWASP's
    advice against CSV injection), so opening labels.csv never runs a class name. The exact names
    are in the release's generator.json, in the order of the label column."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def _write_pngs(images: ImageSet, out: Path) -> None:
    """labels.csv: path, label, class_name, and with soft labels p_0, p_1, ... (the probability of
    each label, in label order)."""
    rows = []
    counters = np.zeros(images.num_classes, dtype=int)
    folders = class_folders(images.class_names)
    for i, (image, label) in enumerate(zip(images.images, images.labels)):
        rel = Path(folders[label]) / f"{folders[label]}_{counters[label]:05d}.png"
        counters[label] += 1
        (out / rel.parent).mkdir(parents=True, exist_ok=True)
        Image.fromarray(image[:, :, 0] if image.shape[2] == 1 else image).save(out / rel)
        soft = [] if images.soft is None else [f"{p:.6g}" for p in images.soft[i]]
        rows.append((rel.as_posix(), int(label), spreadsheet_text(images.class_names[label]), *soft))
    soft_header = [] if images.soft is None else [f"p_{c}" for c in range(images.num_classes)]
    with atomic_path(out / "labels.csv") as tmp:
        with open(tmp, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["path", "label", "class_name", *soft_header])
            writer.writerows(rows)
