"""Small helpers every layer may use: paths on any TensorFlow file system, atomic writes,
the cache folder, file digests, download progress, graph op lists, lazy exports."""

__all__ = [
    "DownloadProgress", "FileSystem", "StorageError", "StoragePath", "atomic_path", "cache_dir", "is_url",
    "lazy_exports", "op_types", "process_alive", "publish_folder", "register_file_system", "saved_model_op_types",
    "sha256_file", "storage_path", "verify_sha256", "write_json_atomic", "write_text_atomic",
]

from xdomain_tf.utils.lazy_loading import lazy_exports  # noqa: E402

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "xdomain_tf.utils.atomic": ["atomic_path", "write_json_atomic", "write_text_atomic"],
        "xdomain_tf.utils.cache": ["cache_dir"],
        "xdomain_tf.utils.download_progress": ["DownloadProgress"],
        "xdomain_tf.utils.file_digest": ["sha256_file", "verify_sha256"],
        "xdomain_tf.utils.graph_ops": ["op_types", "saved_model_op_types"],
        "xdomain_tf.utils.lazy_loading": ["lazy_exports"],
        "xdomain_tf.utils.processes": ["process_alive"],
        "xdomain_tf.utils.storage": [
            "FileSystem", "StorageError", "StoragePath", "is_url", "publish_folder", "register_file_system",
            "storage_path",
        ],
    },
)
