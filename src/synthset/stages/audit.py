"""Stage audit@arch: membership-inference attacks on one generator (members: the train
split it learned from; non-members: the held-out test split, equal counts).

Each attack is also run on a control: validation images, which nothing trained on, in the
members' place. An attack that tells them from the test images as well as it tells the members
measures how the test split differs from the rest, not membership.

The attacks the release allows (its images; its generator; the filter classifier shipped
with it when `sample.keep` is agreeing) decide the verdict; LOGAN, which needs the
discriminator the owner keeps, says what training remembers."""
from pathlib import Path

import torch
from tqdm.auto import tqdm

from ..classify.load import load_classifier
from ..device import resolve_device, use_threads
from ..figures.audit import roc_png
from ..files import read_json, write_json
from ..filtering import keep_for
from ..imagesets import ImageSet
from ..metrics.audit import (
    audit_sets,
    calibrated_scores,
    classifier_loss_scores,
    evaluate_attack,
    gan_leaks_scores,
    latent_reconstruction_scores,
    load_references,
    logan_scores,
)
from ..metrics.memorisation import pixel_vectors
from ..params import DIFFUSION_ARCHS, GAN_ARCHS
from ..pixels import to_tensor
from ..train.checkpoint import load_discriminators, load_generator
from . import _cli

ATTACKS = {"gan_leaks": "GAN-Leaks (black-box: released images only)",
           "gan_leaks_g": "GAN-Leaks with G (white-box: the released generator's latent space)",
           "loss": "Loss (white-box: the released diffusion model's denoising loss)",
           "filter_loss": "Loss on the filter (white-box: the released filter classifier's confidence in the label)",
           "filter_calibrated": "Loss on the filter, calibrated (white-box: the filter's confidence minus that of "
                                "reference filters trained without the candidates)",
           "logan": "LOGAN (white-box: the discriminator's score; the discriminator is never released)"}
# the attacks that need nothing but what the release holds
RELEASED = {"gan_leaks", "gan_leaks_g", "loss", "filter_loss", "filter_calibrated"}
LOSS_TIMESTEPS = [50, 100, 200, 300]  # where training images stand out most (Matsumoto et al. 2023, 1,000-step schedules)


def threat_model(filtered: bool) -> str:
    held = "the generator, the filter classifier and the images they keep" if filtered else \
        "the generator and the images it draws"
    return (f"an attacker who holds the release ({held}) and wants to know whether a given image, whose label "
            "they know, was among the training images")


def diffusion_loss_scores(model_dir, images: ImageSet, device, seed: int, batch_size: int = 500) -> torch.Tensor:
    """Minus the denoising loss at fixed timesteps and seeded noise: higher for members."""
    model, _ = load_generator(model_dir, device)
    gen = torch.Generator().manual_seed(seed)
    x, y = to_tensor(images.images).to(device), torch.from_numpy(images.labels).to(device)
    steps = [round(t * model.timesteps / 1000) for t in LOSS_TIMESTEPS]
    return torch.cat([-model.denoising_loss(x[i:i + batch_size], y[i:i + batch_size], steps, gen).cpu()
                      for i in range(0, len(x), batch_size)])


