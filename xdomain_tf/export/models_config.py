"""`update_models_config`: adds or updates a model in a TF Serving models.config file."""
import pathlib

from xdomain_tf.errors import XDomainError
from xdomain_tf.utils.atomic import write_text_atomic

HEADER = """\
# TF Serving model config (text protobuf, tensorflow_serving.config.ModelServerConfig).
# `xdomain-tf export --saved-model export/NAME` adds or updates the entry of NAME; other
# entries and an entry's own model_version_policy are kept. base_path is the folder as the
# server sees it: export/ mounted at /models (see export/README.md).
"""


def update_models_config(config_path, model_name, base_path, num_versions=1):
    """Adds `model_name` to a models.config, or points its existing entry at `base_path`.

    A new entry serves the latest `num_versions` versions; an existing entry keeps its
    `model_version_policy` (a pinned `specific` policy stays pinned). The file is written
    atomically, so a server polling it (`--model_config_file_poll_wait_seconds`) never reads
    half a file.

    Args:
        config_path: the models.config file (created if missing).
        model_name: the model's name in request URLs (`/v1/models/<name>`).
        base_path: the folder holding the model's integer version folders, as the server
            sees it (e.g. `/models/<name>`).
        num_versions: how many latest versions a new entry serves.

    Returns:
        The `ModelServerConfig` written.

    Example:

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "models.config"
    >>> config = update_models_config(path, "xdomain", "/models/xdomain")
    >>> [(entry.name, entry.base_path) for entry in config.model_config_list.config]
    [('xdomain', '/models/xdomain')]
    """
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    config_path = pathlib.Path(config_path)
    config = model_server_config_pb2.ModelServerConfig()
    if config_path.exists():
        try:
            text_format.Parse(config_path.read_text(encoding="utf-8"), config)
        except text_format.ParseError as error:
            raise XDomainError(f"{config_path}: not a TF Serving models.config ({error})") from None
        if config.WhichOneof("config") == "custom_model_config":
            raise XDomainError(f"{config_path}: holds a custom_model_config, not a model_config_list")
    entries = config.model_config_list.config
    entry = next((entry for entry in entries if entry.name == model_name), None)
    if entry is None:
        entry = entries.add(name=model_name, model_platform="tensorflow")
        entry.model_version_policy.latest.num_versions = num_versions
    entry.base_path = str(base_path)
    write_text_atomic(config_path, HEADER + text_format.MessageToString(config))
    return config
