"""The local model registry: registering copies a model in and never touches anything outside it."""

import pytest

from whorf import registry
from whorf.config import CONFIG_FILE


@pytest.fixture
def model_dir(tmp_path):
    d = tmp_path / "my-model"
    d.mkdir()
    (d / CONFIG_FILE).write_text('{"name": "my-model"}')
    (d / "adapter.safetensors").write_bytes(b"weights")
    (d / "checkpoint-1").mkdir()
    (d / "model.onnx").write_bytes(b"graph")
    return d


def test_register_copies_the_model_without_checkpoints_or_onnx(model_dir, tmp_path):
    root = tmp_path / "registry"
    target = registry.register(model_dir, root=root)
    assert target == root / "my-model"
    assert sorted(p.name for p in target.iterdir()) == sorted([CONFIG_FILE, "adapter.safetensors"])
    assert list(root.iterdir()) == [target]  # no staging directory left behind


def test_register_again_replaces_the_old_copy(model_dir, tmp_path):
    root = tmp_path / "registry"
    registry.register(model_dir, "m", root)
    (root / "m" / "stale.txt").write_text("old")
    (model_dir / CONFIG_FILE).write_text('{"name": "v2"}')
    target = registry.register(model_dir, "m", root)
    assert not (target / "stale.txt").exists() and "v2" in (target / CONFIG_FILE).read_text()


@pytest.mark.parametrize("name", ["../victim", "/abs", "a/b", "", ".", "..", "a\\b", "-rf", ".hidden", "x" * 101, "a\x00b"])
def test_names_that_could_leave_the_registry_are_refused_and_nothing_is_deleted(model_dir, tmp_path, name):
    root = tmp_path / "registry"
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious.txt").write_text("keep me")
    with pytest.raises(ValueError, match="not allowed"):
        registry.register(model_dir, name, root)
    assert (victim / "precious.txt").read_text() == "keep me"
    assert model_dir.is_dir() and (model_dir / CONFIG_FILE).is_file()


def test_a_link_in_the_registry_is_replaced_not_followed(model_dir, tmp_path):
    root = tmp_path / "registry"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("keep me")
    (root / "m").symlink_to(outside, target_is_directory=True)
    target = registry.register(model_dir, "m", root)
    assert not target.is_symlink() and (target / CONFIG_FILE).is_file()
    assert (outside / "precious.txt").read_text() == "keep me"


def test_registering_a_registered_model_onto_itself_keeps_it(model_dir, tmp_path):
    root = tmp_path / "registry"
    target = registry.register(model_dir, "m", root)
    assert registry.register(target, "m", root) == target
    assert (target / CONFIG_FILE).is_file()


def test_registering_a_directory_that_holds_the_registry_is_refused(model_dir):
    with pytest.raises(ValueError, match="lies inside it"):
        registry.register(model_dir, "m", model_dir / "registry")


def test_a_directory_that_is_not_a_model_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="not a model directory"):
        registry.register(tmp_path / "empty", "m", tmp_path / "registry")
    assert not (tmp_path / "registry").exists()
