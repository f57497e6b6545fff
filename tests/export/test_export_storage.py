"""Exports and predictions on TensorFlow file systems other than the local disk.

`ram://` stands in for cloud storage. The object-store tests register a file system
without atomic renames over a `ram://` prefix whose every copied object calls a watcher;
the watcher plays TF Serving's version poller (every integer child of the base path that
the models.config policy allows is loaded, whether or not its saved_model.pb is there yet)
and records what such a server would have loaded at that moment.
"""
import uuid

import numpy as np
import pytest

from xdomain_tf.errors import XDomainError
from xdomain_tf.export import saved_model_export
from xdomain_tf.export.saved_model_export import saved_model
from xdomain_tf.utils.storage import FileSystem, register_file_system, storage_path


def ram_root(name):
    return f"ram://{name}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def version_files(exported_model):
    """The files of a finished version (of a local export of the same run): a listing of
    ram:// folders is not to be trusted (it drops `assets` beside `assets.extra`)."""
    _, version_dir = exported_model
    return frozenset(path.relative_to(version_dir).as_posix() for path in version_dir.rglob("*") if path.is_file())


@pytest.fixture(scope="module")
def classifier(classifier_run):
    """The run's classifier, loaded once (exports of an object skip loading the run)."""
    from xdomain_tf.tasks import load_classifier

    return load_classifier(classifier_run)[0]


def files_under(folder, names):
    """Which of `names` are files in `folder`."""
    folder = storage_path(folder)
    return frozenset(name for name in names if folder.joinpath(*name.split("/")).exists())


def test_saved_model_on_ram_predicts_like_the_keras_model(classifier_run, classifier, valid_records, version_files):
    from xdomain_tf.export.serving_op_check import check_serving_ops
    from xdomain_tf.export.models_config import read_models_config
    from xdomain_tf.serving import KerasPredictor, SavedModelPredictor, load_predictor

    root = ram_root("exports")
    version_dir = saved_model(classifier_run, f"{root}/export/xdomain")
    assert str(version_dir) == f"{root}/export/xdomain/1"
    assert sorted(child.name for child in storage_path(f"{root}/export/xdomain").iterdir()) == ["1"]  # no temporary
    assert files_under(version_dir, version_files) == version_files
    assert {"saved_model.pb", "assets/labels.json", "assets.extra/tf_serving_warmup_requests"} <= version_files
    assert check_serving_ops(version_dir)["unsupported"] == []
    # models.config beside it: the server reads the bucket itself, the served version pinned.
    entry = read_models_config(f"{root}/export/models.config").model_config_list.config[0]
    assert (entry.name, entry.base_path) == ("xdomain", f"{root}/export/xdomain")
    assert list(entry.model_version_policy.specific.versions) == [1]

    predictor = load_predictor(f"{root}/export/xdomain")
    assert isinstance(predictor, SavedModelPredictor) and str(predictor.path) == str(version_dir)
    texts = [record["text"] for record in valid_records[:24]]
    domains = [record["domain"] for record in valid_records[:24]]
    exported = predictor.predict(texts, domains)
    keras = KerasPredictor(classifier).predict(texts, domains)
    assert [row["label"] for row in exported] == [row["label"] for row in keras]
    np.testing.assert_allclose([row["score"] for row in exported], [row["score"] for row in keras], atol=1e-5)


def test_tflite_on_ram_runs_and_keras_files_load_from_ram(classifier_run, classifier, valid_records, capsys):
    from xdomain_tf.cli.main import main
    from xdomain_tf.export.tflite_export import tflite
    from xdomain_tf.serving import KerasPredictor, TFLitePredictor, load_predictor

    root = ram_root("tflite")
    report = tflite(classifier_run, f"{root}/news.tflite", check_examples=64)
    assert report["agreement"] >= 0.999 and report["path"] == f"{root}/news.tflite"
    assert sorted(child.name for child in storage_path(root).iterdir()) == [
        "news.tflite", "news.tflite.labels.json", "news.tflite.vocab.txt"
    ]
    assert storage_path(f"{root}/news.tflite").stat().st_size == report["size_bytes"]
    predictor = load_predictor(f"{root}/news.tflite")
    assert isinstance(predictor, TFLitePredictor)
    texts = [record["text"] for record in valid_records[:24]]
    domains = [record["domain"] for record in valid_records[:24]]
    keras = KerasPredictor(classifier).predict(texts, domains)
    assert [row["label"] for row in predictor.predict(texts, domains)] == [row["label"] for row in keras]

    # A .keras file on a URL (Keras reads local zip files: through a local copy).
    keras_url = f"{root}/model.keras"
    storage_path(keras_url).write_bytes((classifier_run / "model.keras").read_bytes())
    assert [row["label"] for row in load_predictor(keras_url).predict(texts, domains)] == [row["label"] for row in keras]
    assert main(["predict", "--model", keras_url, "--text", texts[0], "--domain", domains[0]]) == 0
    assert f'"label": "{keras[0]["label"]}"' in capsys.readouterr().out


