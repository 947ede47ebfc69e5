"""Membership inference: can an attacker tell the generator's training images from unseen ones?

Candidates are equal numbers of members (train split) and non-members (held-out test
split). Each attack scores every candidate, higher meaning "trained on":

- GAN-Leaks (Chen et al. 2020, full black-box): minus the distance from the candidate to
  its nearest released image of the same class. Needs only what a third party receives.
- GAN-Leaks with the generator (Chen et al. 2020, white-box on G): minus the smallest
  distance between the candidate and any image the released generator can draw for its
  class, found by optimising the latent (best of many random draws, then gradient steps).
  Whoever holds the release holds G, so this is the strongest attack on the generator.
- The loss attack on the filter (Yeom et al. 2018): how confident the released filter
  classifier is in the candidate's own label. With `sample.keep: agreeing` the release ships
  that classifier, trained on the same private images without any privacy training, and a
  classifier is more confident on the images it learned from.
- The same, calibrated (Watson et al. 2022; offline LiRA's reference models, Carlini et al.
  2022): the filter's score minus the mean score of reference filters, trained with the same
  recipe on train images that are none of the candidates. Some images are easy for any
  classifier of their class; what is left after subtracting is what the filter learned from
  that image itself.
- LOGAN (Hayes et al. 2019, white-box): the discriminator's score of the candidate under
  its own label. The discriminator never leaves the owner: this says what the training
  process remembers, not what the release gives away.

An attack is judged as Carlini et al. ("Membership inference attacks from first
principles", 2022) ask: ROC AUC and, above all, the true-positive rate at a low false-
positive rate (1 %, 0.1 %), with bootstrap confidence intervals. Its success also
implies a lower bound on the epsilon of any (epsilon, delta)-DP training that could have
produced it (Jagielski et al. 2020): DP forces TPR <= e^eps * FPR + delta at every
threshold. The bound here is honest about sampling: the threshold is chosen on one half
of the candidates and the rates are counted on the other half with Clopper-Pearson
intervals, so a lucky threshold cannot inflate it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.special import logsumexp
from scipy.stats import beta
from sklearn.metrics import roc_auc_score, roc_curve

from ..classify import predict_logits
from ..files import atomic_path
from .memorisation import nearest

LOW_FPRS = (0.01, 0.001)


def candidates(n_members: int, n_nonmembers: int, most: int | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Equal numbers of member and non-member indices (random, sorted): unequal counts
    would let an attacker score by the base rate alone."""
    n = min(n_members, n_nonmembers, most or n_members)
    rng = np.random.default_rng(seed)
    return (np.sort(rng.choice(n_members, n, replace=False)), np.sort(rng.choice(n_nonmembers, n, replace=False)))


@dataclass(frozen=True)
class AuditSets:
    """Row indices of the audit's candidates: members in train, non-members in test, and the
    control (validation images, also unseen) that stands in for the members."""
    members: np.ndarray
    nonmembers: np.ndarray
    control: np.ndarray

    NAMES = ("members", "nonmembers", "control")

    def images(self, train, val, test) -> dict:
        """{name: its images}, in NAMES' order: members from train, non-members from test, control from val."""
        return {"members": train.subset(self.members), "nonmembers": test.subset(self.nonmembers),
                "control": val.subset(self.control)}


def audit_sets(n_train: int, n_val: int, n_test: int, most: int | None, seed: int) -> AuditSets:
    members, nonmembers = candidates(n_train, n_test, most, seed)
    return AuditSets(members, nonmembers, candidates(n_val, n_test, most, seed)[0])


def outside(n: int, rows: np.ndarray) -> np.ndarray:
    """The rows of range(n) not in `rows`: a reference model's training rows, which must hold
    no candidate."""
    return np.setdiff1d(np.arange(n), rows)


def calibrated_scores(target: np.ndarray, references: np.ndarray) -> np.ndarray:
    """The target model's score of each candidate minus the mean of the reference models'
    (references: one row per reference model), which never saw any candidate."""
    if references.ndim != 2 or references.shape[1] != len(target) or len(references) == 0:
        raise ValueError(f"references of shape {references.shape} for {len(target)} candidates: "
                         "expected (models >= 1, candidates)")
    return target - references.mean(axis=0)


def save_references(path, sets: AuditSets, scores: dict[str, np.ndarray]) -> None:
    """Reference models' scores of each candidate set ({name: (models, candidates)}), with the
    candidates' rows, so that an audit of other candidates refuses them."""
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, **{f"{name}_rows": getattr(sets, name) for name in AuditSets.NAMES},
                 **{name: scores[name] for name in AuditSets.NAMES})


def load_references(path, sets: AuditSets) -> list[np.ndarray]:
    """save_references' scores of (members, non-members, control); [] when it saved no model."""
    with np.load(path) as saved:
        for name in AuditSets.NAMES:
            if not np.array_equal(saved[f"{name}_rows"], getattr(sets, name)):
                raise ValueError(f"{path}: its {name} are not this audit's candidates (evaluate.audit_candidates or "
                                 "the splits changed since): run the filter_references stage again")
        references = [saved[name] for name in AuditSets.NAMES]
    return references if len(references[0]) else []


