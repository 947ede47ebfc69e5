"""The membership audit finds a generator that memorised its training images, through its
released images, through the released generator itself (even when the images miss the
members), and through the filter classifier released with it; and finds nothing where
nothing released saw the members; through the real audit stage."""
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import yaml
from conftest import shipped

from synthset.classify import fit, predict_proba
from synthset.classify.load import save_classifier
from synthset.data import load_digits, preprocess
from synthset.figures.audit import roc_png
from synthset.files import read_json
from synthset.imagesets import ImageSet
from synthset.metrics.audit import (
    audit_sets,
    auc,
    calibrated_scores,
    candidates,
    classifier_loss_scores,
    empirical_epsilon,
    evaluate_attack,
    latent_reconstruction_scores,
    load_references,
    outside,
    save_references,
    tpr_at_fpr,
)
from synthset.models.factory import generator_spec
from synthset.pixels import to_tensor
from synthset.sampling import sample_per_class
from synthset.train.checkpoint import save_discriminators, save_model
from synthset.train.loop import train_gan
from synthset.train.trainlog import TrainLog


@pytest.fixture(scope="module")
def digits() -> ImageSet:
    s = preprocess(load_digits(), 8, "gray")
    return s.subset(np.random.default_rng(0).permutation(len(s)))


@pytest.fixture(scope="module")
def memorising(digits, tmp_path_factory):
    """A conditional DCGAN trained 1,500 epochs on 20 images (two per class): it draws them back."""
    tmp = tmp_path_factory.mktemp("memorising")
    train = digits.subset(slice(0, 20))
    arch = "cdcgan"
    p = shipped({"gan": {"archs": [arch], arch: {"epochs": 1500, "width": 16, "latent_dim": 16, "batch_size": 20,
                                                  "ema_decay": None, "lr_g": 2e-3, "lr_d": 2e-3}}}).arch(arch)
    last = []
    torch.set_num_threads(1)
    g = train_gan(arch, train, p, torch.device("cpu"), 0, TrainLog(tmp / "live", tmp / "fig", train.num_classes),
                  on_epoch=lambda epoch, units: last.__setitem__(slice(None), [u.d for u in units]))
    save_model(tmp / "model", generator_spec(arch, train, p), g)
    save_discriminators(tmp / "model", last)
    sample_per_class(g, train.class_names, 50, seed=0).save(tmp / "samples.npz")
    # the filter classifier released beside it, trained on the same 20 images until it knows them by heart
    save_classifier(fit(train, "lenet", 200, 20, 1e-3, 0, torch.device("cpu"), average_epochs=0), "lenet", train,
                    tmp / "filter")
    digits.subset(slice(1600, None)).save(tmp / "control.npz")  # the audits' default control: never trained on
    for keep in ("agreeing", "all"):
        params = shipped({"device": "cpu", "threads": 1, "sample": {"keep": keep}, "evaluate": {"audit_bootstrap": 50}})
        (tmp / f"params_{keep}.yaml").write_text(yaml.safe_dump(params.model_dump()))
    return tmp


def audit(folder, train: ImageSet, test: ImageSet, samples, tag: str, keep: str = "agreeing",
          val: ImageSet | None = None, references: list[torch.nn.Module] = ()) -> dict:
    """The real stage, as the pipeline runs it (sample.keep: agreeing releases the filter); the
    control is 300 digits no model saw unless `val` is given; `references`: reference filters,
    scored on the candidates as the filter_references stage scores its own."""
    val = val or ImageSet.load(folder / "control.npz")
    train.save(folder / f"{tag}_train.npz")
    test.save(folder / f"{tag}_test.npz")
    val.save(folder / f"{tag}_val.npz")
    rows = audit_sets(len(train), len(val), len(test), None, 0)  # the shipped evaluate.audit_candidates and seed
    sets = rows.images(train, val, test)
    save_references(folder / f"{tag}_references.npz", rows, {
        name: np.array([classifier_loss_scores(r, s.images, s.labels, torch.device("cpu")) for r in references]
                       ).reshape(len(references), len(s)) for name, s in sets.items()})
    cmd = [sys.executable, "-m", "synthset.stages.audit", "--params", str(folder / f"params_{keep}.yaml"),
           "--arch", "cdcgan", "--samples", str(samples), "--model", str(folder / "model"),
           "--filter", str(folder / "filter"), "--references", str(folder / f"{tag}_references.npz"),
           "--train", str(folder / f"{tag}_train.npz"),
           "--val", str(folder / f"{tag}_val.npz"),
           "--test", str(folder / f"{tag}_test.npz"), "--out", str(folder / tag), "--metrics", str(folder / f"{tag}.json")]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (folder / tag / "roc.png").stat().st_size > 0
    return read_json(folder / f"{tag}.json")