def main(ns, params):
    e = params.evaluate
    use_threads(params.threads)
    device = resolve_device(params.device)
    train, val, test = (ImageSet.load(path) for path in (ns.train, ns.val, ns.test))
    fake = ImageSet.load(ns.samples)
    rows = audit_sets(len(train), len(val), len(test), e.audit_candidates, e.seed)
    sets = tuple(rows.images(train, val, test).values())  # members, non-members, control

    fake_vecs = pixel_vectors(fake)
    scores = {"gan_leaks": [gan_leaks_scores(pixel_vectors(s), s.labels, fake_vecs, fake.labels)
                            for s in sets]}
    spec = read_json(Path(ns.model) / "generator.json")
    if spec["arch"] in DIFFUSION_ARCHS:
        scores["loss"] = [diffusion_loss_scores(ns.model, s, device, e.seed) for s in sets]
    else:
        generator, _ = load_generator(ns.model, device)
        scores["gan_leaks_g"] = [
            latent_reconstruction_scores(generator, to_tensor(s.images).to(device), torch.from_numpy(s.labels).to(device),
                                         e.audit_latent_inits, e.audit_latent_restarts, e.audit_latent_steps,
                                         e.audit_latent_lr, e.seed)
            for s in tqdm(sets, desc=f"{ns.arch}: GAN-Leaks with G", unit="set")]
    filtered = keep_for(params.sample.keep, spec) == "agreeing"  # the release ships the filter
    if filtered:
        classifier = load_classifier(ns.filter, device)
        scores["filter_loss"] = [classifier_loss_scores(classifier, s.images, s.labels, device)
                                 for s in sets]
        references = load_references(ns.references, rows)
        if references:
            scores["filter_calibrated"] = [calibrated_scores(target, reference)
                                           for target, reference in zip(scores["filter_loss"], references)]
    if spec["arch"] in GAN_ARCHS:  # dpmerf has no discriminator
        discriminators = load_discriminators(ns.model, spec, device)
        scores["logan"] = [logan_scores(discriminators, to_tensor(s.images).to(device),
                                        torch.from_numpy(s.labels).to(device))
                           for s in sets]

    results = {name: evaluate_attack(m, n, e.audit_bootstrap, e.audit_confidence, e.audit_delta, e.seed)
               for name, (m, n, _) in scores.items()}
    for name, (_, n, c) in scores.items():  # the same attack between two sets of unseen images
        null = evaluate_attack(c, n, e.audit_bootstrap, e.audit_confidence, e.audit_delta, e.seed).summary
        results[name].summary.update(control_auc=null["auc"], control_auc_ci=null["auc_ci"], n_control=len(c))
    out = Path(ns.out)
    out.mkdir(parents=True, exist_ok=True)
    roc_png({ATTACKS[k].split(" (")[0]: r for k, r in results.items()}, out / "roc.png",
            f"{ns.arch}: membership inference")
    released = [k for k in results if k in RELEASED]
    strongest = max(released, key=lambda k: results[k].summary["tpr_at_0.01"])
    s = results[strongest].summary
    write_json(ns.metrics, {
        "threat_model": threat_model(filtered),
        "strongest": strongest,  # of the attacks the release allows: what the verdict judges
        "auc": s["auc"], "auc_ci": s["auc_ci"], "tpr_at_0.01": s["tpr_at_0.01"], "tpr_at_0.01_ci": s["tpr_at_0.01_ci"],
        "tpr_at_0.001": s["tpr_at_0.001"], "control_auc": s["control_auc"], "control_auc_ci": s["control_auc_ci"],
        # any attack, the discriminator's too, bounds what DP training could have spent
        "epsilon_lower_bound": max(r.summary["epsilon_lower_bound"] for r in results.values()),
        "confidence": e.audit_confidence, "delta": e.audit_delta,
        "attacks": {k: {"description": ATTACKS[k], "released": k in RELEASED, **r.summary}
                    for k, r in results.items()}})
    for k, r in results.items():
        print(f"{ns.arch}: {ATTACKS[k]}: AUC {r.summary['auc']:.3f}, "
              f"TPR {r.summary['tpr_at_0.01']:.1%} at 1 % FPR, epsilon >= {r.summary['epsilon_lower_bound']:.2f}; "
              f"control (validation against test images, both unseen): AUC {r.summary['control_auc']:.3f}")


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    p.add_argument("--arch", required=True)
    p.add_argument("--samples", required=True, help="the arch's generated samples.npz (what is released)")
    p.add_argument("--model", required=True, help="train_gan's folder: the spec, and the discriminators (GANs) or the model (ddpm)")
    p.add_argument("--filter", required=True,
                   help="train_classifier's filter folder: released, so attacked, with sample.keep: agreeing")
    p.add_argument("--references", required=True,
                   help="filter_references' npz: reference filters' scores of the candidates, to calibrate that attack")
    p.add_argument("--train", required=True, help="real train split (the members)")
    p.add_argument("--val", required=True, help="real validation split (the control: unseen, in the members' place)")
    p.add_argument("--test", required=True, help="real test split (the non-members)")
    p.add_argument("--out", required=True, help="folder for the ROC figure")
    p.add_argument("--metrics", required=True, help="the stage's metrics JSON")
    _cli.run(main, p)
