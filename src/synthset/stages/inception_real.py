"""Stage inception_real: FID's Inception features of the real train and test splits, once.

Every generator's fidelity stage and the PCA baseline compare their images with these when
evaluate.features is inception or evaluate.fid_inception is on. The network reads a few images
a second on a CPU core, and each of those stages had spent as long on the real photos as on its
own. When no setting asks for Inception the file holds no features and the network is not loaded.
"""
from ..device import resolve_device, seed_everything
from ..imagesets import ImageSet
from ..metrics.features import RealInception, inception_needed
from ..metrics.fidelity import InceptionExtractor
from ..resumable import resumable
from . import _cli


def main(ns, params):
    e = params.evaluate
    if not inception_needed(e):
        RealInception.unmeasured().save(ns.out)
        print("inception_real: nothing to compute (evaluate.features is not inception, evaluate.fid_inception is off)")
        return
    seed_everything(e.seed, params.threads)
    device = resolve_device(params.device)
    train, test = ImageSet.load(ns.train), ImageSet.load(ns.test)
    real = RealInception.compute(InceptionExtractor(e.inception_path, device), train.images, test.images)
    real.save(ns.out)
    print(f"inception_real: {len(real.train)} train and {len(real.test)} test images in {real.seconds:.0f} s "
          f"({(len(real.train) + len(real.test)) / real.seconds:.1f} images a second)")


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    p.add_argument("--train", required=True, help="real train split")
    p.add_argument("--test", required=True, help="real test split")
    p.add_argument("--out", required=True, help="the features' .npz")
    _cli.run(resumable(main), p)
