"""params.yaml: every mistake a user can make stops with one line naming the key."""
from pathlib import Path

import pytest
import yaml

from synthset.params import ParamsError, load_params, parse_params

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_params_file_is_valid_and_complete():
    params = load_params(ROOT / "params.yaml")
    assert params.gan.archs == ["dcgan", "cdcgan", "cdcgan_late", "sngan"]
    # every key is written out in the shipped file: DVC tracks params by key
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    assert raw == params.model_dump()


@pytest.mark.parametrize("raw, key, words", [
    ({"preprocess": {"image_size": 0}}, "preprocess.image_size", "b * 2^k"),
    ({"preprocess": {"image_size": 100}}, "preprocess.image_size", "b * 2^k"),
    ({"data": {"test_fraction": 1.5}}, "data.test_fraction", "less than 1"),
    ({"gan": {"archs": ["stylegan9"]}}, "gan.archs.0", "'dcgan'"),
    ({"gan": {"dcgan": {"lr": 0.1}}}, "gan.dcgan.lr", "unknown key"),
    ({"gan": {"dcgan": {"epochs": "many"}}}, "gan.dcgan.epochs", "integer"),
    ({"data": {"source": "folder"}}, "data.path", "required"),
    ({"device": "tpu"}, "device", "'auto'"),
])
def test_bad_values_name_the_key(raw, key, words):
    with pytest.raises(ParamsError) as err:
        parse_params(raw)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"params.yaml: {key}")
    assert words in message


@pytest.mark.parametrize("size", [8, 28, 32, 64, 128, 96])
def test_sizes_the_generators_can_make(size):
    assert parse_params({"preprocess": {"image_size": size}}).preprocess.image_size == size


def test_missing_or_broken_file(tmp_path):
    with pytest.raises(ParamsError, match="not found"):
        load_params(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: [unclosed")
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_params(bad)
    listed = tmp_path / "list.yaml"
    listed.write_text("- 1\n- 2\n")
    with pytest.raises(ParamsError, match="mapping"):
        load_params(listed)


def test_arch_must_be_listed():
    params = parse_params({})
    assert params.arch("dcgan").lr_g == 2e-4
    with pytest.raises(ParamsError, match="not listed"):
        params.arch("sngan")
