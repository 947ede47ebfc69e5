"""Softmax regression, seed 003's LeNet, a small CIFAR ResNet for photos, and torchvision's
ResNet-18 sized for small images.

Each exposes `features(x)` (the penultimate layer): the domain feature space the FID
family and the kNN memorisation check use on a CPU, where Inception-v3 is too slow.
"""
from __future__ import annotations

from functools import partial

import torch
from torch import nn


class SoftmaxRegression(nn.Module):
    def __init__(self, channels: int, image_size: int, num_classes: int):
        super().__init__()
        self.linear = nn.Linear(channels * image_size * image_size, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.features(x))


class LeNet(nn.Module):
    """Seed 003's Listing 1 (the Keras MNIST CNN): conv32-conv64-pool-dropout-dense128-dropout.

    The second ReLU runs after the pooling, not before: max and ReLU commute, so outputs and
    gradients are bit for bit the Keras order's (tests/test_classify.py), on a quarter of the
    values; every utility number trains this network several times."""

    def __init__(self, channels: int, image_size: int, num_classes: int):
        super().__init__()
        side = (image_size - 4) // 2
        self.body = nn.Sequential(
            nn.Conv2d(channels, 32, 3), nn.ReLU(inplace=True),
            nn.Conv2d(32, 64, 3), nn.MaxPool2d(2), nn.ReLU(inplace=True),
            nn.Dropout(0.25), nn.Flatten(),
            nn.Linear(64 * side * side, 128), nn.ReLU(inplace=True))
        self.head = nn.Sequential(nn.Dropout(0.5), nn.Linear(128, num_classes))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def _group_norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(8, channels)


class _BasicBlock(nn.Module):
    """He et al.'s two 3x3 convs with an identity (or 1x1 projection) shortcut."""

    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), _group_norm(c_out), nn.ReLU(inplace=True),
            nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False), _group_norm(c_out))
        self.shortcut = (nn.Identity() if stride == 1 and c_in == c_out else
                         nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), _group_norm(c_out)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


class SmallResNet(nn.Module):
    """The photo judge: He et al.'s CIFAR ResNet (2016, section 4.2; 6n + 2 layers, n blocks a
    stage at 16, 32 and 64 channels, full, half and quarter size, global average pooling) with
    group norm in place of batch norm.

    Why group norm: batch norm reads test images with the statistics of the training images. A
    judge trained on one generator's images, whose brightness and contrast differ a little from
    the real ones, then read real photos at close to chance (tests/test_classify.py); group norm
    normalises each image by itself, so the judge asks whether the classes were learnt, not
    whether the colours match. ResNet-18 costs some 30 times more on a CPU."""

    def __init__(self, channels: int, image_size: int, num_classes: int, blocks: int = 1, width: int = 16):
        super().__init__()
        widths = [width, 2 * width, 4 * width]
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 3, 1, 1, bias=False), _group_norm(width),
                                   nn.ReLU(inplace=True)]
        c_in = width
        for stage, c_out in enumerate(widths):
            for block in range(blocks):
                layers.append(_BasicBlock(c_in, c_out, 2 if stage > 0 and block == 0 else 1))
                c_in = c_out
        self.body = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(c_in, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x))


class ResNet18(nn.Module):
    """torchvision's ResNet-18 (seed 004), untrained; below 64 px the stem is a 3x3 stride-1
    conv without max-pooling, the usual CIFAR adaptation, so 28-32 px images keep their detail."""

    def __init__(self, channels: int, image_size: int, num_classes: int):
        super().__init__()
        from torchvision.models import resnet18  # here: importing torchvision costs every stage a second

        net = resnet18(weights=None, num_classes=num_classes)
        if image_size < 64:
            net.conv1 = nn.Conv2d(channels, 64, 3, 1, 1, bias=False)
            net.maxpool = nn.Identity()
        elif channels != 3:
            net.conv1 = nn.Conv2d(channels, 64, 7, 2, 3, bias=False)
        self.fc = net.fc
        net.fc = nn.Identity()
        self.net = net

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x))


CLASSIFIERS = {"softmax": SoftmaxRegression, "lenet": LeNet, "resnet8": partial(SmallResNet, blocks=1),
               "resnet14": partial(SmallResNet, blocks=2), "resnet20": partial(SmallResNet, blocks=3),
               "resnet18": ResNet18}


def build_classifier(name: str, image_shape: tuple[int, int, int], num_classes: int) -> nn.Module:
    h, _, c = image_shape
    if name == "lenet" and h < 6:
        raise ValueError(f"classify.model: lenet needs images of at least 6 px, got {h}")
    return CLASSIFIERS[name](c, h, num_classes)
