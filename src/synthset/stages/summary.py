"""Stage summary: the key numbers of every generator and the real baseline, each generator's
paired difference to the PCA sample baseline and its release verdict, in one metrics file."""
from ..files import write_json
from ..summary import summarize
from . import _cli


def main(ns, params):
    write_json(ns.out, summarize(ns.results, params.gan.archs, params.pca.modes, params.report.release,
                               params.evaluate))


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    p.add_argument("--results", required=True, help="the results folder the stages wrote")
    p.add_argument("--out", required=True, help="the summary metrics JSON")
    _cli.run(main, p)
