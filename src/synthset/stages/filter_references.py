"""Stage filter_references: the filter classifier's recipe trained evaluate.audit_references times
on the train images that are none of the audit's candidates, and each one's score of every candidate.

The audit's loss attack asks how confident the released filter is in a candidate's label. Some
images are easy for any classifier of their class, so confidence alone mixes membership with
difficulty. Subtracting what filters that never saw the candidate say (Watson et al. 2022; offline
LiRA's reference models, Carlini et al. 2022) leaves what the filter learned from that image: on the
default digits' filter the loss attack's AUC was 0.528 [0.502, 0.554] and the calibrated one's 0.569
[0.545, 0.590] (docs/privacy.md). The filter and the candidates are the same for every generator, so
the references are trained once per run, here, not in each generator's audit.

With sample.keep: all (no filter is released) or evaluate.audit_references: 0, nothing is trained
and the file holds no reference. It does not ask which generators are DP (their images are never
filtered), so that changing a GAN's settings never retrains it; a run of DP generators alone can set
audit_references to 0."""
import time

import numpy as np

from ..classify import fit_recipe
from ..device import resolve_device, seed_everything
from ..imagesets import ImageSet
from ..metrics.audit import audit_sets, classifier_loss_scores, outside, save_references
from ..resumable import resumable
from . import _cli


def main(ns, params):
    c, e = params.classify, params.evaluate
    seed_everything(c.seed, params.threads)
    device = resolve_device(params.device)
    train, val, test = (ImageSet.load(path) for path in (ns.train, ns.val, ns.test))
    sets = audit_sets(len(train), len(val), len(test), e.audit_candidates, e.seed)
    candidates = sets.images(train, val, test)
    count = e.audit_references if params.sample.keep == "agreeing" else 0
    pool = train.subset(outside(len(train), sets.members))
    if count and len(pool) < train.num_classes:
        raise ValueError(f"every train image is a member candidate ({len(train)} train, {len(test)} test images): "
                         "no reference filter can be trained without one; set evaluate.audit_candidates below "
                         f"{len(train)} or evaluate.audit_references to 0")
    scores = {name: np.empty((count, len(s))) for name, s in candidates.items()}
    started = time.perf_counter()
    for k in range(count):
        recipe = c.model_copy(update={"seed": c.seed + 1 + k})  # the filter's own seed is c.seed
        reference = fit_recipe(pool, recipe, device, desc=f"reference filter {k + 1}/{count}")
        for name, s in candidates.items():
            scores[name][k] = classifier_loss_scores(reference, s.images, s.labels, device)
    save_references(ns.out, sets, scores)
    print(f"{count} reference filters ({c.model}, {len(pool)} train images, none a candidate) in "
          f"{time.perf_counter() - started:.0f} s" if count else
          "no reference filter: sample.keep is all (no filter is released) or evaluate.audit_references is 0")


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    p.add_argument("--train", required=True)
    p.add_argument("--val", required=True)
    p.add_argument("--test", required=True)
    p.add_argument("--out", required=True, help="npz of the candidates' rows and every reference's score of each")
    _cli.run(resumable(main), p)
