""""Can I release this?" is a verdict from utility and privacy together, worst of the two."""
import pytest

from conftest import shipped
from synthset.verdict import CARE, DO_NOT, RELEASE, release_verdict

RULES = shipped().report.release  # gap 2 / 5 points, copies 1x / 2x unseen real images', attacks 2x / 5x chance


def verdict(acc_fake, copy_share, acc_real=0.96, test_share=0.05, tpr=0.012, trained=None):
    return release_verdict({"acc_fake": acc_fake, "acc_real": acc_real},
                           {"copy_share": copy_share, "test_share": test_share}, RULES,
                           {"tpr_at_0.01": tpr, "auc": 0.51, "strongest": "gan_leaks_g"}, trained)


@pytest.mark.parametrize("acc_fake, copy_share, decision", [
    (0.95, 0.02, RELEASE),     # 1 point below real, fewer near-copies than unseen real images show
    (0.93, 0.02, CARE),        # 3 points below
    (0.85, 0.02, DO_NOT),      # 11 points below: useless, whatever its privacy
    (0.95, 0.08, CARE),        # useful, but 1.6x the near-copies of unseen real images
    (0.95, 0.30, DO_NOT),      # useful, but it reproduces training images
    (0.97, 0.01, RELEASE),     # above real
])
def test_the_worse_of_utility_and_privacy_decides(acc_fake, copy_share, decision):
    assert verdict(acc_fake, copy_share).decision == decision


@pytest.mark.parametrize("acc_real, acc_fake", [(0.961, 0.941), (0.96, 0.94), (0.933, 0.913), (0.9422, 0.9222)])
def test_a_gap_of_exactly_the_threshold_is_within_it(acc_real, acc_fake):
    """sngan on the default digits: 96.1 against 94.1 %, two points, was judged 'more than 2'."""
    assert verdict(acc_fake, 0.02, acc_real=acc_real).decision == RELEASE


@pytest.mark.parametrize("gap, low, high, decision", [
    (1.0, 0.2, 1.8, RELEASE),   # within 2 points at either end of the interval
    (1.0, -0.4, 2.4, CARE),     # the point is within 2, the interval is not: possibly more than 2
    (0.0, -1.0, 1.0, RELEASE),  # a tie with real
    (6.0, 4.5, 7.5, CARE),      # beyond 5 at the point, not at the interval's near end
    (6.0, 5.5, 7.0, DO_NOT),    # beyond 5 at either end
])
def test_the_gap_is_judged_by_its_interval(gap, low, high, decision):
    """tstr's vs_real is fake minus real, in accuracy: the gap's bounds are its negated bounds."""
    tstr = {"acc_real": 0.96, "acc_fake": 0.96 - gap / 100, "vs_real_low": -high / 100, "vs_real_high": -low / 100,
            "interval_confidence": 0.95}
    v = release_verdict(tstr, {"copy_share": 0.02, "test_share": 0.05}, RULES,
                        {"tpr_at_0.01": 0.012, "auc": 0.51, "strongest": "gan_leaks_g"})
    assert v.decision == decision
    assert f"95 % interval: {abs(low):.1f} {'below' if low >= 0 else 'above'} to {high:.1f} below" in v.sentence()
    if decision == CARE and gap < 2:
        assert "possibly more than 2" in v.sentence()


def test_each_number_is_said_in_words():
    v = verdict(0.85, 0.30)
    text = v.sentence()
    assert text.startswith("Do not release: ")
    assert "11.0 points below one trained on the real images, more than 5: the images would mislead" in text
    assert "30.0% of its images lie closer to a training image" in text and "(5.0% of unseen real images do)" in text
    assert "no differential-privacy guarantee" in text
    assert "above one trained on the real images" in verdict(0.97, 0.01).sentence()


@pytest.mark.parametrize("tpr, decision", [(0.015, RELEASE), (0.03, CARE), (0.20, DO_NOT)])
def test_a_membership_attack_that_beats_chance_holds_the_release_back(tpr, decision):
    v = verdict(0.95, 0.02, tpr=tpr)
    assert v.decision == decision
    assert f"picks out {tpr:.1%} of training images while wrongly accusing 1 % of unseen ones" in v.sentence()
    assert "the strongest membership attack the release allows (GAN-Leaks, with the released generator)" in v.sentence()