def gan_leaks_scores(query: np.ndarray, query_labels: np.ndarray, fake: np.ndarray,
                     fake_labels: np.ndarray) -> np.ndarray:
    """Minus the distance of each query row to its nearest generated row of the same class
    (an attacker testing a record knows its label); a class with no generated image falls
    back to all generated images."""
    scores = np.empty(len(query))
    for c in np.unique(query_labels):
        rows, pool = query_labels == c, fake_labels == c
        reference = fake[pool] if pool.any() else fake
        scores[rows] = -nearest(query[rows], reference, 1)[0][:, 0]
    return scores


def latent_reconstruction_scores(generator: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor,
                                 inits: int, restarts: int, steps: int, lr: float, seed: int,
                                 norm_weight: float = 1e-3, batch_size: int = 256) -> np.ndarray:
    """Minus min_z ||G(z, y) - x||^2 / pixels for each candidate x of label y (GAN-Leaks, white-box).

    The `inits` random latents per candidate are scored in one forward pass each and the best
    `restarts` are refined by `steps` of Adam on the squared error plus Chen et al.'s latent
    prior term, `norm_weight` (||z||^2 - dim)^2, which keeps z where G was trained; the score is
    the best distance seen. The generator is in eval mode, so each latent moves on its own.
    A pool of generators (models/pool.py) is released whole: each is searched, and a candidate's score
    is its best reconstruction by any of them."""
    members = getattr(generator, "members", None)
    if members is not None and len(members) > 1:
        return np.max([latent_reconstruction_scores(m, images, labels, inits, restarts, steps, lr, seed, norm_weight,
                                                    batch_size) for m in members], axis=0)
    device = images.device
    gen = torch.Generator().manual_seed(seed)
    generator = generator.eval().requires_grad_(False)
    dim = generator.latent_dim
    out = np.empty(len(labels))
    for start in range(0, len(labels), batch_size):
        x, y = images[start:start + batch_size], labels[start:start + batch_size]
        n = len(y)
        with torch.no_grad():  # best `restarts` of `inits` random latents per candidate
            z = torch.randn(inits, n, dim, generator=gen).to(device)
            err = torch.stack([(generator(z[i], y) - x).pow(2).flatten(1).mean(1) for i in range(inits)])
            keep = err.topk(min(restarts, inits), dim=0, largest=False).indices  # (restarts, n)
            z = torch.gather(z, 0, keep[:, :, None].expand(-1, -1, dim)).reshape(-1, dim)
            best = err.gather(0, keep).reshape(-1)
        yy, xx = y.repeat(len(keep)), x.repeat(len(keep), 1, 1, 1)
        z.requires_grad_(True)
        opt = torch.optim.Adam([z], lr=lr)
        for _ in range(steps):
            err = (generator(z, yy) - xx).pow(2).flatten(1).mean(1)
            best = torch.minimum(best, err.detach())
            loss = err.sum() + norm_weight * (z.pow(2).sum(1) - dim).pow(2).sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        with torch.no_grad():
            best = torch.minimum(best, (generator(z, yy) - xx).pow(2).flatten(1).mean(1))
        out[start:start + n] = -best.view(len(keep), n).min(0).values.cpu().numpy()
    return out


def classifier_loss_scores(classifier: torch.nn.Module, images: np.ndarray, labels: np.ndarray,
                           device: torch.device) -> np.ndarray:
    """log(p / (1 - p)) of each candidate's own label, from the logits (Carlini et al.'s scaling):
    it orders candidates as minus the training loss does, where p itself rounds to 1 in float32."""
    logits = predict_logits(classifier, images, device).astype(np.float64)
    rows = np.arange(len(labels))
    own = logits[rows, labels]
    logits[rows, labels] = -np.inf
    return own - logsumexp(logits, axis=1)


@torch.no_grad()
def logan_scores(discriminators: list[torch.nn.Module], images: torch.Tensor, labels: torch.Tensor,
                 batch_size: int = 500) -> np.ndarray:
    """The discriminator's raw score of each image under its own label; with one
    discriminator per class (DCGAN), the one of the image's class."""
    out = torch.empty(len(labels))
    for i in range(0, len(labels), batch_size):
        x, y = images[i:i + batch_size], labels[i:i + batch_size]
        if len(discriminators) == 1:
            out[i:i + batch_size] = discriminators[0](x, y).float().cpu()
        else:
            for c in y.unique().tolist():
                rows = y == c
                out[i:i + batch_size][rows.cpu()] = discriminators[c](x[rows], y[rows]).float().cpu()
    return out.numpy().astype(np.float64)


def tpr_at_fpr(member_scores: np.ndarray, nonmember_scores: np.ndarray, fpr: float) -> float:
    """The highest TPR among thresholds whose FPR does not exceed `fpr` (Carlini et al.)."""
    y = np.r_[np.ones(len(member_scores)), np.zeros(len(nonmember_scores))]
    fprs, tprs, _ = roc_curve(y, np.r_[member_scores, nonmember_scores])
    return float(tprs[fprs <= fpr].max())


