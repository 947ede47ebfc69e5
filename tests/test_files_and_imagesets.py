"""Stage files: round trips, and nothing half-written left behind on a crash."""
import os
import signal
import stat
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthset.classify import mixed_set
from synthset.files import _writer_tag, atomic_path, read_json, remove_stale_temporaries, write_json
from synthset.imagesets import ImageSet, RaggedImageSet


def test_imageset_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    s = ImageSet(rng.integers(0, 256, (6, 4, 4, 3), dtype=np.uint8), [0, 1, 2, 0, 1, 2], ["a", "b", "c"])
    s.save(tmp_path / "s.npz")
    back = ImageSet.load(tmp_path / "s.npz")
    assert np.array_equal(back.images, s.images) and np.array_equal(back.labels, s.labels)
    assert back.class_names == ["a", "b", "c"] and back.image_shape == (4, 4, 3)
    assert np.array_equal(back.of_class(1), s.images[[1, 4]])


def test_concat_joins_sets_of_the_same_classes_only():
    a = ImageSet(np.zeros((2, 4, 4, 1), np.uint8), [0, 1], ["a", "b"])
    b = ImageSet(np.full((3, 4, 4, 1), 9, np.uint8), [1, 1, 0], ["a", "b"])
    joined = a.concat(b)
    assert len(joined) == 5 and list(joined.labels) == [0, 1, 1, 1, 0] and joined.images[2:].min() == 9
    with pytest.raises(ValueError, match="classes"):
        a.concat(ImageSet(np.zeros((1, 4, 4, 1), np.uint8), [0], ["a", "c"]))


def test_soft_labels_travel_with_their_images(tmp_path):
    """Saved, subset, joined and mixed, each image keeps its probabilities; a set without them
    joins as certain ones (its classes), which is what a classifier learns from it anyway."""
    soft = np.array([[0.7, 0.3], [0.2, 0.8], [0.9, 0.1]], np.float32)
    fake = ImageSet(np.arange(3, dtype=np.uint8).reshape(3, 1, 1, 1), [0, 1, 0], ["a", "b"], soft)
    fake.save(tmp_path / "f.npz")
    back = ImageSet.load(tmp_path / "f.npz")
    assert np.array_equal(back.soft, soft) and ImageSet.load(tmp_path / "f.npz").subset([2, 0]).soft.tolist() == \
        [soft[2].tolist(), soft[0].tolist()]
    real = ImageSet(np.full((2, 1, 1, 1), 9, np.uint8), [1, 0], ["a", "b"])
    assert real.soft is None and real.concat(real).soft is None
    joined = real.concat(fake)
    assert joined.soft.tolist() == [[0, 1], [1, 0]] + soft.tolist()
    assert np.array_equal(joined.targets.argmax(1), joined.labels)
    mixed = mixed_set(real.concat(real), fake, 0.5, 0)  # class a: one real, one generated; b: one generated
    assert len(mixed) == 3 and set(mixed.images[:, 0, 0, 0]) & {9} and set(mixed.images[:, 0, 0, 0]) - {9}
    for image, label, row in zip(mixed.images[:, 0, 0, 0], mixed.labels, mixed.soft):
        assert row.tolist() == (np.eye(2)[label].tolist() if image == 9 else soft[image].tolist())


def test_imageset_rejects_bad_arrays():
    with pytest.raises(ValueError, match="uint8"):
        ImageSet(np.zeros((2, 4, 4, 1), np.float32), [0, 0], ["a"])
    with pytest.raises(ValueError, match="labels"):
        ImageSet(np.zeros((2, 4, 4, 1), np.uint8), [0], ["a"])
    with pytest.raises(ValueError, match="class_names"):
        ImageSet(np.zeros((2, 4, 4, 1), np.uint8), [0, 3], ["a"])
    for soft in ([[0.5, 0.5]], [[0.5, 0.6], [1, 0]], [[np.nan, 1], [1, 0]]):  # wrong shape, not probabilities
        with pytest.raises(ValueError, match="soft labels"):
            ImageSet(np.zeros((2, 4, 4, 1), np.uint8), [0, 1], ["a", "b"], soft)