def test_the_discriminator_which_is_never_released_does_not_decide():
    """LOGAN needs the discriminator: what it finds is said as what training remembers, and a
    release of the generator alone is judged on the attacks its holder can run."""
    audit = {"tpr_at_0.01": 0.012, "auc": 0.52, "strongest": "gan_leaks_g",
             "threat_model": "an attacker who holds the release",
             "attacks": {"gan_leaks": {"auc": 0.50, "auc_ci": [0.47, 0.53], "tpr_at_0.01": 0.01, "released": True},
                         "gan_leaks_g": {"auc": 0.52, "auc_ci": [0.49, 0.55], "tpr_at_0.01": 0.012, "released": True},
                         "logan": {"auc": 0.92, "auc_ci": [0.90, 0.94], "tpr_at_0.01": 0.23, "released": False}}}
    v = release_verdict({"acc_fake": 0.95, "acc_real": 0.96}, {"copy_share": 0.02, "test_share": 0.05}, RULES, audit)
    assert v.decision == RELEASE
    text = v.sentence()
    assert "against an attacker who holds the release, the strongest membership attack the release allows" in text
    assert "no sign that an attacker can tell who was in the training set" in text  # LOGAN's AUC is not the release's
    assert ("were the discriminator ever shared (it is not released): LOGAN, with the discriminator would pick out "
            "23.0% of training images") in text and "this does not decide the verdict" in text


def test_an_attack_better_than_guessing_on_average_is_said_even_when_it_singles_out_no_one():
    audit = {"tpr_at_0.01": 0.011, "auc": 0.62, "strongest": "gan_leaks_g",
             "attacks": {"gan_leaks_g": {"auc": 0.62, "auc_ci": [0.60, 0.65]},
                         "gan_leaks": {"auc": 0.52, "auc_ci": [0.49, 0.55]}}}
    v = release_verdict({"acc_fake": 0.95, "acc_real": 0.96}, {"copy_share": 0.02, "test_share": 0.05}, RULES, audit)
    assert v.decision == RELEASE
    assert "singles out no more training images than chance" in v.sentence() and "(AUC 0.620, interval above 0.5)" in v.sentence()
    assert "GAN-Leaks with G scores training images higher" in v.sentence()


@pytest.mark.parametrize("control, ci, cleared", [
    (0.518, [0.482, 0.545], True),   # dpmerf on the digits, measured: the test split, not the members
    (0.499, [0.461, 0.537], False),  # the digits' filter: unseen sets agree, the members stand out
])
def test_the_control_says_whether_an_auc_above_chance_is_the_split(control, ci, cleared):
    attack = {"auc": 0.524, "auc_ci": [0.502, 0.545], "control_auc": control, "control_auc_ci": ci}
    audit = {"tpr_at_0.01": 0.012, "auc": 0.524, "strongest": "gan_leaks_g", "attacks": {"gan_leaks_g": attack}}
    v = release_verdict({"acc_fake": 0.95, "acc_real": 0.96}, {"copy_share": 0.02, "test_share": 0.05}, RULES, audit)
    assert v.decision == RELEASE  # the control explains the AUC; it never moves the decision
    assert f"neither learned from, it scores AUC {control:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]" in v.sentence()
    assert ("so that AUC is no sign of membership" in v.sentence()) == cleared


def test_a_dp_budget_is_stated_as_the_guarantee():
    v = release_verdict({"acc_fake": 0.95, "acc_real": 0.96}, {"copy_share": 0.02, "test_share": 0.05}, RULES,
                        {"tpr_at_0.01": 0.012, "auc": 0.5, "strongest": "gan_leaks", "epsilon_lower_bound": 0.4},
                        {"dp_epsilon": 2.0, "dp_delta": 1e-5})
    assert "trained with differential privacy (epsilon 2, delta 1e-05)" in v.sentence()
    assert "only training with a privacy budget of epsilon 0.40 or more" in v.sentence()
    assert "the audit's attacks prove epsilon of at least 0.40, within that budget" in v.sentence()
    assert "by at most a factor of 7.39" in v.sentence()  # e^2
    assert "no differential-privacy guarantee" not in v.sentence()