def test_a_memorising_generator_is_caught(memorising, digits):
    result = audit(memorising, digits.subset(slice(0, 20)), digits.subset(slice(20, 40)),
                   memorising / "samples.npz", "members")
    leaks = result["attacks"]["gan_leaks"]
    assert leaks["auc"] > 0.9
    assert leaks["tpr_at_0.01"] > 0.5  # most members are found before any non-member is called one
    assert result["attacks"]["logan"]["auc"] > 0.7  # its discriminator, too, scores its own images higher
    assert leaks["n_members"] == leaks["n_nonmembers"] == 20
    lo, hi = leaks["auc_ci"]
    assert lo <= leaks["auc"] <= hi
    with_g = result["attacks"]["gan_leaks_g"]
    assert with_g["released"] and with_g["auc"] > 0.9 and with_g["tpr_at_0.01"] > 0.5
    for name, attack in result["attacks"].items():  # unseen digits against unseen digits: no members to find
        assert attack["n_control"] == 20 and attack["auc"] > attack["control_auc_ci"][1], name
    assert result["control_auc"] == result["attacks"][result["strongest"]]["control_auc"]
    assert not result["attacks"]["logan"]["released"]
    released = {k: a["tpr_at_0.01"] for k, a in result["attacks"].items() if a["released"]}
    assert set(released) == {"gan_leaks", "gan_leaks_g", "filter_loss"}
    assert result["strongest"] in released  # the verdict judges what the release allows
    assert result["tpr_at_0.01"] == max(released.values())


def test_the_released_filter_gives_members_away_and_is_attacked_only_when_released(memorising, digits):
    """The filter learned the 20 members by heart: its confidence in their labels finds them.
    With sample.keep: all the release ships no filter, so the audit leaves it alone and the
    threat model does not name it."""
    members, nonmembers = digits.subset(slice(0, 20)), digits.subset(slice(20, 40))
    digits.subset(slice(1000, 1600)).save(memorising / "others.npz")
    # reference filters: LeNets of 200 other digits, none a candidate
    references = [fit(digits.subset(slice(40, 240)), "lenet", 20, 20, 1e-3, seed, torch.device("cpu"),
                      average_epochs=0) for seed in (1, 2)]
    shipped_filter = audit(memorising, members, nonmembers, memorising / "others.npz", "filter_shipped",
                           references=references)
    attack = shipped_filter["attacks"]["filter_loss"]
    assert attack["released"] and attack["auc"] > 0.85 and attack["tpr_at_0.01"] >= 0.4  # measured: 0.92 and 0.5
    calibrated = shipped_filter["attacks"]["filter_calibrated"]
    assert calibrated["released"] and calibrated["auc"] > 0.8 and calibrated["n_members"] == 20  # measured: 0.89
    assert "filter classifier" in shipped_filter["threat_model"]
    unfiltered = audit(memorising, members, nonmembers, memorising / "others.npz", "no_filter", keep="all",
                       references=references)
    assert not {"filter_loss", "filter_calibrated"} & set(unfiltered["attacks"])
    assert "filter" not in unfiltered["threat_model"]
    assert unfiltered["attacks"]["gan_leaks_g"] == shipped_filter["attacks"]["gan_leaks_g"]  # the rest unchanged


