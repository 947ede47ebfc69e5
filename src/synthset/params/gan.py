"""The `gan:` section of params.yaml: the architectures, their settings and their shared defaults.

Seven GANs share 28 settings, most of them alike, so params.yaml writes the common values once, in
`gan.defaults`, and each GAN's block only what it sets otherwise (and its epochs and batch size,
tuned per arch). Loading fills each block from the defaults, so every stage sees complete settings
(`ArchParams`) and an unknown key in any block is still an error. ddpm is no GAN and has its own block.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, create_model, model_serializer, model_validator
from pydantic.fields import FieldInfo

from .base import Strict

GAN_ARCHS = ("dcgan", "cgan", "cdcgan", "cdcgan_late", "sngan", "wgan_gp", "cdcgan_dp")
DIFFUSION_ARCHS = ("ddpm",)  # not GANs, but trained, sampled, scored and released the same way
MERF_ARCHS = ("dpmerf",)  # the DP baseline: a generator fitted to a private mean embedding (no discriminator)
ARCHS = GAN_ARCHS + DIFFUSION_ARCHS + MERF_ARCHS
# Archs whose discriminator can be trained with DP-SGD (dp: set): per-example gradients need a
# discriminator that treats each image on its own (tests/test_dp.py checks this list against Opacus).
DP_ARCHS = ("cgan", "wgan_gp", "cdcgan_dp")
NOT_DP = {
    "dcgan": "one GAN per class splits the data by its private labels; use a conditional arch (cdcgan_dp)",
    "cdcgan": "its discriminator has batch norm, which mixes the examples of a batch; use cdcgan_dp",
    "cdcgan_late": "its discriminator has batch norm, which mixes the examples of a batch; use cdcgan_dp",
    "sngan": "Opacus cannot take per-example gradients through spectral norm; use cdcgan_dp",
}


class DPParams(Strict):
    """Differentially private training of the discriminator (DP-SGD, Opacus): the only network that
    sees private images. The generator only sees the discriminator, so it is post-processing."""

    epsilon: float = Field(..., gt=0, description="privacy budget of the whole run (at delta)")
    delta: float = Field(..., gt=0, lt=1, description="chance the epsilon guarantee fails; below 1 / train images")
    max_grad_norm: float = Field(..., gt=0, description="per-example (real image + its fake) gradient clip")
    accountant: Literal["prv", "rdp"] = Field(..., description=(
        "prv: Gopi et al.'s numerical accountant (within 0.4 % of Google's PLD, tightest); rdp: Renyi DP bound"))


class ArchParams(Strict):
    """Settings of one GAN, complete: its block in params.yaml over gan.defaults (every GAN has the same keys)."""

    latent_dim: int = Field(..., ge=1)
    width: int = Field(..., ge=1, description="channels next to the image (ngf = ndf); doubling inwards")
    capacity: int = Field(..., ge=1, description="seed 003's F: multiplies every layer's channels")
    d_depth: int = Field(..., ge=1, description="seed 003's D: extra discriminator convs per resolution + 1")
    norm: Literal["batch", "virtual"]  # virtual batch norm in G (seed 003)
    leaky_slope: float = Field(..., ge=0, lt=1)
    init_std: float = Field(..., gt=0, description="N(0, std) init; seed 000 used 1.0")
    loss: Literal["bce", "nonsaturating", "hinge", "wasserstein"]
    gp_weight: float = Field(..., ge=0, description="gradient penalty (wasserstein only)")
    epochs: int = Field(..., ge=1)
    batch_size: int = Field(..., ge=2)
    lr_g: float = Field(..., gt=0)
    lr_d: float = Field(..., gt=0)
    beta1: float = Field(..., ge=0, lt=1)
    beta2: float = Field(..., ge=0, lt=1)
    d_steps: int = Field(..., ge=1, description="D updates per iteration (n_critic)")
    g_steps: int = Field(..., ge=1, description="G updates per iteration (seed 002 let D learn slower)")
    label_smoothing: float = Field(..., ge=0, lt=0.5, description="one-sided: real target 1 - s (seed 003)")
    replay: bool  # experience replay of past fakes (seed 000)
    mode_seeking: float = Field(..., ge=0, description="weight of MSGAN's mode-seeking term in G's loss; 0 = off")
    grad_clip: float | None = Field(..., gt=0, description="max gradient norm (seed 001)")
    ema_decay: float | None = Field(..., gt=0, lt=1, description="EMA of G weights for sampling")
    augment: list[Literal["color", "translation", "cutout", "flip"]] = Field(
        ..., description="DiffAugment policy for D's inputs, real and fake alike")
    amp: bool  # bf16 autocast, CUDA only
    channels_last: bool  # memory layout of conv activations: faster on CPU (oneDNN) and CUDA
    checkpoint_every: int = Field(..., ge=1, description="epochs between resumable checkpoints")
    grid_every: int = Field(..., ge=1, description="epochs between fixed-noise progress grids")
    dp: DPParams | None = Field(..., description="DP-SGD for the discriminator; null = not private")

    @model_validator(mode="after")
    def _dp_compatible(self):
        if self.dp is None:
            return self
        if self.loss == "wasserstein" and self.gp_weight:
            raise ValueError("dp: the gradient penalty is not a per-example loss DP-SGD can clip; "
                             "set gp_weight: 0 or dp: null")
        if self.grad_clip is not None:
            raise ValueError("dp: the discriminator is already clipped per example (dp.max_grad_norm); "
                             "set grad_clip: null")
        if self.replay:
            raise ValueError("dp: replayed fakes have no real image to be clipped with; set replay: false")
        if self.amp:
            raise ValueError("dp: per-example gradients under bf16 autocast are untested; set amp: false")
        return self


PER_ARCH = ("epochs", "batch_size")  # what the shipped params.yaml sets in every GAN's block, never in defaults


class _Partial(Strict):
    """A block that sets only some keys; it dumps only those, so a dumped Params loads again."""

    @model_serializer(mode="wrap")
    def _only_what_was_set(self, handler):
        return {key: value for key, value in handler(self).items() if key in self.model_fields_set}


def _every_key_optional(model: type[BaseModel], name: str, doc: str) -> type[BaseModel]:
    """`model`'s keys with their types and ranges, none required: a block that sets only some."""
    fields = {key: (f.annotation, FieldInfo.merge_field_infos(f, default=None)) for key, f in model.model_fields.items()}
    return create_model(name, __base__=_Partial, __doc__=doc, **fields)


