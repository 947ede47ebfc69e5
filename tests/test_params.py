"""params.yaml: every mistake a user can make stops with one line naming the key."""
from pathlib import Path

import pytest
import yaml

from conftest import SHIPPED, shipped
from synthset.params import GAN_ARCHS, ArchParams, ParamsError, json_schema, load_params, parse_params
from synthset.params.gan import PER_ARCH
from synthset.presets import apply_preset, dvc_set_args

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_RAW = yaml.safe_load(SHIPPED.read_text())


def test_shipped_params_file_is_valid_and_complete():
    params = load_params(ROOT / "params.yaml")
    assert params.gan.archs == ["dcgan", "cdcgan", "sngan"]
    # every key is written out in the shipped file (DVC tracks params by key), a GAN's once: in gan.defaults,
    # or in its own block (its epochs and batch size, and what differs from the defaults)
    raw, dumped = yaml.safe_load((ROOT / "params.yaml").read_text()), params.model_dump()
    gan_raw, gan_dumped = raw.pop("gan"), dumped.pop("gan")
    assert raw == dumped
    defaults = gan_raw["defaults"]
    assert set(defaults) == set(ArchParams.model_fields) - set(PER_ARCH)
    assert gan_dumped["defaults"] == defaults  # what is dumped loads again (tests write dumped params)
    for arch in GAN_ARCHS:
        block = gan_raw[arch]
        assert set(PER_ARCH) <= set(block), arch
        assert {**defaults, **block} == gan_dumped[arch], arch
        assert [k for k in block if k in defaults and block[k] == defaults[k]] == [], f"{arch} repeats a default"
    assert gan_raw["ddpm"] == gan_dumped["ddpm"]


def test_a_default_reaches_every_gan_that_does_not_set_its_own():
    params = shipped({"gan": {"defaults": {"augment": ["translation"], "lr_g": 0.003}}})
    for arch in GAN_ARCHS:
        assert getattr(params.gan, arch).augment == ["translation"], arch
        own = SHIPPED_RAW["gan"][arch].get("lr_g")
        assert getattr(params.gan, arch).lr_g == (own if own is not None else 0.003), arch
    # a preset may set a GAN's key its block leaves to the defaults, for that GAN alone
    one = shipped({"gan": {"sngan": {"augment": ["color"]}}})
    assert one.gan.sngan.augment == ["color"] and one.gan.dcgan.augment == []


def written_into_params_yaml(values: dict, into: dict = SHIPPED_RAW) -> dict:
    """The shipped settings with `values` typed over them, unknown keys included."""
    out = dict(into)
    for key, value in values.items():
        out[key] = written_into_params_yaml(value, into[key]) if isinstance(value, dict) and key in into else value
    return out


@pytest.mark.parametrize("raw, key, words", [
    ({"preprocess": {"image_size": 0}}, "preprocess.image_size", "b * 2^k"),
    ({"preprocess": {"image_size": 100}}, "preprocess.image_size", "b * 2^k"),
    ({"data": {"test_fraction": 1.5}}, "data.test_fraction", "less than 1"),
    ({"gan": {"archs": ["stylegan9"]}}, "gan.archs.0", "'dcgan'"),
    ({"gan": {"dcgan": {"lr": 0.1}}}, "gan.dcgan.lr", "unknown key"),
    ({"gan": {"dcgan": {"epochs": "many"}}}, "gan.dcgan.epochs", "integer"),
    ({"gan": {"defaults": {"lr": 0.1}}}, "gan.defaults.lr", "unknown key"),
    ({"gan": {"defaults": {"beta1": 2}}}, "gan.defaults.beta1", "less than 1"),
    ({"data": {"source": "folder"}}, "data.path", "name its folder"),
    ({"device": "tpu"}, "device", "'auto'"),
    ({"classify": {"epochs": 2, "average_epochs": 3}}, "classify", "must not exceed epochs"),
])
def test_bad_values_name_the_key(raw, key, words):
    with pytest.raises(ParamsError) as err:
        parse_params(written_into_params_yaml(raw))
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"params.yaml: {key}")
    assert words in message


def float_keys(raw: dict, prefix: str = "") -> list[str]:
    """Every key of the shipped params.yaml whose value is a number with a point (0.5, 1e-3)."""
    keys = []
    for key, value in raw.items():
        if isinstance(value, dict):
            keys += float_keys(value, f"{prefix}{key}.")
        elif isinstance(value, float):
            keys.append(f"{prefix}{key}")
    return keys


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_no_setting_takes_infinity_or_nan(value):
    """YAML reads .inf and .nan as numbers, and a bound such as ge=0 lets inf through (guidance_scale
    did, to the sampler); every setting that takes a fraction refuses both in one line naming it."""
    keys = float_keys(SHIPPED_RAW)
    assert len(keys) > 30 and "gan.ddpm.guidance_scale" in keys and "data.test_fraction" in keys
    for key in keys:
        raw: dict = {}
        *path, leaf = key.split(".")
        node = raw
        for part in path:
            node = node.setdefault(part, {})
        node[leaf] = value
        with pytest.raises(ParamsError) as err:
            parse_params(written_into_params_yaml(raw))
        assert str(err.value).startswith(f"params.yaml: {key}") and "\n" not in str(err.value), key


