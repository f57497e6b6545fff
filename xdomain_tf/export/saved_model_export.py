"""`saved_model`: exports a classifier run as a versioned SavedModel for TF Serving."""
import json
import os
import pathlib
import shutil
import tempfile

from xdomain_tf.errors import XDomainError
from xdomain_tf.utils.processes import process_alive
from xdomain_tf.utils.storage import (
    StoragePath, copy_tree, file_system, publish_folder, remove_tree, storage_path,
    temporary_sibling,
)

# Texts for warm-up requests when no validation data is given.
FALLBACK_WARMUP_TEXTS = (
    "A short example text.",
    "",
    "Ünïcode, punctuation… and numbers 12345 in a somewhat longer sentence that keeps going.",
)
# Copied last where a version is published object by object: TF Serving loads a version
# from this file, so once it is there every other file is.
PUBLISHED_LAST = ("saved_model.pb",)


def saved_model(
    model,
    export_base,
    version=None,
    overwrite=False,
    warmup_data=None,
    warmup_examples=32,
    check=False,
    models_config="auto",
    model_name=None,
    serving_base_path=None,
    pin_versions="auto",
    log=None,
):
    """Exports a classifier as `export_base/<version>/`, a SavedModel for TF Serving.

    The SavedModel is written to a hidden temporary folder inside `export_base` and renamed
    to its integer version only when complete, so a server watching `export_base` never
    loads half a version. `export_base` may be a URL of any TensorFlow file system
    (`gs://`, `s3://`, `hdfs://`, `ram://`): the SavedModel is built in a local temporary
    folder, copied to a hidden sibling of the version in `export_base` and published. Where
    the file system cannot rename a folder atomically (object stores, `ram://`) publishing
    copies object by object, `saved_model.pb` last, and, with a models.config, the entry's
    served versions are pinned (`specific` policy) before the copy and gain the new version
    only after it, so TF Serving never loads a half-copied version; an existing version
    cannot be replaced there (`overwrite` is refused). See export/README.md.

    Its signatures are described in `xdomain_tf.export.serving_module`; every weight is
    stored once (unlike Keras `model.export`, which stores each twice).

    The version folder also holds:

    - `assets/labels.json` (domains and their labels, in id order), `assets/vocab.txt`,
      `assets/metadata.json` (domains, labels, sequence length, tokenizer options,
      signatures, the ops the graph uses, versions of TensorFlow, tensorflow-text, Keras
      and xdomain_tf);
    - `assets.extra/tf_serving_warmup_requests`: `PredictionLog` records that TF Serving
      replays before serving, built from real examples (`warmup_data`) or a few texts.

    Args:
        model: a `MultiDomainTextClassifier`, a finished classifier run directory or a
            `.keras` file holding a classifier.
        export_base: the model's folder (e.g. `export/NAME`); versions go inside it.
        version: the integer version; None takes the next one after the highest present.
        overwrite: replace an existing `version` (otherwise that is an error).
        warmup_data: a data file (or list) of validation records for warm-up requests
            (default: examples the classifier was fitted on in this process, else a few
            fixed texts).
        warmup_examples: how many records to read from `warmup_data`.
        check: fail (XDomainError naming the ops, nothing written) when the graph uses an op
            that TF Serving 2.20 does not have (see `check_serving_ops`).
        models_config: a models.config path to add or update the model in; `"auto"` uses
            `models.config` beside `export_base` when that folder is named `export`; None
            writes none.
        model_name: the name in models.config (default: the folder name of `export_base`).
        serving_base_path: the model's folder as the server sees it (default:
            `/models/<model_name>`, export/ mounted at /models; for a URL `export_base`,
            the URL itself).
        pin_versions: whether the models.config entry serves a pinned list of versions
            that gains the new one only once it is published: `"auto"` where the file
            system of `export_base` has no atomic folder rename, True, or False (the
            entry's own policy, e.g. `latest`, is kept).
        log: a function taking one line of progress, e.g. `print`.

    Returns:
        The version folder written: a `pathlib.Path`, or a `StoragePath` for a URL.

    Example:

        path = saved_model(clf, "export/xdomain")        # export/xdomain/1
        path = saved_model("runs/news", "export/xdomain")  # export/xdomain/2
    """
    import tensorflow as tf

    from xdomain_tf.export.example_sample import read_examples
    from xdomain_tf.export.serving_module import ServingModule
    from xdomain_tf.export.serving_op_check import check_serving_ops
    from xdomain_tf.export.warmup_requests import warmup_predict_requests, write_warmup_requests
    from xdomain_tf.tasks import load_classifier

    if pin_versions not in ("auto", True, False):
        raise XDomainError(f"pin_versions must be 'auto', True or False, got {pin_versions!r}")
    log = log or (lambda line: None)
    export_base = storage_path(export_base)
    if export_base.exists() and not export_base.is_dir():
        raise XDomainError(f"{export_base}: exists and is not a folder")
    classifier, run = load_classifier(model)
    preprocessor = classifier.preprocessor
    export_base.mkdir(parents=True, exist_ok=True)
    remote = isinstance(export_base, StoragePath)
    atomic = file_system(export_base).atomic_rename
    reservation = None
    if remote:  # no O_EXCL there: one export at a time per base (see export/README.md)
        version = choose_version(export_base, version, overwrite)
        if not atomic and (export_base / str(version)).exists():
            raise XDomainError(
                f"{export_base / str(version)}: exists; {export_base.scheme}:// has no atomic rename, so a version "
                "is never replaced in place: export a new version"
            )
    else:
        version, reservation = reserve_version(export_base, version, overwrite)
    model_name = model_name or export_base.resolve().name
    if models_config == "auto":
        models_config = export_base.parent / "models.config" if export_base.resolve().parent.name == "export" else None
    serving_base_path = serving_base_path or (str(export_base) if remote else f"/models/{model_name}")
    pinned = bool(models_config) and (pin_versions is True or (pin_versions == "auto" and not atomic))

    # A URL base gets the SavedModel built here first: the writers below need local files.
    staging = pathlib.Path(tempfile.mkdtemp(prefix=f".{version}.tmp-", dir=None if remote else export_base))
    try:
        assets_dir = staging / "source_assets"
        assets_dir.mkdir()
        target = staging / "saved_model"
        (assets_dir / "labels.json").write_text(
            json.dumps(labels_document(classifier), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        preprocessor.tokenizer.save_vocabulary(str(assets_dir / "vocab.txt"))
        metadata_path = assets_dir / "metadata.json"
        metadata_path.write_text("{}", encoding="utf-8")
        module = ServingModule(
            classifier,
            assets={
                "labels_file": assets_dir / "labels.json",
                "vocab_file": assets_dir / "vocab.txt",
                "metadata_file": metadata_path,
            },
        )
        signatures = module.signatures()
        metadata = export_metadata(run, module, signatures)
        metadata_path.write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        log(f"writing SavedModel version {version} ({len(signatures)} signatures)")
        tf.saved_model.save(module, str(target), signatures=signatures)

        ops = check_serving_ops(target)
        if ops["unsupported"]:
            message = (
                f"the graph uses op(s) that TF Serving 2.20 cannot run: {', '.join(ops['unsupported'])} "
                "(neither core TensorFlow nor tensorflow-text 2.20 ops)"
            )
            if check:
                raise XDomainError(message)
            log("warning: " + message)
        metadata["ops"] = {key: ops[key] for key in ("core", "tensorflow_text", "unsupported")}
        # The asset copy inside the SavedModel gets the op lists too.
        (target / "assets" / "metadata.json").write_text(
            json.dumps(metadata, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )

        if warmup_data:
            examples = read_examples(warmup_data, warmup_examples, domains=module.domain_names)
        elif classifier.example_records:
            examples = list(classifier.example_records[:warmup_examples])
        else:
            examples = [
                {"text": text, "domain": domain} for domain in module.domain_names for text in FALLBACK_WARMUP_TEXTS
            ]
        requests = warmup_predict_requests(
            model_name, examples, module.signature_inputs(), tokenize=module.tokenize_numpy
        )
        write_warmup_requests(target, requests)
        log(f"warm-up: {len(requests)} requests from {len(examples)} examples")

        final = export_base / str(version)
        served = None
        if pinned:
            served = _pin_served_versions(models_config, model_name, serving_base_path, export_base, exclude=version)
        if remote:
            _publish_version(target, final, overwrite)
        else:
            if final.exists():
                if not overwrite:  # written meanwhile by something that took no reservation
                    raise XDomainError(f"{final} exists; pass overwrite to replace it")
                old = staging / "replaced"
                os.replace(final, old)
            os.replace(target, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if reservation is not None:
            reservation.unlink(missing_ok=True)

    if models_config:
        from xdomain_tf.export.models_config import update_models_config

        if pinned:
            # As many versions as were served, the new one replacing the oldest.
            count = max(len(served), 1) if served is not None else 1
            versions = sorted(set(served or ()) | {version})[-count:]
            update_models_config(models_config, model_name, serving_base_path, versions=versions)
            log(f"updated {models_config} (model {model_name!r} serves versions {versions})")
        else:
            update_models_config(models_config, model_name, serving_base_path)
            log(f"updated {models_config} (model {model_name!r})")
    return final


def _publish_version(local_version, final, overwrite):
    """Copies a finished local SavedModel to a hidden sibling of `final` (a URL) and
    publishes it there (`publish_folder`: one rename, or object by object with
    `PUBLISHED_LAST` last)."""
    staging = temporary_sibling(final)
    try:
        copy_tree(local_version, staging)
        if final.exists() and not overwrite:  # written meanwhile by another export
            raise XDomainError(f"{final}: exists; pass overwrite to replace it")
        publish_folder(staging, final, last=PUBLISHED_LAST)
    finally:
        remove_tree(staging)


def _pin_served_versions(models_config, model_name, base_path, export_base, exclude):
    """Pins the entry of `model_name` to the versions it serves now (its policy becomes
    `specific`), so a version being copied is not loaded; returns them, or None when the
    file has no entry yet (it is added once the version is published)."""
    from xdomain_tf.export.models_config import served_versions, update_models_config

    complete = [
        number for number in existing_versions(export_base)
        if number != exclude and (export_base / str(number) / "saved_model.pb").exists()
    ]
    served = served_versions(models_config, model_name, complete)
    if served is None:
        return None
    update_models_config(models_config, model_name, base_path, versions=served)
    return served


def labels_document(classifier):
    """`{"domains": [{"name", "labels"}]}`: the labels.json of an export, ids in list order.

    Example:

    >>> from types import SimpleNamespace
    >>> labels_document(SimpleNamespace(domains={"news": ["politics", "sport"]}))
    {'domains': [{'name': 'news', 'labels': ['politics', 'sport']}]}
    """
    return {"domains": [{"name": domain, "labels": list(labels)} for domain, labels in classifier.domains.items()]}


def existing_versions(export_base):
    """The integer version folders in `export_base` (local or a URL), sorted.

    Example:

    >>> import pathlib, tempfile
    >>> base = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ("10", "2", "notes"):
    ...     (base / name).mkdir()
    >>> existing_versions(base)
    [2, 10]
    """
    export_base = storage_path(export_base)
    if not export_base.is_dir():
        return []
    return sorted(int(child.name) for child in export_base.iterdir() if child.is_dir() and child.name.isdigit())


def choose_version(export_base, version, overwrite):
    """The version to write: `version` checked, or the next one after the highest present.

    Example:

    >>> import pathlib, tempfile
    >>> base = pathlib.Path(tempfile.mkdtemp())
    >>> (base / "1").mkdir(); (base / "3").mkdir()
    >>> choose_version(base, None, overwrite=False), choose_version(base, 3, overwrite=True)
    (4, 3)
    """
    versions = existing_versions(export_base)
    if version is None:
        return (versions[-1] + 1) if versions else 1
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise XDomainError(f"version must be a positive integer, got {version!r}")
    if version in versions and not overwrite:
        raise XDomainError(f"{storage_path(export_base) / str(version)} exists; pass overwrite to replace it")
    return version


def reserve_version(export_base, version, overwrite):
    """Claims a version number for one export: `(version, reservation file)`.

    The claim is a file `.<version>.reserved` (holding the exporting process id) created
    with `O_EXCL`, so two exports running at once never get the same number: the second
    takes the next free one, or fails when it asked for that very `version`. A reservation
    left by a process that no longer runs is taken over. Delete the file when done.

    Example:

    >>> import pathlib, tempfile
    >>> base = pathlib.Path(tempfile.mkdtemp())
    >>> (base / "1").mkdir()
    >>> first, claim = reserve_version(base, None, overwrite=False)
    >>> second, other = reserve_version(base, None, overwrite=False)
    >>> first, second, claim.name
    (2, 3, '.2.reserved')
    """
    export_base = pathlib.Path(export_base)
    while True:
        reserved = _reserved_versions(export_base)
        chosen = choose_version(export_base, version, overwrite)
        if version is None:
            while chosen in reserved:
                chosen += 1
        path = export_base / f".{chosen}.reserved"
        try:
            descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            if _holder_alive(path):
                if version is not None:
                    raise XDomainError(
                        f"{export_base / str(chosen)} is being exported by another process ({path.name})"
                    ) from None
                continue
            path.unlink(missing_ok=True)  # a reservation of a process that is gone
            continue
        with os.fdopen(descriptor, "w") as handle:
            handle.write(str(os.getpid()))
        return chosen, path


def _reserved_versions(export_base):
    found = set()
    for path in export_base.glob(".*.reserved"):
        number = path.name[1 : -len(".reserved")]
        if number.isdigit() and _holder_alive(path):
            found.add(int(number))
    return found


def _holder_alive(path):
    try:
        pid = int(path.read_text().strip() or 0)
    except (OSError, ValueError):
        return True  # being written right now
    return process_alive(pid)


def export_metadata(run, module, signatures):
    """The metadata.json of an export (ops are added after saving).

    Example (as `saved_model` calls it):

    >>> metadata = export_metadata(run, module, signatures)  # doctest: +SKIP
    >>> metadata["format"], [domain["signature"] for domain in metadata["domains"]]  # doctest: +SKIP
    ('xdomain_tf.saved_model/1', ['classify_news', 'classify_debian'])
    """
    import keras
    import tensorflow as tf
    import tensorflow_text

    from xdomain_tf.export.serving_module import classify_signature_name
    from xdomain_tf.tasks.multi_domain_text_classifier import INFERENCE_PAD_MULTIPLE
    from xdomain_tf.version import __version__

    tokenizer = module.preprocessor.tokenizer
    info = run.run_info() if run is not None else {}
    return {
        "format": "xdomain_tf.saved_model/1",
        "domains": [
            {"name": domain, "labels": labels, "signature": classify_signature_name(domain)}
            for domain, labels in module.domain_labels.items()
        ],
        "max_labels": module.max_labels,
        "sequence_length": module.preprocessor.sequence_length,
        "preprocessor": {
            "truncation": module.preprocessor.truncation,
            "pad_to": "longest",  # the text signatures; predict_ids takes sequence_length
            "pad_to_multiple_of": INFERENCE_PAD_MULTIPLE,
            "lowercase": tokenizer.lowercase,
            "strip_accents": tokenizer.strip_accents,
            "normalization": tokenizer.normalization,
            "vocabulary_size": tokenizer.vocabulary_size,
        },
        "pooling": getattr(module.model, "pooling", "cls"),
        "uses_adapters": module.uses_adapters,
        "signatures": {
            name: {
                "inputs": {
                    key: {"dtype": spec.dtype.name, "shape": spec.shape.as_list()}
                    for key, spec in function.structured_input_signature[1].items()
                },
                "outputs": {
                    key: {"dtype": spec.dtype.name, "shape": spec.shape.as_list()}
                    for key, spec in function.structured_outputs.items()
                },
            }
            for name, function in signatures.items()
        },
        "versions": {
            "tensorflow": tf.__version__,
            "tensorflow_text": tensorflow_text.__version__,
            "keras": keras.__version__,
            "xdomain_tf": __version__,
            "minimum_tf_serving": "2.20",
        },
        # The run's folder name, not its path: an export must not reveal the machine's layout.
        "run": None if run is None else {"name": storage_path(run.path).resolve().name, "created": info.get("created")},
    }
