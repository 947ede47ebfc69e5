"""Stage sample@arch: N images per class from a trained generator, as samples.npz.

With `sample.keep: agreeing` only images the filter classifier (trained on the train split)
reads as their class are kept, drawn until every class has N; --stats records the share kept.
With `sample.label_temperature` each kept image also carries the filter's probabilities.
A generator trained with differential privacy is never filtered (filtering.keep_for). The grid
a reader looks at is drawn by the report stage, so changing its size re-samples nothing."""
from pathlib import Path

from ..classify.load import load_classifier
from ..device import resolve_device, use_threads
from ..files import write_json
from ..filtering import DP_KEEP_REASON, keep_for, temperature_for
from ..sampling import sample_kept
from ..train.checkpoint import load_generator
from . import _cli


def main(ns, params):
    s = params.sample
    use_threads(params.threads)
    device = resolve_device(params.device)
    generator, spec = load_generator(ns.model, device)
    keep = keep_for(s.keep, spec)
    judge = load_classifier(ns.filter, device) if keep == "agreeing" else None
    temperature = temperature_for(keep, s.label_temperature)
    fake, stats = sample_kept(generator, spec["class_names"], s.per_class, s.seed, keep, judge, temperature)
    fake.save(Path(ns.out))
    why = {"unfiltered_because": DP_KEEP_REASON} if keep != s.keep else {}
    write_json(ns.stats, {"keep": keep, **why, **stats, "label_temperature": temperature})
    print(f"{ns.arch}: {len(fake)} images; the filter kept {stats['kept_share']:.1%} of {stats['drawn']} draws")


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    p.add_argument("--arch", required=True)
    p.add_argument("--model", required=True, help="train_gan's model folder")
    p.add_argument("--filter", required=True, help="train_classifier's filter folder (used with sample.keep: agreeing)")
    p.add_argument("--out", required=True, help="the samples.npz to write")
    p.add_argument("--stats", required=True, help="JSON of the share of draws the filter kept")
    _cli.run(main, p)
