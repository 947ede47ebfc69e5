"""Bootstrap intervals on accuracies and paired differences (synthset.intervals)."""
import numpy as np
import pytest

from synthset.files import write_json
from synthset.intervals import ANSWER_SETS, ANSWERS, Interval, accuracy_interval, as_table, paired_difference
from synthset.summary import price_of_privacy, versus_pca

from conftest import shipped


def simulated_answers(rng, accuracy: float, images: int, seeds: int = 1, seed_spread: float = 0.0) -> np.ndarray:
    """A classifier of known accuracy: each seed's own accuracy drawn around it, each image
    answered right with that probability."""
    per_seed = np.clip(accuracy + rng.normal(0, seed_spread, seeds), 0, 1)
    return rng.random((seeds, images)) < per_seed[:, None]


@pytest.mark.parametrize("seeds, seed_spread", [(1, 0.0), (3, 0.01)])
def test_interval_covers_the_true_accuracy_at_about_its_nominal_rate(seeds, seed_spread):
    rng = np.random.default_rng(0)
    truth, trials = 0.9, 200
    covered = sum(accuracy_interval(simulated_answers(rng, truth, 400, seeds, seed_spread), 400, 0.95, t).covers(truth)
                  for t in range(trials))
    # 95 % nominal; the percentile bootstrap runs a little short on small samples, and the seed
    # resampling of 3 seeds even more so: 200 trials put 95 % coverage at 190 +- 3
    assert 0.86 * trials <= covered <= 0.995 * trials, covered


def test_interval_narrows_with_more_test_images():
    rng = np.random.default_rng(1)
    small = accuracy_interval(simulated_answers(rng, 0.9, 200), 500, 0.95, 0)
    large = accuracy_interval(simulated_answers(rng, 0.9, 5000), 500, 0.95, 0)
    assert (large.high - large.low) < 0.5 * (small.high - small.low)
    width = large.high - large.low  # binomial: 2 * 1.96 * sqrt(0.9 * 0.1 / 5000) = 1.7 points
    assert 0.012 < width < 0.022, width


def test_identical_answers_differ_by_exactly_zero_with_a_zero_width_interval():
    rng = np.random.default_rng(2)
    for seeds in (1, 3):
        answers = simulated_answers(rng, 0.8, 300, seeds)
        assert paired_difference(answers, answers.copy(), 300, 0.95, 0) == Interval(0.0, 0.0, 0.0)


def test_pairing_narrows_the_difference_of_two_classifiers_that_share_their_mistakes():
    rng = np.random.default_rng(3)
    a = rng.random(1000) < 0.9
    b = a.copy()
    b[np.flatnonzero(a)[:20]] = False  # b is a with 20 more mistakes: 2 points worse, every time
    diff = paired_difference(a, b, 1000, 0.95, 0)
    assert diff.value == pytest.approx(0.02)
    assert 0.01 < diff.low and diff.high < 0.03, diff  # unpaired, each accuracy alone spans about 4 points
    separate = accuracy_interval(a, 1000, 0.95, 0)
    assert diff.high - diff.low < 0.5 * (separate.high - separate.low)


def test_a_real_difference_excludes_zero_and_no_difference_covers_it():
    rng = np.random.default_rng(4)
    better, worse = simulated_answers(rng, 0.95, 2000, 3), simulated_answers(rng, 0.85, 2000, 3)
    assert paired_difference(better, worse, 500, 0.95, 0).low > 0.05
    same_a, same_b = simulated_answers(rng, 0.9, 500), simulated_answers(rng, 0.9, 500)
    tie = paired_difference(same_a, same_b, 500, 0.95, 0)
    assert tie.covers(0.0), tie


def test_seed_spread_widens_the_interval():
    rng = np.random.default_rng(5)
    steady = accuracy_interval(simulated_answers(rng, 0.9, 2000, 5, 0.0), 1000, 0.95, 0)
    wandering = accuracy_interval(simulated_answers(rng, 0.9, 2000, 5, 0.03), 1000, 0.95, 0)
    assert wandering.high - wandering.low > 1.5 * (steady.high - steady.low)


