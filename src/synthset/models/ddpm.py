"""A class-conditional denoising diffusion model behind the generators' `G(z, labels)` interface.

`z` is the starting noise image, flattened (latent_dim = channels x height x width), and the
sampler is deterministic given it (DDIM with eta 0, or DPM-Solver++), so sampling, filtering,
the release and `synthset generate` treat it as they treat a GAN: the same seed gives the
same images. Classifier-free guidance (Ho & Salimans 2022): the label embedding has one
extra row, the "no label" class the model was trained on for `label_dropout` of its steps.

The networks and schedulers come from diffusers, built from these arguments alone (nothing
is downloaded); diffusers is imported only when a diffusion model is built, because it
costs every other stage a few seconds.
"""
from __future__ import annotations

import torch
from torch import nn
from tqdm.auto import tqdm


class DiffusionGenerator(nn.Module):
    def __init__(self, num_classes: int, channels: int, image_size: int, widths: list[int],
                 layers_per_block: int, attention: bool, timesteps: int, beta_schedule: str, sampler: str,
                 sampling_steps: int, guidance_scale: float):
        super().__init__()
        from diffusers import UNet2DModel

        if image_size % 2 ** (len(widths) - 1):
            raise ValueError(f"gan.ddpm.widths: {len(widths)} resolutions halve the image {len(widths) - 1} times; "
                             f"{image_size} px is not divisible by {2 ** (len(widths) - 1)}")
        down = ["DownBlock2D"] * len(widths)
        up = ["UpBlock2D"] * len(widths)
        if attention:
            down[-1], up[0] = "AttnDownBlock2D", "AttnUpBlock2D"
        self.unet = UNet2DModel(
            sample_size=image_size, in_channels=channels, out_channels=channels, block_out_channels=tuple(widths),
            layers_per_block=layers_per_block, down_block_types=tuple(down), up_block_types=tuple(up),
            num_class_embeds=num_classes + 1, norm_num_groups=min(8, min(widths)))
        self.num_classes, self.null_label = num_classes, num_classes
        self.shape = (channels, image_size, image_size)
        self.latent_dim = channels * image_size * image_size
        self.timesteps, self.beta_schedule = timesteps, beta_schedule
        self.sampler, self.sampling_steps, self.guidance_scale = sampler, sampling_steps, guidance_scale

    def noise_scheduler(self):
        """The forward (noising) process the model is trained against."""
        from diffusers import DDPMScheduler

        return DDPMScheduler(num_train_timesteps=self.timesteps, beta_schedule=self.beta_schedule, clip_sample=True)

    def sampling_scheduler(self):
        """A fresh sampler for one call: DPM-Solver++ keeps a history of model outputs."""
        from diffusers import DDIMScheduler, DPMSolverMultistepScheduler

        if self.sampler == "ddim":
            s = DDIMScheduler(num_train_timesteps=self.timesteps, beta_schedule=self.beta_schedule,
                              clip_sample=True, timestep_spacing="trailing")
        else:
            # the cosine schedule's last steps have almost no signal left: diffusers' advice is to clip
            # the solver's log-SNR there (lambda_min_clipped -5.1), or its first steps blow up
            s = DPMSolverMultistepScheduler(
                num_train_timesteps=self.timesteps, beta_schedule=self.beta_schedule, algorithm_type="dpmsolver++",
                thresholding=True, sample_max_value=1.0,  # unthresholded, it saturated to black and white
                lambda_min_clipped=-5.1 if self.beta_schedule == "squaredcos_cap_v2" else -float("inf"))
        s.set_timesteps(self.sampling_steps)
        return s

    def predict_noise(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.unet(x, t, class_labels=labels).sample

    def guided_noise(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.guidance_scale == 1:
            return self.predict_noise(x, t, labels)
        both = self.predict_noise(torch.cat([x, x]), torch.cat([t, t]),
                                  torch.cat([labels, torch.full_like(labels, self.null_label)]))
        conditional, unconditional = both.chunk(2)
        return unconditional + self.guidance_scale * (conditional - unconditional)

    @torch.no_grad()
    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        scheduler = self.sampling_scheduler()
        x = z.reshape(len(z), *self.shape).to(next(self.parameters()).dtype)
        steps = tqdm(scheduler.timesteps, desc=f"denoising {len(z)} images", unit="step", leave=False,
                     disable=len(z) < 100)
        for t in steps:
            t = t.to(x.device)
            x = scheduler.step(self.guided_noise(x, t.expand(len(x)), labels), t, x).prev_sample
        return x.clamp(-1, 1)

    def denoising_loss(self, images: torch.Tensor, labels: torch.Tensor, timesteps: list[int],
                       gen: torch.Generator) -> torch.Tensor:
        """Per image, the training loss at fixed timesteps with seeded noise: lower on images
        the model was trained on (the white-box membership attack of Matsumoto et al. 2023)."""
        scheduler = self.noise_scheduler()
        losses = []
        for t in timesteps:
            noise = torch.randn(images.shape, generator=gen).to(images.device)
            tt = torch.full((len(images),), t, device=images.device, dtype=torch.long)
            with torch.no_grad():
                pred = self.predict_noise(scheduler.add_noise(images, noise, tt), tt, labels)
            losses.append((pred - noise).pow(2).flatten(1).mean(1))
        return torch.stack(losses).mean(0)