def test_the_filter_attack_orders_candidates_by_the_classifiers_own_loss(digits):
    """Against torch's cross-entropy, the loss the classifier was trained on: log(p / (1 - p))
    of the label, from the logits, ranks as minus the loss does, and keeps ranking where p is 1.0."""
    images = digits.subset(slice(0, 200))
    model = fit(images, "lenet", 30, 20, 1e-3, 0, torch.device("cpu"), average_epochs=0)
    scores = classifier_loss_scores(model, images.images, images.labels, torch.device("cpu"))
    with torch.no_grad():
        loss = F.cross_entropy(model(to_tensor(images.images)).double(), torch.from_numpy(images.labels),
                               reduction="none").numpy()
    p = np.exp(-loss)
    unsure = p < 0.999  # where log(p / (1 - p)) is exact in float64 from the loss
    assert unsure.sum() >= 20
    np.testing.assert_allclose(scores[unsure], np.log(p[unsure]) - np.log1p(-p[unsure]), rtol=1e-5, atol=1e-5)
    assert (np.diff(scores[np.argsort(loss)]) <= 1e-9).all()  # the lower the loss, the higher the score
    # two answers so sure that their probabilities are both 1.0 in float32: the attack still ranks them
    sure = _Sure()
    pixels = np.array([[255, 0], [255, 128]], dtype=np.uint8).reshape(2, 1, 2, 1)
    assert (predict_proba(sure, pixels, torch.device("cpu"))[:, 0] == 1.0).all()
    sure_scores = classifier_loss_scores(sure, pixels, np.zeros(2, dtype=np.int64), torch.device("cpu"))
    np.testing.assert_allclose(sure_scores, [80, 40 * (2 - 128 / 127.5)], rtol=1e-4)  # the margins


class _Sure(torch.nn.Module):
    """Logits 40 times two pixels (-1 to 1)."""

    def forward(self, x):
        return 40 * x.flatten(1)


def test_the_released_generator_gives_members_away_even_when_its_images_miss_them(memorising, digits):
    """The 'released' images are other real digits, so the black-box attack has nothing to
    find; the generator itself still draws its training images back when asked."""
    digits.subset(slice(1000, 1600)).save(memorising / "others.npz")
    result = audit(memorising, digits.subset(slice(0, 20)), digits.subset(slice(20, 40)),
                   memorising / "others.npz", "generator_only")
    assert result["attacks"]["gan_leaks"]["auc"] < 0.75
    assert result["strongest"] == "gan_leaks_g"
    assert result["auc"] > 0.9 and result["tpr_at_0.01"] > 0.5


class _LinearGenerator(torch.nn.Module):
    """G(z) = tanh(Wz): 8 latent numbers drawn into 8 x 8 images."""
    latent_dim = 8

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.w = torch.nn.Linear(8, 64)

    def forward(self, z, labels):
        return torch.tanh(self.w(z)).view(-1, 1, 8, 8)


