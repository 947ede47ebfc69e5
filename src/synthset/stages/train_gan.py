"""Stage train_gan@arch: train one architecture on the real train split only."""
from ..device import resolve_device, seed_everything
from ..io import ImageSet
from ..train.checkpoint import save_model
from ..train.logging import TrainLog
from ..train.per_class import train_per_class
from . import _cli


def main(ns, params):
    arch_params = params.arch(ns.arch)
    seed_everything(params.gan.seed, params.threads)
    device = resolve_device(params.device)
    train = ImageSet.load(ns.train)
    log = TrainLog(ns.live, ns.figures, train.num_classes)
    model = train_per_class(train, arch_params, device, params.gan.seed, log)
    save_model(ns.model, ns.arch, model, train, arch_params)
    log.finish({"train_seconds": log.elapsed()})


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    p.add_argument("--arch", required=True)
    p.add_argument("--train", required=True, help="preprocessed train.npz")
    p.add_argument("--model", required=True, help="folder for the generator weights and its spec")
    p.add_argument("--live", required=True, help="dvclive folder for per-step metrics")
    p.add_argument("--figures", required=True, help="folder for per-epoch progress grids")
    _cli.run(main, p)