def test_unmeasured_evidence_is_no_reason_to_release():
    """Missing privacy evidence (copies, attacks) forbids a release: nothing shows the set is safe. Missing
    usefulness alone asks for care: a set that teaches nothing is not a privacy risk."""
    v = release_verdict({}, {}, RULES)
    assert v.decision == DO_NOT and "not measured" in v.sentence() and "no membership-inference audit" in v.sentence()
    useful = {"acc_fake": 0.95, "acc_real": 0.95}
    safe_copies, safe_attack = {"copy_share": 0.04, "test_share": 0.05}, {"tpr_at_0.01": 0.01, "auc": 0.5}
    assert release_verdict(useful, safe_copies, RULES, safe_attack).decision == RELEASE
    assert release_verdict(useful, {}, RULES, safe_attack).decision == DO_NOT
    assert release_verdict(useful, safe_copies, RULES, {}).decision == DO_NOT
    assert release_verdict({}, safe_copies, RULES, safe_attack).decision == CARE


def test_rules_must_be_ordered():
    from synthset.params import ParamsError

    with pytest.raises(ParamsError, match="gap_ok must not exceed gap_max"):
        shipped({"report": {"release": {"gap_ok": 6.0}}})


@pytest.mark.parametrize("tpr, ci, decision, spans", [
    (0.022, [0.013, 0.035], CARE, "2%, `attack_ok`"),     # dcgan on the default digits: the filter's loss attack
    (0.018, [0.009, 0.031], RELEASE, "2%, `attack_ok`"),  # the same spread just under the bar
    (0.045, [0.030, 0.062], CARE, "5%, `attack_max`"),
    (0.012, [0.005, 0.019], RELEASE, None),              # wholly under attack_ok
    (0.030, [0.021, 0.041], CARE, None),                 # wholly between the bars
    # the default digits' calibrated attack on the filter: either bar could fall either way
    (0.031, [0.018, 0.051], CARE, "2%, `attack_ok` and 5%, `attack_max`"),
])
def test_the_attacks_interval_is_said_and_a_bar_inside_it_is_named(tpr, ci, decision, spans):
    """The verdict reads the attack's point estimate; its interval is said beside it, and where the
    interval holds one of the policy's bars the verdict says it could fall either side."""
    audit = {"tpr_at_0.01": tpr, "tpr_at_0.01_ci": ci, "confidence": 0.95, "auc": 0.52, "strongest": "filter_loss"}
    v = release_verdict({"acc_fake": 0.95, "acc_real": 0.96}, {"copy_share": 0.02, "test_share": 0.05}, RULES, audit)
    assert v.decision == decision
    text = v.sentence()
    assert f"picks out {tpr:.1%} of training images, 95% interval {ci[0]:.1%} to {ci[1]:.1%} while" in text
    if spans:
        bars = "bars" if "attack_max" in spans and "attack_ok" in spans else "bar"
        assert f"the interval spans the policy's {bars} of {spans}" in text and "a second audit could fall" in text
        assert ("either side" in text) == (bars == "bars")
    else:
        assert "spans the policy's bar" not in text


@pytest.mark.parametrize("share, low, high, r_low, r_high, decision, spans", [
    (0.092, 0.060, 0.140, 1.3, 2.5, CARE, "2x, `copies_max`"),  # sngan at 64 px on the vehicles: 9.2 % against 5.0
    (0.042, 0.026, 0.062, 0.6, 1.4, RELEASE, "1x, `copies_ok`"),
    (0.060, 0.040, 0.110, 0.9, 2.2, CARE, "1x, `copies_ok` and 2x, `copies_max`"),
    (0.011, 0.007, 0.016, 0.15, 0.35, RELEASE, None),  # the default digits' sngan: wholly under copies_ok
])
def test_the_copy_shares_interval_is_said_and_a_bar_inside_it_is_named(share, low, high, r_low, r_high, decision,
                                                                        spans):
    """Like the attack's, the copies' part of the verdict reads the point estimate; the interval is said
    beside it, and a policy bar inside its ratio's interval is named."""
    copies = {"copy_share": share, "test_share": 0.05, "copy_share_low": low, "copy_share_high": high,
              "copy_ratio_low": r_low, "copy_ratio_high": r_high, "interval_confidence": 0.95}
    v = release_verdict({"acc_fake": 0.95, "acc_real": 0.96}, copies, RULES,
                        {"tpr_at_0.01": 0.012, "auc": 0.51, "strongest": "gan_leaks_g"})
    assert v.decision == decision
    text = v.sentence()
    assert f"{share:.1%} (95% interval {low:.1%} to {high:.1%}) of its images lie closer" in text
    if spans:
        assert f"which spans the policy's {'bars' if ' and ' in spans else 'bar'} of {spans}" in text
        assert ("either side" in text) == (" and " in spans)
    else:
        assert "spans the policy's bar" not in text