def test_latent_search_finds_the_latent_behind_an_image_the_generator_can_draw():
    g = _LinearGenerator()
    labels = torch.zeros(20, dtype=torch.long)
    z = torch.randn(20, 8, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():  # latents of squared norm 8, where the search's prior term (||z||^2 - 8)^2 is 0
        drawable = g(z / z.norm(dim=1, keepdim=True) * 8 ** 0.5, labels)
    other = torch.rand(20, 1, 8, 8, generator=torch.Generator().manual_seed(2)) * 2 - 1
    on = latent_reconstruction_scores(g, drawable, labels, inits=16, restarts=2, steps=200, lr=0.05, seed=0)
    off = latent_reconstruction_scores(g, other, labels, inits=16, restarts=2, steps=200, lr=0.05, seed=0)
    assert on.min() > -1e-3  # minus the mean squared error: found (nearly) exactly
    assert off.max() < -0.1  # a random image lies far from what 8 numbers can draw
    blind = latent_reconstruction_scores(g, drawable, labels, inits=16, restarts=2, steps=0, lr=0.05, seed=0)
    assert (blind < on).all() and blind.max() < -1e-3  # the random draws alone miss; the gradient steps find it


def test_the_latent_search_of_a_released_pool_finds_what_any_of_its_generators_can_draw():
    """A pool (dpmerf's) is released whole: an image that one member can draw is found, though the
    pool's other member cannot draw it and the pool's own forward pass routes rows by their place."""
    from synthset.models.pool import PooledGenerator

    g = _LinearGenerator()
    labels = torch.zeros(20, dtype=torch.long)
    z = torch.randn(20, 8, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        drawable = g(z / z.norm(dim=1, keepdim=True) * 8 ** 0.5, labels)
    other = _LinearGenerator()
    with torch.no_grad():  # another 8-dimensional family of 64-pixel images
        other.w.weight.copy_(torch.randn(64, 8, generator=torch.Generator().manual_seed(5)) * 0.3)
    pool = PooledGenerator(members=1, num_classes=1, latent_dim=8, channels=1, image_size=8, width=8)
    pool.members = torch.nn.ModuleList([other, g])
    kwargs = {"inits": 16, "restarts": 2, "steps": 200, "lr": 0.05, "seed": 0}
    by_pool = latent_reconstruction_scores(pool, drawable, labels, **kwargs)
    by_other = latent_reconstruction_scores(other, drawable, labels, **kwargs)
    assert by_pool.min() > -1e-3 and by_other.max() < -1e-2  # found through g alone
    assert np.array_equal(by_pool, np.maximum(by_other, latent_reconstruction_scores(g, drawable, labels, **kwargs)))


def test_a_generator_that_never_saw_the_members_reveals_nothing(memorising, digits):
    """Members and non-members are both unseen by the GAN and the filter, and the 'released'
    images are other real images: no attack finds members, and no epsilon is implied."""
    held_out = digits.subset(slice(1000, 1600))
    held_out.save(memorising / "held_out.npz")
    result = audit(memorising, digits.subset(slice(40, 340)), digits.subset(slice(400, 700)),
                   memorising / "held_out.npz", "unseen")
    for name, attack in result["attacks"].items():
        assert abs(attack["auc"] - 0.5) < 0.08, name
        # no evidence of membership: the interval reaches 0.5 from above. (The 20-image filter is
        # less sure of these 300 'members' than of any other 300 unseen digits tried, AUC 0.42 to 0.47:
        # below chance is the luck of one set, not a leak)
        assert attack["auc_ci"][0] < 0.5, name
        assert attack["tpr_at_0.01"] < 0.06, name
        assert attack["epsilon_lower_bound"] < 0.5, name


def test_the_control_shows_a_test_split_unlike_the_rest(memorising, digits):
    """No model saw the members, but the test images are shifted one pixel: the attacks tell them
    from the members, and tell them as well from the validation images (the control), which is
    how a reader sees that the AUC is the split's, not membership."""
    shifted = digits.subset(slice(400, 700))
    shifted = ImageSet(np.roll(shifted.images, 1, axis=2), shifted.labels, shifted.class_names)
    digits.subset(slice(1000, 1600)).save(memorising / "released.npz")  # real digits no model saw
    result = audit(memorising, digits.subset(slice(40, 340)), shifted, memorising / "released.npz", "split",
                   val=digits.subset(slice(700, 1000)))
    for name in ("gan_leaks", "gan_leaks_g"):
        attack = result["attacks"][name]
        assert attack["auc"] > 0.6 and attack["control_auc"] > 0.6, name
        assert abs(attack["auc"] - attack["control_auc"]) < 0.06, name  # members and controls: alike unseen


def test_rates_match_their_definitions():
    m, n = np.array([0.9, 0.8, 0.7, 0.2]), np.array([0.85, 0.1, 0.05, 0.0])
    assert auc(m, n) == pytest.approx(13 / 16)  # pairs where the member scores higher
    assert tpr_at_fpr(m, n, 0.0) == pytest.approx(0.25)  # only 0.9 beats every non-member
    assert tpr_at_fpr(m, n, 0.25) == pytest.approx(1.0)  # at 0.2, only 0.85 of the non-members is above


def test_epsilon_bound_grows_with_separation_and_is_capped_by_sample_size():
    rng = np.random.default_rng(0)
    null = empirical_epsilon(rng.normal(size=2000), rng.normal(size=2000), 1e-5, 0.95, 0)
    weak = empirical_epsilon(rng.normal(1, 1, 2000), rng.normal(size=2000), 1e-5, 0.95, 0)
    perfect = empirical_epsilon(np.ones(2000), np.zeros(2000), 1e-5, 0.95, 0)
    assert null < 0.3 < weak < perfect
    # with 1,000 non-members per half, no attack can prove more than about log(1000 / 3.7)
    assert perfect == pytest.approx(np.log(1 / (1 - 0.025 ** (1 / 1000))), rel=0.05)


def test_candidates_are_balanced_and_the_figure_draws(tmp_path):
    members, nonmembers = candidates(500, 120, None, 0)
    assert len(members) == len(nonmembers) == 120 and len(set(members)) == 120
    assert len(candidates(500, 120, 50, 0)[0]) == 50
    rng = np.random.default_rng(1)
    r = evaluate_attack(rng.normal(0.5, 1, 300), rng.normal(size=300), 20, 0.95, 1e-5, 0)
    assert 0.55 < r.summary["auc"] < 0.75
    assert roc_png({"attack": r}, tmp_path / "roc.png", "t").stat().st_size > 0