def test_served_versions_and_pins_of_each_policy():
    from xdomain_tf.export.models_config import read_models_config, served_versions, update_models_config

    path = f"{ram_root('config')}/models.config"
    storage_path(path).write_text(
        'model_config_list { config { name: "latest" base_path: "/m/latest" model_platform: "tensorflow" '
        "model_version_policy { latest { num_versions: 2 } } } "
        'config { name: "all" base_path: "/m/all" model_platform: "tensorflow" model_version_policy { all {} } } '
        'config { name: "bare" base_path: "/m/bare" model_platform: "tensorflow" } '
        'config { name: "canary" base_path: "/m/canary" model_platform: "tensorflow" '
        "model_version_policy { specific { versions: 4 versions: 2 } } } }\n"
    )
    existing = [1, 2, 3, 5]
    assert [served_versions(path, name, existing) for name in ("latest", "all", "bare", "canary", "new")] == [
        [3, 5], [1, 2, 3, 5], [5], [2, 4], None
    ]
    assert served_versions(path, "latest", []) == []
    update_models_config(path, "latest", "/m/latest", versions=[])  # pinned to nothing: still a pin
    entries = {entry.name: entry for entry in read_models_config(path).model_config_list.config}
    assert entries["latest"].model_version_policy.WhichOneof("policy_choice") == "specific"
    assert list(entries["latest"].model_version_policy.specific.versions) == []
    assert list(entries["canary"].model_version_policy.specific.versions) == [4, 2]  # others untouched


# --- a simulated object store ----------------------------------------------------------


class ObservedStore(FileSystem):
    """An object store over `ram://`: no atomic rename, and `watch` runs after every object copied."""

    def __init__(self, watch):
        super().__init__(atomic_rename=False)
        self.watch = watch

    def copy_file(self, source, target):
        super().copy_file(source, target)
        self.watch()


class VersionPoller:
    """What TF Serving 2.20 would load from `base` at this moment.

    As its file-system source does: every child of the base path whose name is an integer,
    without looking for saved_model.pb, filtered by the models.config entry's policy
    (`specific`, `latest`, `all`); no entry for the base path: the base is not watched;
    no models.config at all: `latest` 1 (the server started with --model_base_path).
    Each aspired version's files are recorded; one with a saved_model.pb is loaded.
    """

    def __init__(self, base, names, config=None):
        self.base = storage_path(base)
        self.names = names  # the files of a finished version
        self.config = config and storage_path(config)
        self.seen = []  # (version, files present), one per aspired version per poll
        self.load_failures = []
        self.loaded = set()

    def aspired(self):
        from google.protobuf import text_format
        from tensorflow_serving.config import model_server_config_pb2

        if not self.base.exists():
            return []
        present = sorted(int(child.name) for child in self.base.iterdir() if child.name.isdigit())
        if self.config is None:
            return present[-1:]
        if not self.config.exists():
            return []
        config = text_format.Parse(self.config.read_text(), model_server_config_pb2.ModelServerConfig())
        entry = next((e for e in config.model_config_list.config if e.base_path == str(self.base)), None)
        if entry is None:
            return []
        policy = entry.model_version_policy
        kind = policy.WhichOneof("policy_choice")
        if kind == "specific":
            return [version for version in present if version in set(policy.specific.versions)]
        if kind == "all":
            return present
        return present[-max(policy.latest.num_versions, 1):]

    def __call__(self):
        import tensorflow as tf

        for version in self.aspired():
            folder = self.base / str(version)
            files = files_under(folder, self.names)
            self.seen.append((version, files))
            if "saved_model.pb" in files and version not in self.loaded:
                try:
                    tf.saved_model.load(str(folder))
                    self.loaded.add(version)
                except Exception as error:  # a half-copied version
                    self.load_failures.append((version, type(error).__name__))

    def incomplete(self):
        """`(version, files missing)` of every poll that saw a version incomplete."""
        return [(version, sorted(self.names - files)) for version, files in self.seen if files != self.names]

    def incomplete_with_graph(self):
        """As `incomplete`, only polls where saved_model.pb was already there."""
        return [(version, missing) for version, missing in self.incomplete() if "saved_model.pb" not in missing]


@pytest.fixture
def object_store():
    """`(root URL, poller setter)`: a fresh prefix handled by an `ObservedStore`."""
    import tensorflow_text  # noqa: F401  (the poller loads SavedModels with tokenizer ops)

    root = ram_root("store")
    pollers = []
    store = ObservedStore(lambda: [poll() for poll in pollers])
    previous = register_file_system(root + "/", store)
    try:
        yield root, pollers.append
    finally:
        register_file_system(root + "/", previous)