def test_one_seed_and_several_compare_on_the_same_images_and_reproduce():
    rng = np.random.default_rng(6)
    three, one = simulated_answers(rng, 0.9, 300, 3), simulated_answers(rng, 0.8, 300, 1)
    first = paired_difference(three, one, 200, 0.95, 7)
    assert first == paired_difference(three, one, 200, 0.95, 7)
    assert first.value == pytest.approx(three.mean() - one.mean())
    with pytest.raises(ValueError, match="same test images"):
        paired_difference(three, one[:, :299], 200, 0.95, 7)
    with pytest.raises(ValueError, match="seeds, test images"):
        as_table(np.zeros((2, 3, 4)))


def test_the_summary_pairs_each_generator_with_pca_sample_on_the_answers_the_stages_kept(tmp_path):
    """tstr's fake-set answers against pca@sample's chosen n: identical answers differ by exactly
    0; a generator right on 30 more of 1,000 images is 3 points above, the interval around it."""
    rng = np.random.default_rng(8)
    pca = simulated_answers(rng, 0.9, 1000, 3)
    (tmp_path / "evaluation" / "pca" / "sample").mkdir(parents=True)
    np.save(tmp_path / "evaluation" / "pca" / "sample" / ANSWERS, pca)
    better = pca.copy()
    for row in better:  # each seed right on 30 images it got wrong
        row[np.flatnonzero(~row)[:30]] = True
    for arch, answers in (("same", pca), ("better", better)):
        (tmp_path / "evaluation" / "tstr" / arch).mkdir(parents=True)
        np.savez(tmp_path / "evaluation" / "tstr" / arch / "test_correct.npz", fake=answers, mixed_50=answers[:1])
    evaluate = shipped().evaluate
    assert versus_pca(tmp_path, "same", evaluate) == Interval(0.0, 0.0, 0.0)
    lead = versus_pca(tmp_path, "better", evaluate)
    assert lead.value == pytest.approx(0.03) and 0 < lead.low < 0.03 < lead.high < 0.045


def test_the_price_of_privacy_pairs_the_best_private_generator_with_the_best_non_private_one(tmp_path):
    """Of two non-private and two private generators, the best of each side (by accuracy) are paired on
    the same answers: right on 50 fewer of 1,000 images is 5 points less. A run with no private (or no
    non-private) generator has no price."""
    rng = np.random.default_rng(3)
    best = simulated_answers(rng, 0.95, 1000, 3)
    worse = best.copy()
    for row in worse:
        row[np.flatnonzero(row)[:50]] = False
    runs = {"dcgan": (best, None), "cdcgan": (simulated_answers(rng, 0.8, 1000, 3), None),
            "dpmerf": (worse, 9.99), "cdcgan_dp": (simulated_answers(rng, 0.5, 1000, 3), 10.0)}
    for arch, (answers, epsilon) in runs.items():
        (tmp_path / "evaluation" / "tstr" / arch).mkdir(parents=True)
        np.savez(tmp_path / "evaluation" / "tstr" / arch / ANSWER_SETS, fake=answers)
        write_json(tmp_path / "metrics" / "tstr" / f"{arch}.json", {"acc_fake": float(answers.mean())})
        write_json(tmp_path / "live" / "train_gan" / arch / "metrics.json",
                   {"train_seconds": 1.0, **({"dp_epsilon": epsilon} if epsilon else {})})
    evaluate = shipped().evaluate
    price = price_of_privacy(tmp_path, list(runs), evaluate)
    assert (price["private"], price["versus"], price["epsilon"]) == ("dpmerf", "dcgan", 9.99)
    assert price["acc_gap"] == pytest.approx(-0.05)
    low, high = price["acc_gap_interval"]
    assert -0.065 < low < -0.05 < high < -0.035
    assert price_of_privacy(tmp_path, ["dcgan", "cdcgan"], evaluate) is None
    assert price_of_privacy(tmp_path, ["dpmerf", "cdcgan_dp"], evaluate) is None