@pytest.mark.parametrize("size", [8, 28, 32, 64, 128, 96])
def test_sizes_the_generators_can_make(size):
    assert shipped({"preprocess": {"image_size": size}}).preprocess.image_size == size


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
    params = shipped({"gan": {"archs": ["dcgan"]}})
    assert params.arch("dcgan").epochs == SHIPPED_RAW["gan"]["dcgan"]["epochs"]
    with pytest.raises(ParamsError, match="not listed"):
        params.arch("sngan")


def test_params_yaml_is_the_only_source_of_settings(tmp_path):
    """No setting has a code default to drift from params.yaml: an empty or partial file
    stops with the missing key named, never runs on numbers nobody wrote down."""
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(ParamsError, match=r"^.*empty.yaml: device: missing \(every key must be set"):
        load_params(empty)
    partial = {k: v for k, v in SHIPPED_RAW.items()}
    partial["gan"] = {**SHIPPED_RAW["gan"], "dcgan": {k: v for k, v in SHIPPED_RAW["gan"]["dcgan"].items()
                                                      if k != "epochs"}}
    with pytest.raises(ParamsError, match=r"gan\.dcgan\.epochs: missing"):
        parse_params(partial)
    partial["gan"] = {**SHIPPED_RAW["gan"], "defaults": {k: v for k, v in SHIPPED_RAW["gan"]["defaults"].items()
                                                         if k != "augment"}}
    with pytest.raises(ParamsError, match=r"gan\.dcgan\.augment: missing"):
        parse_params(partial)


def test_a_preset_with_an_unknown_key_is_refused(tmp_path):
    preset = tmp_path / "typo.yaml"
    preset.write_text("gan:\n  dcgan:\n    epoch: 3\n")
    with pytest.raises(ParamsError, match=r"typo.yaml: gan.dcgan.epoch: unknown key"):
        load_params(SHIPPED, preset)
    with pytest.raises(ParamsError, match="unknown key"):
        apply_preset(SHIPPED, preset)  # refused before anything is written


def test_applying_a_preset_keeps_every_comment_and_changes_only_its_keys(tmp_path):
    preset = tmp_path / "long.yaml"
    preset.write_text("gan:\n  archs: [dcgan, sngan]\n  dcgan:\n    epochs: 400\n    ema_decay: null\n"
                      "data:\n  classes: [3, 8]\n")
    params = tmp_path / "params.yaml"
    params.write_text(SHIPPED.read_text())
    changes = apply_preset(params, preset)
    assert dict(changes) == {"gan.archs": ["dcgan", "sngan"], "gan.dcgan.epochs": 400,
                             "gan.dcgan.ema_decay": None, "data.classes": [3, 8]}
    assert load_params(params) == load_params(SHIPPED, preset)
    before, after = SHIPPED.read_text().splitlines(), params.read_text().splitlines()
    assert len(before) == len(after)
    changed = [(b, a) for b, a in zip(before, after) if b != a]
    assert len(changed) == 4, changed
    comment = [b.partition("#")[2] for b, _ in changed]
    assert comment == [a.partition("#")[2] for _, a in changed]  # each changed line keeps its comment
    assert "  classes: [3, 8]" in after[[i for i, b in enumerate(before) if b.startswith("  classes:")][0]]


@pytest.mark.parametrize("preset", sorted((ROOT / "presets").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_applied_preset_passes_the_schema_snakemake_checks_its_config_with(tmp_path, preset):
    """Snakemake reads params.yaml with PyYAML (YAML 1.1), which takes `1e-05` for a string: a preset's
    numbers must be written back in a form it reads as numbers, or `make preset` stops at the schema."""
    import jsonschema

    params = tmp_path / "params.yaml"
    params.write_text(SHIPPED.read_text())
    apply_preset(params, preset)
    jsonschema.validate(yaml.safe_load(params.read_text()), json_schema())


@pytest.mark.parametrize("preset", sorted((ROOT / "presets").glob("*.yaml")), ids=lambda p: p.stem)
def test_dvc_set_args_give_what_the_preset_gives(tmp_path, preset):
    """`dvc exp run $(synthset preset --dvc-args P)`: DVC's own override parser, fed our flags,
    writes the same settings as applying the preset."""
    from dvc.utils.hydra import apply_overrides

    args = dvc_set_args(preset, params_path=SHIPPED)
    assert args[::2] == ["-S"] * (len(args) // 2) and all(" " not in a for a in args)  # survive $(...)
    params = tmp_path / "params.yaml"
    params.write_text(SHIPPED.read_text())
    apply_overrides(params, args[1::2])
    assert load_params(params) == load_params(SHIPPED, preset)