ArchDefaults = _every_key_optional(ArchParams, "ArchDefaults", (
    "gan.defaults, and the shape of each GAN's own block: any of ArchParams' keys, each GAN's block over the defaults"))


def inherits_default(key: str) -> bool:
    """Whether `key` ("gan.sngan.augment") is a GAN setting its arch's block may set, listed there or not."""
    parts = key.split(".")
    return len(parts) == 3 and parts[0] == "gan" and parts[1] in GAN_ARCHS and parts[2] in ArchParams.model_fields


class DiffusionParams(Strict):
    """A class-conditional DDPM (Ho et al. 2020) with classifier-free guidance (Ho & Salimans 2022),
    built from these settings with diffusers' UNet2DModel: nothing is downloaded."""

    widths: list[int] = Field(..., min_length=2, description="UNet channels per resolution, image size first")
    layers_per_block: int = Field(..., ge=1)
    attention: bool = Field(..., description="self-attention at the lowest resolution")
    timesteps: int = Field(..., ge=10, description="diffusion steps of the training noise schedule")
    beta_schedule: Literal["linear", "squaredcos_cap_v2"]  # squaredcos_cap_v2: Nichol & Dhariwal's cosine
    epochs: int = Field(..., ge=1)
    batch_size: int = Field(..., ge=1)
    lr: float = Field(..., gt=0)
    warmup_steps: int = Field(..., ge=0, description="linear learning-rate warm-up")
    ema_decay: float | None = Field(..., gt=0, lt=1, description="EMA of the weights, used for sampling")
    label_dropout: float = Field(..., ge=0, lt=1, description="share of steps trained without the label (for guidance)")
    sampler: Literal["ddim", "dpm"]  # deterministic given the starting noise: ddim (eta 0) | dpm (DPM-Solver++ 2M)
    sampling_steps: int = Field(..., ge=1)
    guidance_scale: float = Field(..., ge=0, description=(
        "classifier-free guidance: 1 = the conditional model alone (one UNet pass a step); > 1 sharper, "
        "less varied, two passes a step"))
    checkpoint_every: int = Field(..., ge=1, description="epochs between resumable checkpoints")
    grid_every: int = Field(..., ge=1, description="epochs between fixed-noise progress grids")

    @model_validator(mode="after")
    def _guidance_needs_dropout(self):
        if self.guidance_scale != 1 and self.label_dropout == 0:
            raise ValueError("guidance_scale: guidance needs an unconditional model; set label_dropout > 0 "
                             "(0.1 is usual) or guidance_scale: 1")
        if self.sampling_steps > self.timesteps:
            raise ValueError(f"sampling_steps: at most timesteps ({self.timesteps}), got {self.sampling_steps}")
        return self


