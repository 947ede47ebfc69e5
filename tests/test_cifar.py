"""CIFAR's binary version as class folders (synthset.data.cifar): the authors' record layout,
written here byte by byte, comes back as the same pixels in the right class folders."""
import numpy as np
import pytest
from PIL import Image

from synthset import cli
from synthset.data.cifar import cifar_to_folders


def write_batch(path, images, labels) -> None:
    """Records as the binary version stores them: label byte(s), then the red, green, blue planes."""
    planes = images.transpose(0, 3, 1, 2).reshape(len(images), -1)
    np.concatenate([labels.astype(np.uint8), planes], axis=1).tofile(path)


def test_cifar10_binary_batches_become_class_folders_with_the_same_pixels(tmp_path, capsys):
    src = tmp_path / "cifar-10-batches-bin"
    src.mkdir()
    (src / "batches.meta.txt").write_text("airplane\nautomobile\nbird\n\n")
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (7, 32, 32, 3), dtype=np.uint8)
    images[0, 0, 0] = (255, 0, 0)  # a red corner: the planes must not be swapped or transposed
    images[0, 0, 31] = (0, 0, 255)
    labels = np.array([[0], [2], [2], [1], [0], [2], [1]])
    write_batch(src / "data_batch_1.bin", images[:4], labels[:4])
    write_batch(src / "test_batch.bin", images[4:], labels[4:])
    cli.main(["cifar", str(src), str(tmp_path / "out")])
    assert "7 images in 3 class folders" in capsys.readouterr().out
    out = tmp_path / "out"
    assert sorted(p.name for p in (out / "bird").iterdir()) == ["data_batch_1_00001.png", "data_batch_1_00002.png",
                                                                "test_batch_00001.png"]
    first = np.asarray(Image.open(out / "airplane" / "data_batch_1_00000.png"))
    assert np.array_equal(first, images[0]) and tuple(first[0, 0]) == (255, 0, 0) and tuple(first[0, 31]) == (0, 0, 255)
    assert np.array_equal(np.asarray(Image.open(out / "automobile" / "test_batch_00002.png")), images[6])


def test_cifar100_uses_the_fine_label(tmp_path):
    src = tmp_path / "cifar-100-binary"
    src.mkdir()
    (src / "fine_label_names.txt").write_text("apple\naquarium_fish\nbaby\n")
    images = np.zeros((3, 32, 32, 3), np.uint8)
    write_batch(src / "train.bin", images, np.array([[9, 0], [9, 2], [4, 1]]))  # coarse, fine
    assert cifar_to_folders(src, tmp_path / "out") == {"apple": 1, "aquarium_fish": 1, "baby": 1}


@pytest.mark.parametrize("names, batch_bytes, message", [
    (None, 3073, "no batches.meta.txt"),
    ("a\nb\n", 3072, "not a whole number of 3073-byte CIFAR records"),
    ("a\n", 2 * 3073, "names 1 classes"),
    ("a\n../up\n", 3073, "class names must be folder names"),
])
def test_a_wrong_folder_or_file_is_one_clear_error(tmp_path, names, batch_bytes, message):
    if names is not None:
        (tmp_path / "batches.meta.txt").write_text(names)
    data = np.zeros(batch_bytes, np.uint8)
    data[3073 if batch_bytes > 3073 else 0] = 1  # the second record's (or the only) label: class 1
    data.tofile(tmp_path / "data_batch_1.bin")
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        cifar_to_folders(tmp_path, tmp_path / "out")
    assert not (tmp_path / "out" / ".." / "up").exists()
