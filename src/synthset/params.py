"""params.yaml, validated: the one place for every setting.

Any mistake a user can make in params.yaml (an unknown key, a wrong type, an
impossible value, an unknown architecture) stops with one line that names the key
and says what is allowed, before any work starts.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

ARCHS = ("dcgan",)


class ParamsError(ValueError):
    """A params.yaml problem, phrased for the user."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataParams(Strict):
    source: Literal["mnist5k", "digits", "idx", "folder"] = "mnist5k"
    path: str | None = Field(None, description="idx: folder of IDX files; folder: one sub-folder per class")
    test_fraction: float = Field(0.2, gt=0, lt=1)
    min_per_class: int = Field(10, ge=2)
    max_per_class: int | None = Field(None, ge=2, description="cap per class, for quick runs")
    seed: int = 0

    @model_validator(mode="after")
    def _path_needed(self):
        if self.source in ("idx", "folder") and not self.path:
            raise ValueError(f"data.path is required when data.source is {self.source!r}")
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
    image_size: int = 28
    color: Literal["gray", "rgb"] = "gray"

    _size = field_validator("image_size")(lambda cls, v: check_image_size(v))


class DCGANParams(Strict):
    """Radford et al. DCGAN, one per class (seed 000); defaults from the seeds."""

    latent_dim: int = Field(100, ge=1)
    width: int = Field(64, ge=1, description="channels of the widest conv layer / 8")
    epochs: int = Field(20, ge=1)
    batch_size: int = Field(32, ge=1)
    lr_g: float = Field(2e-4, gt=0)
    lr_d: float = Field(2e-4, gt=0)
    beta1: float = Field(0.5, ge=0, lt=1)
    beta2: float = Field(0.999, ge=0, lt=1)
    leaky_slope: float = Field(0.2, ge=0, lt=1)
    init_std: float = Field(0.02, gt=0)
    grid_every: int = Field(1, ge=1, description="epochs between fixed-noise progress grids")


class GanParams(Strict):
    archs: list[Literal[ARCHS]] = Field(default_factory=lambda: ["dcgan"], min_length=1)
    seed: int = 0
    dcgan: DCGANParams = DCGANParams()


class SampleParams(Strict):
    per_class: int = Field(400, ge=1)
    seed: int = 1


class ReportParams(Strict):
    grid_per_class: int = Field(8, ge=1, le=64)


class Params(Strict):
    device: Literal["auto", "cpu", "cuda"] = "auto"
    threads: int = Field(0, ge=0, description="torch CPU threads; 0 = torch's default")
    data: DataParams = DataParams()
    preprocess: PreprocessParams = PreprocessParams()
    gan: GanParams = GanParams()
    sample: SampleParams = SampleParams()
    report: ReportParams = ReportParams()

    def arch(self, name: str) -> BaseModel:
        if name not in self.gan.archs:
            raise ParamsError(f"gan.archs: {name!r} is not listed (listed: {', '.join(self.gan.archs)})")
        return getattr(self.gan, name)


def _one_line(err: ValidationError, source: str) -> str:
    e = err.errors()[0]
    key = ".".join(str(p) for p in e["loc"]) or "(top level)"
    msg = e["msg"].removeprefix("Value error, ")
    if e["type"] == "extra_forbidden":
        msg = "unknown key"
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


def load_params(path: str | Path = "params.yaml") -> Params:
    path = Path(path)
    if not path.exists():
        raise ParamsError(f"{path}: not found (run from the project folder or pass --params)")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ParamsError(f"{path}: not valid YAML: {err}") from None
    if raw is not None and not isinstance(raw, dict):
        raise ParamsError(f"{path}: must be a mapping of sections, got {type(raw).__name__}")
    return parse_params(raw, str(path))
