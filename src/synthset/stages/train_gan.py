"""Stage train_gan@arch: train one architecture on the real train split only (a GAN, the
diffusion baseline `ddpm` or the DP baseline `dpmerf`, which have no discriminator to keep).

Re-running after an interruption resumes from the last checkpoint in --checkpoints
(kept outside the DVC/Snakemake outputs so that neither runner deletes it first).
"""
import sys

from ..device import resolve_device, seed_everything
from ..imagesets import ImageSet
from ..models.factory import generator_spec
from ..params import DIFFUSION_ARCHS, MERF_ARCHS
from ..train.checkpoint import Checkpointer, run_key, save_discriminators, save_model
from ..train.diffusion import train_diffusion
from ..train.dp import privacy_card, privacy_spent
from ..train.loop import train_gan
from ..train.merf import train_merf
from ..train.trainlog import TrainLog
from . import _cli


def main(ns, params):
    arch_params = params.arch(ns.arch)
    seed_everything(params.gan.seed, params.threads)
    device = resolve_device(params.device)
    train = ImageSet.load(ns.train)
    checkpoints = Checkpointer(ns.checkpoints, run_key(ns.arch, arch_params, params.gan.seed, train))
    resume = checkpoints.restore_logs(ns.live, ns.figures)
    if resume:  # in the stage's log, so that a rerun after a crash or a scancel says it went on
        print(f"{ns.arch}: resuming from the checkpoint of epoch {checkpoints.latest_epoch()}", file=sys.stderr)
    log = TrainLog(ns.live, ns.figures, train.num_classes, resume=resume)
    if ns.arch in DIFFUSION_ARCHS:
        model = train_diffusion(ns.arch, train, arch_params, device, params.gan.seed, log, checkpoints)
        save_model(ns.model, generator_spec(ns.arch, train, arch_params), model)
        log.finish({"train_seconds": log.elapsed()})
        checkpoints.clear()
        return
    if ns.arch in MERF_ARCHS:
        generator, embedding = train_merf(ns.arch, train, arch_params, device, params.gan.seed, log, checkpoints)
        save_model(ns.model, generator_spec(ns.arch, train, arch_params, embedding.card(arch_params.epsilon)),
                   generator)
        log.finish({"train_seconds": log.elapsed(), **embedding.spent(), "mmd_noise_floor": embedding.noise_floor})
        checkpoints.clear()
        return
    trained = []  # the last epoch's discriminators, for the white-box membership audit
    private = {}  # a DP run's privacy spent (dp_epsilon, ...): metrics and the generator's spec

    def keep_discriminators(epoch, units):
        if epoch == arch_params.epochs:
            trained[:] = [u.d for u in units]
            private.update(metrics=privacy_spent(units), card=privacy_card(units))

    generator = train_gan(ns.arch, train, arch_params, device, params.gan.seed, log, checkpoints,
                          on_epoch=keep_discriminators)
    save_model(ns.model, generator_spec(ns.arch, train, arch_params, private.get("card")), generator)
    save_discriminators(ns.model, trained)
    log.finish({"train_seconds": log.elapsed(), **private.get("metrics", {})})
    checkpoints.clear()


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    p.add_argument("--arch", required=True)
    p.add_argument("--train", required=True, help="preprocessed train.npz")
    p.add_argument("--model", required=True, help="folder for the generator weights and its spec")
    p.add_argument("--live", required=True, help="dvclive folder for per-step metrics")
    p.add_argument("--figures", required=True, help="folder for per-epoch progress grids")
    p.add_argument("--checkpoints", required=True, help="folder for resumable checkpoints (deleted on success)")
    _cli.run(main, p)