def test_ragged_round_trip_keeps_every_shape(tmp_path):
    images = [np.full((3, 5, 1), 7, np.uint8), np.arange(2 * 4 * 3, dtype=np.uint8).reshape(2, 4, 3)]
    r = RaggedImageSet.from_images(images, [1, 0], ["x", "y"], ["one.png", "two.png"])
    r.save(tmp_path / "r.npz")
    back = RaggedImageSet.load(tmp_path / "r.npz")
    assert [im.shape for im in back] == [(3, 5, 1), (2, 4, 3)]
    assert all(np.array_equal(a, b) for a, b in zip(back, images))
    assert back.names == ["one.png", "two.png"] and list(back.labels) == [1, 0]


def test_a_crash_leaves_neither_partial_file_nor_temp(tmp_path):
    target = tmp_path / "out.json"
    write_json(target, {"ok": 1})
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert read_json(target) == {"ok": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def writer_inside_atomic_path(target) -> subprocess.Popen:
    """Another process, holding `target`'s temporary half-written until its stdin closes, then finishing."""
    code = textwrap.dedent(f"""
        import sys
        from synthset.files import atomic_path
        with atomic_path({str(target)!r}) as tmp:
            tmp.write_text("half")
            print("writing", flush=True)
            sys.stdin.read()
            tmp.write_text('{{"from": "the other writer"}}')
    """)
    writer = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline() == "writing\n"
    return writer


def hidden(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_what_a_killed_writer_left_goes_when_the_file_is_written_again(tmp_path):
    """kill -9 skips atomic_path's own clean-up: its temporary stays (a checkpoint can weigh megabytes,
    and a run killed again and again piled them up), until the next writer of the same file removes it."""
    target = tmp_path / "checkpoint.json"
    writer = writer_inside_atomic_path(target)
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    assert len(hidden(tmp_path)) == 1 and not target.exists()
    write_json(target, {"ok": 1})
    assert hidden(tmp_path) == [] and read_json(target) == {"ok": 1}


def test_a_live_writers_temporary_is_left_alone(tmp_path):
    """Two writers of one file at once (two runs, or a run and validate): the second must not pull the
    first one's temporary from under it; the first then finishes as if alone."""
    target = tmp_path / "scores.json"
    writer = writer_inside_atomic_path(target)
    try:
        before = hidden(tmp_path)
        write_json(target, {"from": "this writer"})
        assert hidden(tmp_path) == before
    finally:
        writer.communicate("", timeout=60)
    assert writer.returncode == 0 and hidden(tmp_path) == []
    assert read_json(target) == {"from": "the other writer"}


@pytest.fixture(scope="module")
def dead_pid() -> int:
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    return done.pid


names = st.text(st.sampled_from("ab.-_0123456789x"), min_size=1, max_size=24).filter(lambda n: n not in (".", ".."))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=names, others=st.lists(names, max_size=5, unique=True), suffix=st.sampled_from(["", ".pt", ".json"]))
def test_only_the_files_own_dead_temporaries_are_removed(tmp_path_factory, dead_pid, target, others, suffix):
    """Hostile names: other files whose names start like the target's (a.json beside a.json.<host>-1...)
    and their own dead writers' temporaries are never touched by writing the target."""
    folder = tmp_path_factory.mktemp("names")
    tag = f"{_writer_tag().rsplit('-', 1)[0]}-{dead_pid}"
    path = folder / f"{target}{suffix}"
    own = folder / f".{path.name}.{tag}.abcd_123{path.suffix}"
    others = [o for o in others if o != path.name] + [f"{path.name}.{tag}", f"{path.name}.{tag}.abcd_123{suffix}"]
    kept = [folder / o for o in others] + [folder / f".{o}.{tag}.abcd_123{os.path.splitext(o)[1]}" for o in others]
    for p in [own, *kept]:
        if p != own:
            p.write_text("another file")
    own.write_text("half")
    assert remove_stale_temporaries(path, path.suffix) == [own]
    assert all(p.read_text() == "another file" for p in kept if p != own)


def test_missing_image_set_says_which_stage(tmp_path):
    with pytest.raises(FileNotFoundError, match="run the stage"):
        ImageSet.load(tmp_path / "none.npz")


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_written_files_take_the_users_umask_like_any_tool(tmp_path, umask, mode):
    """A release or report written under umask 022 must be readable by the people it is handed to."""
    old = os.umask(umask)
    try:
        write_json(tmp_path / "m.json", {"a": 1})
        ImageSet(np.zeros((1, 2, 2, 1), np.uint8), np.zeros(1, np.int64), ["a"]).save(tmp_path / "s.npz")
    finally:
        os.umask(old)
    for name in ("m.json", "s.npz"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == mode, name