class MerfParams(Strict):
    """DP-MERF (Harder et al. 2021), the private baseline: cdcgan's generator fitted to the train split's
    mean random-feature embedding, made (epsilon, delta)-DP once by the Gaussian mechanism (train/merf.py)."""

    features: Literal["pixels", "scattering"] = Field(..., description=(
        "what the Gaussian kernel compares: the pixels, or their wavelet scattering coefficients (one scale, "
        "8 orientations: fixed, learnt from no data, stable to small shifts)"))
    frequencies: int = Field(..., ge=1, description="random Fourier frequencies (2 features each, per class)")
    length_scale: float = Field(..., gt=0, description=(
        "Gaussian kernel width per input dimension: l = length_scale * sqrt(dims) of what `features` names, so "
        "one value serves every image size"))
    latent_dim: int = Field(..., ge=1)
    width: int = Field(..., ge=1, description="the generator's channels next to the image, as the GANs' width")
    generators: int = Field(..., ge=1, description=(
        "generators fitted to the one noisy embedding, each from other initial weights, each drawing an equal "
        "share of the samples: post-processing, so no further privacy; training takes this many times as long"))
    epochs: int = Field(..., ge=1, description="an epoch: train images / batch_size generator steps")
    batch_size: int = Field(..., ge=2, description="generated images per step, the same number of each class")
    lr: float = Field(..., gt=0)
    epsilon: float = Field(..., gt=0, description="the privacy budget of the one release of the embedding")
    delta: float = Field(..., gt=0, lt=1, description="chance the epsilon guarantee fails; below 1 / train images")
    checkpoint_every: int = Field(..., ge=1, description="epochs between resumable checkpoints")
    grid_every: int = Field(..., ge=1, description="epochs between fixed-noise progress grids")


class GanParams(Strict):
    archs: list[Literal[ARCHS]] = Field(..., min_length=1)
    seed: int
    defaults: ArchDefaults  # type: ignore[valid-type]
    dcgan: ArchParams
    cgan: ArchParams
    cdcgan: ArchParams
    cdcgan_late: ArchParams
    sngan: ArchParams
    wgan_gp: ArchParams
    cdcgan_dp: ArchParams
    ddpm: DiffusionParams
    dpmerf: MerfParams

    @model_validator(mode="before")
    @classmethod
    def _fill_from_defaults(cls, raw):
        if not isinstance(raw, dict) or not isinstance(raw.get("defaults"), dict):
            return raw  # no defaults block: every GAN's block must be complete (or the error names what is not)
        filled = {arch: {**raw["defaults"], **raw[arch]} for arch in GAN_ARCHS if isinstance(raw.get(arch), dict)}
        return {**raw, **filled}

    @model_validator(mode="after")
    def _dp_archs(self):
        for name in GAN_ARCHS:
            if getattr(self, name).dp is not None and name not in DP_ARCHS:
                raise ValueError(f"gan.{name}.dp: {name} cannot train with differential privacy: {NOT_DP[name]}")
            if getattr(self, name).dp is not None and getattr(self, name).mode_seeking:
                raise ValueError(f"gan.{name}.mode_seeking: with dp, mode seeking gives a real image's fake another "
                                 "image's label, so one clipped example would hold two private labels; set it to 0")
        return self
