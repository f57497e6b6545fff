"""`update_models_config`: adds or updates a model in a TF Serving models.config file."""
from xdomain_tf.errors import XDomainError
from xdomain_tf.utils.atomic import write_text_atomic
from xdomain_tf.utils.storage import storage_path

HEADER = """\
# TF Serving model config (text protobuf, tensorflow_serving.config.ModelServerConfig).
# `xdomain-tf export --saved-model export/NAME` adds or updates the entry of NAME; other
# entries and an entry's own model_version_policy are kept. base_path is the folder as the
# server sees it: export/ mounted at /models (see export/README.md).
"""


def read_models_config(config_path):
    """The `ModelServerConfig` in a models.config file (an empty one if there is none).

    Args:
        config_path: the models.config file, local or a URL.

    Example:

    >>> read_models_config("ram://no/such/models.config").model_config_list.config
    []
    """
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    config_path = storage_path(config_path)
    config = model_server_config_pb2.ModelServerConfig()
    if config_path.exists():
        try:
            text_format.Parse(config_path.read_text(encoding="utf-8"), config)
        except text_format.ParseError as error:
            raise XDomainError(f"{config_path}: not a TF Serving models.config ({error})") from None
        if config.WhichOneof("config") == "custom_model_config":
            raise XDomainError(f"{config_path}: holds a custom_model_config, not a model_config_list")
    return config


def served_versions(config_path, model_name, existing):
    """The versions the entry of `model_name` serves, as a list for a `specific` policy,
    or None when the file has no such entry.

    A `specific` policy serves its own list; `all` every version in `existing`; `latest`
    (also an entry without a policy) the newest `num_versions` of `existing`.

    Args:
        config_path: the models.config file.
        model_name: the entry's name.
        existing: the integer versions present in the model's base path, sorted.

    Example:

    >>> path = "ram://served/models.config"
    >>> _ = update_models_config(path, "xdomain", "/models/xdomain", num_versions=2)
    >>> served_versions(path, "xdomain", [1, 2, 3]), served_versions(path, "other", [1])
    ([2, 3], None)
    """
    entry = _entry(read_models_config(config_path), model_name)
    if entry is None:
        return None
    policy = entry.model_version_policy
    kind = policy.WhichOneof("policy_choice")
    if kind == "specific":
        return sorted(policy.specific.versions)
    if kind == "all":
        return list(existing)
    count = policy.latest.num_versions if kind == "latest" else 1
    return list(existing[-max(count, 1):]) if existing else []


def update_models_config(config_path, model_name, base_path, num_versions=1, versions=None):
    """Adds `model_name` to a models.config, or points its existing entry at `base_path`.

    A new entry serves the latest `num_versions` versions; an existing entry keeps its
    `model_version_policy` (a pinned `specific` policy stays pinned), unless `versions`
    pins it. The file is written atomically (on an object store: one object), so a server
    polling it (`--model_config_file_poll_wait_seconds`) never reads half a file.

    Args:
        config_path: the models.config file (created if missing), local or a URL.
        model_name: the model's name in request URLs (`/v1/models/<name>`).
        base_path: the folder holding the model's integer version folders, as the server
            sees it (e.g. `/models/<name>`, or `gs://bucket/models/<name>`).
        num_versions: how many latest versions a new entry serves.
        versions: None, or the integer versions to serve: the entry's policy becomes
            `specific { versions: ... }`. An export to a file system without atomic
            renames pins the served versions this way, so the server loads a new version
            only once it is completely copied.

    Returns:
        The `ModelServerConfig` written.

    Example:

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "models.config"
    >>> config = update_models_config(path, "xdomain", "/models/xdomain")
    >>> [(entry.name, entry.base_path) for entry in config.model_config_list.config]
    [('xdomain', '/models/xdomain')]
    >>> entry = update_models_config(path, "xdomain", "/models/xdomain", versions=[3, 2]).model_config_list.config[0]
    >>> list(entry.model_version_policy.specific.versions)
    [2, 3]
    """
    from google.protobuf import text_format

    config_path = storage_path(config_path)
    config = read_models_config(config_path)
    entry = _entry(config, model_name)
    if entry is None:
        entry = config.model_config_list.config.add(name=model_name, model_platform="tensorflow")
        entry.model_version_policy.latest.num_versions = num_versions
    entry.base_path = str(base_path)
    if versions is not None:
        entry.model_version_policy.Clear()
        entry.model_version_policy.specific.SetInParent()  # an empty list still pins: nothing is served
        entry.model_version_policy.specific.versions.extend(sorted(set(int(version) for version in versions)))
    write_text_atomic(config_path, HEADER + text_format.MessageToString(config))
    return config


def _entry(config, model_name):
    return next((entry for entry in config.model_config_list.config if entry.name == model_name), None)
