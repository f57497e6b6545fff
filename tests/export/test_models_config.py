import pytest
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from xdomain_tf.errors import XDomainError
from xdomain_tf.export.models_config import update_models_config


def parse(path):
    return text_format.Parse(path.read_text(), model_server_config_pb2.ModelServerConfig())


def test_adds_and_updates_entries_keeping_policies(tmp_path):
    path = tmp_path / "models.config"
    path.write_text(
        'model_config_list { config { name: "other" base_path: "/models/other" model_platform: "tensorflow" } '
        'config { name: "news" base_path: "/old" model_platform: "tensorflow" '
        "model_version_policy { specific { versions: 2 } } } }\n"
    )
    update_models_config(path, "news", "/models/news")
    update_models_config(path, "fresh", "/models/fresh", num_versions=2)
    entries = {entry.name: entry for entry in parse(path).model_config_list.config}
    assert list(entries) == ["other", "news", "fresh"]
    assert entries["news"].base_path == "/models/news"
    assert list(entries["news"].model_version_policy.specific.versions) == [2]
    assert entries["fresh"].model_version_policy.latest.num_versions == 2
    assert entries["other"].base_path == "/models/other"
    assert path.read_text().startswith("# TF Serving model config")


def test_the_shipped_template_parses(tmp_path):
    import pathlib

    template = pathlib.Path(__file__).resolve().parents[2] / "export" / "models.config"
    copy = tmp_path / "models.config"
    copy.write_text(template.read_text())
    config = update_models_config(copy, "xdomain", "/models/xdomain")
    assert [entry.name for entry in config.model_config_list.config] == ["xdomain"]


def test_rejects_a_broken_file(tmp_path):
    path = tmp_path / "models.config"
    path.write_text("model_config_list { config { name: ")
    with pytest.raises(XDomainError, match="not a TF Serving models.config"):
        update_models_config(path, "news", "/models/news")
    assert path.read_text() == "model_config_list { config { name: "
