"""Can I release this? A verdict from utility and privacy together, each number in plain words.

The rules are the owner's policy, not something learnt from data: `report.release` in
params.yaml sets how far below the real baseline a synthetic set may fall and how many
near-copies of training images it may hold, beside what unseen real images show. The
worse of the two decides: a useless set is not worth its privacy risk, and a useful set
that copies its training images is not the owner's to give away.
"""
from __future__ import annotations

from dataclasses import dataclass, field

RELEASE, CARE, DO_NOT = "release", "release with care", "do not release"
ORDER = (RELEASE, CARE, DO_NOT)


@dataclass
class Verdict:
    decision: str
    reasons: list[str] = field(default_factory=list)

    def sentence(self) -> str:
        return f"{self.decision.capitalize()}: " + "; ".join(self.reasons) + "."


def _worse(a: str, b: str) -> str:
    return max(a, b, key=ORDER.index)


def release_verdict(tstr: dict, privacy: dict, rules) -> Verdict:
    """`tstr` and `privacy` are the stages' metrics of one generator; `rules` is report.release."""
    decision, reasons = RELEASE, []
    if isinstance(tstr.get("acc_fake"), float) and isinstance(tstr.get("acc_real"), float):
        gap = (tstr["acc_real"] - tstr["acc_fake"]) * 100
        where = f"{abs(gap):.1f} points {'below' if gap >= 0 else 'above'}"
        if gap <= rules.gap_ok:
            reasons.append(f"a classifier trained only on its images scores {where} one trained on the real "
                           f"images, so the images teach nearly what the real ones do")
        elif gap <= rules.gap_max:
            decision = _worse(decision, CARE)
            reasons.append(f"a classifier trained only on its images scores {where} one trained on the real "
                           f"images (more than {rules.gap_ok:g}): tell users it teaches less than the real data")
        else:
            decision = _worse(decision, DO_NOT)
            reasons.append(f"a classifier trained only on its images scores {where} one trained on the real "
                           f"images (more than {rules.gap_max:g}): the images would mislead whoever learns from them")
    else:
        decision = _worse(decision, CARE)
        reasons.append("its usefulness was not measured (no tstr metrics)")
    share, floor = privacy.get("copy_share"), privacy.get("test_share")
    if isinstance(share, float) and isinstance(floor, float) and floor > 0:
        ratio = share / floor
        said = (f"{share:.1%} of its images lie closer to a training image than most unseen real images do "
                f"({floor:.1%} of unseen real images do)")
        if ratio <= rules.copies_ok:
            reasons.append(f"{said}: no sign that it copies its training images")
        elif ratio <= rules.copies_max:
            decision = _worse(decision, CARE)
            reasons.append(f"{said}: look at its nearest-neighbour panels for copies before handing it over")
        else:
            decision = _worse(decision, DO_NOT)
            reasons.append(f"{said}, over {rules.copies_max:g} times as many: it reproduces training images")
    else:
        decision = _worse(decision, CARE)
        reasons.append("its copies were not measured (no privacy metrics)")
    reasons.append("no differential-privacy guarantee: an attacker may still learn whether an image was in the "
                   "training set")
    return Verdict(decision, reasons)
