"""Can I release this? A verdict from utility and privacy together, each number in plain words.

The rules are the owner's policy, not something learnt from data: `report.release` in
params.yaml sets how far below the real baseline a synthetic set may fall and how many
near-copies of training images it may hold, beside what unseen real images show, and how
well the strongest membership-inference attack may do among those the release allows (its
images, its generator, the filter classifier shipped with it). The worst of them decides: a
useless set is not worth its privacy risk, and a useful set that copies or gives away its
training images is not the owner's to give away. The attack and the copy share are judged at
their point estimates and said with their intervals, and a bar inside an interval is named.
Privacy evidence that is missing forbids a release (nothing then shows the set is safe);
usefulness that is missing asks for care. The discriminator is never released, so what an
attack with it finds is said as what training remembers and decides nothing. A
differential-privacy budget, when the generator was trained with one, is stated as the one
formal guarantee.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

RELEASE, CARE, DO_NOT = "release", "release with care", "do not release"
ORDER = (RELEASE, CARE, DO_NOT)


@dataclass
class Verdict:
    decision: str
    reasons: list[str] = field(default_factory=list)

    def sentence(self) -> str:
        return f"{self.decision.capitalize()}: " + "; ".join(self.reasons) + "."  # decision: lower-case words


def _worse(a: str, b: str) -> str:
    return max(a, b, key=ORDER.index)


def gap_to_real(tstr: dict) -> tuple[float, float, float]:
    """Points the fake set's classifier scores below the real one's, with the bounds of the paired
    interval (tstr's vs_real) when it was measured; the point alone otherwise. Accuracies are counts
    over test images: rounding drops float noise, which made 0.961 - 0.941 "more than 2" points."""
    gap = round((tstr["acc_real"] - tstr["acc_fake"]) * 100, 9)
    low, high = tstr.get("vs_real_low"), tstr.get("vs_real_high")
    if not (isinstance(low, float) and isinstance(high, float)):
        return gap, gap, gap
    return gap, round(-high * 100, 9), round(-low * 100, 9)


def interval_words(low: float, high: float, confidence: float = 0.95) -> str:
    """A gap's interval in words: positive is below the real baseline."""
    def side(x: float) -> str:
        return f"{abs(x):.1f} {'below' if x >= 0 else 'above'}"
    return f"{confidence * 100:g} % interval: {side(low)} to {side(high)}"


def release_verdict(tstr: dict, memorisation: dict, rules, audit: dict | None = None,
                    trained: dict | None = None) -> Verdict:
    """`tstr`, `memorisation` and `audit` are the stages' metrics of one generator, `trained` its
    training metrics (the DP budget); `rules` is report.release. Each piece of evidence adds its
    reason; the verdict is the worst any of them allows."""
    reasons: list[str] = []
    decision = _worse(_usefulness(tstr, rules, reasons), _copies(memorisation, rules, reasons))
    decision = _worse(decision, _attack(audit or {}, rules, reasons))
    reasons.append(_dp_guarantee(trained or {}, audit or {}))
    return Verdict(decision, reasons)


def _usefulness(tstr: dict, rules, reasons: list[str]) -> str:
    if not (isinstance(tstr.get("acc_fake"), float) and isinstance(tstr.get("acc_real"), float)):
        reasons.append("its usefulness was not measured (no tstr metrics)")
        return CARE
    gap, gap_low, gap_high = gap_to_real(tstr)
    said = (f"a classifier trained only on its images scores {abs(gap):.1f} points "
            f"{'below' if gap >= 0 else 'above'} one trained on the real images")
    ranged = gap_low != gap_high
    if ranged:
        said += f" ({interval_words(gap_low, gap_high, tstr.get('interval_confidence', 0.95))})"
    if gap_high <= rules.gap_ok:
        reasons.append(f"{said}, within {rules.gap_ok:g}{' at either end' if ranged else ''}, so the images "
                       "teach nearly what the real ones do")
        return RELEASE
    if gap_low <= rules.gap_max:
        reasons.append(f"{said}, {'possibly ' if ranged and gap <= rules.gap_ok else ''}more than "
                       f"{rules.gap_ok:g}: tell users it teaches less than the real data")
        return CARE
    reasons.append(f"{said}, more than {rules.gap_max:g}{' at either end' if ranged else ''}: the images "
                   "would mislead whoever learns from them")
    return DO_NOT


def _copies(privacy: dict, rules, reasons: list[str]) -> str:
    share, floor = privacy.get("copy_share"), privacy.get("test_share")
    if not (isinstance(share, float) and isinstance(floor, float) and floor > 0):
        reasons.append("its copies were not measured (no privacy metrics): nothing shows that it does not "
                       "reproduce training images")
        return DO_NOT
    ratio = share / floor
    interval, straddle = _copies_noise(privacy, rules)
    said = (f"{share:.1%}{interval} of its images lie closer to a training image than most unseen real images do "
            f"({floor:.1%} of unseen real images do{straddle})")
    if ratio <= rules.copies_ok:
        reasons.append(f"{said}: no sign that it copies its training images")
        return RELEASE
    if ratio <= rules.copies_max:
        reasons.append(f"{said}: look at its nearest-neighbour panels for copies before handing it over")
        return CARE
    reasons.append(f"{said}, over {rules.copies_max:g} times as many: it reproduces training images")
    return DO_NOT


def _copies_noise(privacy: dict, rules) -> tuple[str, str]:
    """The copy share's interval (memorisation's bootstrap over the generated images and the test images
    that set the threshold), and, where its ratio to unseen images' share spans one of the policy's bars,
    that this part of the verdict rests on the point estimate, as the attack's does."""
    low, high = privacy.get("copy_share_low"), privacy.get("copy_share_high")
    if not (isinstance(low, float) and isinstance(high, float)):
        return "", ""
    interval = f" ({privacy.get('interval_confidence', 0.95):.0%} interval {low:.1%} to {high:.1%})"
    r_low, r_high = privacy.get("copy_ratio_low"), privacy.get("copy_ratio_high")
    if not (isinstance(r_low, float) and isinstance(r_high, float)):
        return interval, ""
    inside = _bars_inside(r_low, r_high, [(rules.copies_ok, f"{rules.copies_ok:g}x, `copies_ok`"),
                                          (rules.copies_max, f"{rules.copies_max:g}x, `copies_max`")])
    if inside is None:
        return interval, ""
    bars, side = inside
    return interval, (f"; {r_low:.2g} to {r_high:.2g} times their share, which spans the policy's {bars}: this part "
                      f"of the verdict rests on the point estimate, and other draws could fall on {side}")


def _bars_inside(low: float, high: float, bars: list[tuple[float, str]]) -> tuple[str, str] | None:
    """The policy's bars (value, words) inside [low, high), in words, and the side another measurement could
    fall on; None where the interval holds none."""
    spanned = [words for value, words in bars if low <= value < high]
    if not spanned:
        return None
    if len(spanned) == 1:
        return f"bar of {spanned[0]}", "the other side"
    return f"bars of {spanned[0]} and {spanned[1]}", "either side"


def _dp_guarantee(trained: dict, audit: dict) -> str:
    """What differential privacy promises (it changes no verdict: the attacks and the policy do)."""
    epsilon, bound = trained.get("dp_epsilon"), audit.get("epsilon_lower_bound")
    if not isinstance(epsilon, (int, float)):
        return ("no differential-privacy guarantee: the attacks above are evidence, not proof, that an "
                "attacker cannot learn whether an image was in the training set")
    said = (f"trained with differential privacy (epsilon {epsilon:.3g}, delta {trained.get('dp_delta', 0):.0e}): "
            f"whatever an attacker does, one image's presence changes the odds of any conclusion about it by at "
            f"most a factor of {min(math.exp(epsilon), 1e9):.3g}")
    if isinstance(bound, float) and bound > 0:
        said += (f"; the audit's attacks prove epsilon of at least {bound:.2f}, "
                 + ("within that budget" if bound <= epsilon else "MORE than the budget: check the training"))
    return said


SHORT_NAMES = {"gan_leaks": "GAN-Leaks", "gan_leaks_g": "GAN-Leaks with G", "logan": "LOGAN",
               "loss": "the loss attack", "filter_loss": "the loss attack on the filter",
               "filter_calibrated": "the calibrated loss attack on the filter"}
LONG_NAMES = {"gan_leaks": "GAN-Leaks, from the released images",
              "gan_leaks_g": "GAN-Leaks, with the released generator",
              "loss": "the denoising-loss attack, with the released diffusion model",
              "filter_loss": "the loss attack, with the released filter classifier",
              "filter_calibrated": "the loss attack, with the released filter classifier, calibrated by reference "
                                   "filters trained without the candidates",
              "logan": "LOGAN, with the discriminator"}


def _interval(bounds) -> tuple[float | None, float | None]:
    if isinstance(bounds, (list, tuple)) and len(bounds) == 2 and all(isinstance(b, (int, float)) for b in bounds):
        return float(bounds[0]), float(bounds[1])
    return None, None


def _control(attack: dict) -> str:
    """What the same attack makes of two sets of unseen images (validation against test). Where it
    scores them apart about as well as it scores members against test images (the control's point
    inside the attack's interval), its AUC above 0.5 shows how the test split differs, not membership."""
    control = attack.get("control_auc")
    if not isinstance(control, float):
        return ""
    c_low, c_high = _interval(attack.get("control_auc_ci"))
    said = f"; between validation and test images, neither learned from, it scores AUC {control:.3f}"
    said += f" [{c_low:.3f}, {c_high:.3f}]" if c_low is not None else ""
    low, high = _interval(attack.get("auc_ci"))
    if low is not None and low <= control <= high:
        said += (", inside the interval of its AUC on the members: two sets of unseen images are told apart "
                 "as well, so that AUC is no sign of membership")
    return said


def _straddled(low: float | None, high: float | None, rules) -> str:
    """The attack's verdict reads its point estimate (an interval-wide rule would forbid 'release' at
    any audit size a test split allows); where the interval spans one of the policy's bars, the
    verdict says that another audit of the same generator could fall on the other side (either side, where
    it spans both bars)."""
    inside = None if low is None else _bars_inside(
        low, high, [(multiple * 0.01, f"{multiple * 0.01:.0%}, `{key}`")
                    for multiple, key in ((rules.attack_ok, "attack_ok"), (rules.attack_max, "attack_max"))])
    if inside is None:
        return ""
    bars, side = inside
    return (f" (the interval spans the policy's {bars}: this part of the verdict rests on the point estimate, "
            f"and a second audit could fall on {side})")


def _attack(audit: dict, rules, reasons: list[str]) -> str:
    """The strongest attack the release allows (the audit's top-level numbers): members found at
    1 % false alarms, against the 1 % of chance. Attacks that need what is never released (the
    discriminator) are said as what training remembers and decide nothing."""
    tpr = audit.get("tpr_at_0.01")
    if not isinstance(tpr, float):
        reasons.append("no membership-inference audit was run: nothing shows that an attacker cannot tell who "
                       "was in the training set")
        return DO_NOT
    name = LONG_NAMES.get(audit.get("strongest"), audit.get("strongest", "the strongest attack"))
    who = f"against {audit['threat_model']}, " if audit.get("threat_model") else ""
    low, high = _interval(audit.get("tpr_at_0.01_ci"))
    ranged = f", {audit.get('confidence', 0.95):.0%} interval {low:.1%} to {high:.1%}" if low is not None else ""
    said = (f"{who}the strongest membership attack the release allows ({name}) picks out {tpr:.1%} of training "
            f"images{ranged} while wrongly accusing 1 % of unseen ones (chance: 1 %; AUC "
            f"{audit.get('auc', float('nan')):.3f})")
    bound = audit.get("epsilon_lower_bound")
    if isinstance(bound, float) and bound > 0:
        said += (f"; only training with a privacy budget of epsilon {bound:.2f} or more could let an attack succeed "
                 f"this well ({audit.get('confidence', 0.95):.0%} confidence)")
    attacks = audit.get("attacks", {})
    released = {k: a for k, a in attacks.items() if a.get("released", True)}
    ratio = tpr / 0.01
    if ratio <= rules.attack_ok:
        above = [(a["auc"], k) for k, a in released.items() if a.get("auc_ci", [0])[0] > 0.5]
        if above:
            best_auc, which = max(above)
            said += (f": it singles out no more training images than chance, though on average "
                     f"{SHORT_NAMES.get(which, which)} scores training images higher than unseen ones "
                     f"more often than guessing would (AUC {best_auc:.3f}, interval above 0.5)")
            said += _control(released[which])
        else:
            said += ": no sign that an attacker can tell who was in the training set"
        decision = RELEASE
    elif ratio <= rules.attack_max:
        said += ": some training images are recognisable; weigh what membership reveals"
        decision = CARE
    else:
        said += f", over {rules.attack_max:g} times chance: membership in the training set leaks"
        decision = DO_NOT
    said += _straddled(low, high, rules)
    reasons.append(said)
    for k, a in attacks.items():
        if not a.get("released", True) and isinstance(a.get("tpr_at_0.01"), float):
            reasons.append(f"what training remembers, were the discriminator ever shared (it is not released): "
                           f"{LONG_NAMES.get(k, k)} would pick out {a['tpr_at_0.01']:.1%} of training images at "
                           f"1 % false alarms (AUC {a['auc']:.3f}); this does not decide the verdict")
    return decision