def auc(member_scores: np.ndarray, nonmember_scores: np.ndarray) -> float:
    y = np.r_[np.ones(len(member_scores)), np.zeros(len(nonmember_scores))]
    return float(roc_auc_score(y, np.r_[member_scores, nonmember_scores]))


def _clopper_pearson(k: int, n: int, confidence: float) -> tuple[float, float]:
    a = (1 - confidence) / 2
    lo = beta.ppf(a, k, n - k + 1) if k > 0 else 0.0
    hi = beta.ppf(1 - a, k + 1, n - k) if k < n else 1.0
    return float(lo), float(hi)


def _eps_at(tp: int, fp: int, n_m: int, n_n: int, delta: float, confidence: float | None) -> float:
    """The larger of the two DP inequalities' epsilons at one threshold (point or conservative)."""
    if confidence is None:
        tpr, fpr = tp / n_m, fp / n_n
        tpr_lo, fpr_hi, tnr_lo, fnr_hi = tpr, fpr, 1 - fpr, 1 - tpr
    else:
        tpr_lo, fpr_hi = _clopper_pearson(tp, n_m, confidence)[0], _clopper_pearson(fp, n_n, confidence)[1]
        tnr_lo, fnr_hi = 1 - fpr_hi, 1 - tpr_lo
    best = 0.0
    for num, den in ((tpr_lo - delta, fpr_hi), (tnr_lo - delta, fnr_hi)):
        if num > 0:
            best = max(best, np.log(num / den) if den > 0 else np.inf)
    return float(best)


def _counts(scores_m: np.ndarray, scores_n: np.ndarray, t: float) -> tuple[int, int]:
    return int((scores_m >= t).sum()), int((scores_n >= t).sum())


def empirical_epsilon(member_scores: np.ndarray, nonmember_scores: np.ndarray, delta: float,
                      confidence: float, seed: int) -> float:
    """A lower bound on epsilon, holding with probability `confidence`: the threshold is
    picked on a random half of each group, the rates are counted on the other half."""
    rng = np.random.default_rng(seed)
    pm, pn = rng.permutation(len(member_scores)), rng.permutation(len(nonmember_scores))
    hm, hn = len(pm) // 2, len(pn) // 2
    pick_m, pick_n = member_scores[pm[:hm]], nonmember_scores[pn[:hn]]
    test_m, test_n = member_scores[pm[hm:]], nonmember_scores[pn[hn:]]
    thresholds = np.unique(np.r_[pick_m, pick_n])
    if not len(thresholds):
        return 0.0
    # the threshold whose point estimate is highest on the picking half; an infinite estimate
    # (no false positive) is ranked by how many members it still catches
    def rank(t):
        tp, fp = _counts(pick_m, pick_n, t)
        return (_eps_at(tp, fp, len(pick_m), len(pick_n), delta, None), tp - fp)
    best = max(thresholds, key=rank)
    tp, fp = _counts(test_m, test_n, best)
    return _eps_at(tp, fp, len(test_m), len(test_n), delta, confidence)


@dataclass
class AttackResult:
    summary: dict            # JSON-ready
    fpr: np.ndarray          # ROC curve, for the figure
    tpr: np.ndarray


def evaluate_attack(member_scores, nonmember_scores, bootstrap: int, confidence: float, delta: float,
                    seed: int) -> AttackResult:
    """AUC and TPR at low FPR with percentile bootstrap intervals, and the epsilon lower bound."""
    m, n = np.asarray(member_scores, float), np.asarray(nonmember_scores, float)
    rng = np.random.default_rng(seed)
    boot = {"auc": []} | {f"tpr_at_{f:g}": [] for f in LOW_FPRS}
    for _ in range(bootstrap):
        bm, bn = m[rng.integers(len(m), size=len(m))], n[rng.integers(len(n), size=len(n))]
        boot["auc"].append(auc(bm, bn))
        for f in LOW_FPRS:
            boot[f"tpr_at_{f:g}"].append(tpr_at_fpr(bm, bn, f))
    point = {"auc": auc(m, n)} | {f"tpr_at_{f:g}": tpr_at_fpr(m, n, f) for f in LOW_FPRS}
    a = (1 - confidence) / 2
    summary = {"n_members": len(m), "n_nonmembers": len(n)}
    for key, value in point.items():
        lo, hi = np.quantile(boot[key], [a, 1 - a]) if bootstrap else (np.nan, np.nan)
        summary[key] = value
        summary[f"{key}_ci"] = [float(lo), float(hi)]
    summary["epsilon_lower_bound"] = empirical_epsilon(m, n, delta, confidence, seed)
    y = np.r_[np.ones(len(m)), np.zeros(len(n))]
    fpr, tpr, _ = roc_curve(y, np.r_[m, n])
    return AttackResult(summary, fpr, tpr)