def _pre_pinned_config(path, base):
    """A models.config whose entry serves the latest version (as the shipped template)."""
    storage_path(path).write_text(
        f'model_config_list {{ config {{ name: "xdomain" base_path: "{base}" model_platform: "tensorflow" '
        "model_version_policy { latest { num_versions: 1 } } } }\n"
    )


def test_no_poll_sees_a_half_copied_version_on_an_object_store(classifier, object_store, version_files):
    """Two exports into a base whose models.config entry starts with a `latest` policy: the
    export pins it before copying, so every version the server would load is complete."""
    from xdomain_tf.export.models_config import read_models_config

    root, add_poller = object_store
    base, config = f"{root}/export/xdomain", f"{root}/export/models.config"
    _pre_pinned_config(config, base)
    poller = VersionPoller(base, version_files, config)
    add_poller(poller)
    assert saved_model(classifier, base).name == "1"
    assert saved_model(classifier, base).name == "2"

    assert {version for version, _ in poller.seen} == {1, 2}  # the poller did see both
    assert poller.incomplete() == [] and poller.load_failures == []
    assert poller.loaded == {1, 2}
    policy = read_models_config(config).model_config_list.config[0].model_version_policy
    assert list(policy.specific.versions) == [2]  # the new version replaced the one served
    assert sorted(child.name for child in storage_path(base).iterdir()) == ["1", "2"]

    # No in-place replacement there: one line, nothing touched.
    with pytest.raises(XDomainError, match=r"xdomain/2: exists; ram:// has no atomic rename"):
        saved_model(classifier, base, version=2, overwrite=True)
    assert sorted(child.name for child in storage_path(base).iterdir()) == ["1", "2"]


def test_without_models_config_saved_model_pb_comes_last(classifier, object_store, version_files):
    """No config to pin: TF Serving sees the version folder while it is copied, but once
    saved_model.pb is there every other file is too, so a load never reads half."""
    root, add_poller = object_store
    poller = VersionPoller(f"{root}/xdomain", version_files)
    add_poller(poller)
    saved_model(classifier, f"{root}/xdomain", models_config=None)
    assert poller.incomplete()  # without a pin a poll does see the version half copied ...
    assert poller.incomplete_with_graph() == [] and poller.load_failures == []  # ... but never with its graph
    assert poller.loaded == {1}


def test_the_poller_catches_a_pin_set_too_early(classifier, object_store, version_files, monkeypatch):
    """Negative control: a pin that lists the new version before the copy is caught."""
    from xdomain_tf.export.models_config import update_models_config

    pin = saved_model_export._pin_served_versions

    def too_early(models_config, model_name, base_path, export_base, exclude):
        served = pin(models_config, model_name, base_path, export_base, exclude)
        update_models_config(models_config, model_name, base_path, versions=[*(served or []), exclude])
        return served

    monkeypatch.setattr(saved_model_export, "_pin_served_versions", too_early)
    root, add_poller = object_store
    base, config = f"{root}/export/xdomain", f"{root}/export/models.config"
    _pre_pinned_config(config, base)
    poller = VersionPoller(base, version_files, config)
    add_poller(poller)
    saved_model(classifier, base)
    assert poller.incomplete()


def test_the_poller_catches_saved_model_pb_copied_first(classifier, object_store, version_files, monkeypatch):
    """Negative control: publishing in name order (saved_model.pb before variables/) is caught."""
    monkeypatch.setattr(saved_model_export, "PUBLISHED_LAST", ())
    root, add_poller = object_store
    poller = VersionPoller(f"{root}/xdomain", version_files)
    add_poller(poller)
    saved_model(classifier, f"{root}/xdomain", models_config=None)
    assert poller.incomplete_with_graph() and poller.load_failures


# --- bad URLs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, message",
    [
        (["export", "--model", "runs/x", "--saved-model", "s3://bucket/export/xdomain"],
         "argument --saved-model: s3://bucket/export/xdomain"),
        (["export", "--model", "runs/x", "--tflite", "s3://bucket/news.tflite"], "argument --tflite: s3://bucket"),
        (["export", "--model", "s3://bucket/runs/news", "--tflite", "{tmp}/n.tflite"], "s3://bucket/runs/news"),
        (["predict", "--model", "s3://bucket/export/xdomain", "--text", "a goal", "--domain", "news"],
         "s3://bucket/export/xdomain"),
    ],
)
def test_a_url_without_its_file_system_is_one_line(tmp_path, capsys, argv, message):
    from xdomain_tf.cli.main import main

    try:
        status = main([arg.format(tmp=tmp_path) for arg in argv])
    except SystemExit as exit:  # argparse: a usage line, then the error
        status = exit.code
    assert status == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"xdomain-tf {argv[0]}: error: {message}: TensorFlow has no file system for s3:// (it comes with "
        "tensorflow-io (pip install tensorflow-io; import tensorflow_io before use))"
    )
