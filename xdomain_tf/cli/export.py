"""`xdomain-tf export`: SavedModel for TF Serving and/or a checked TFLite file.

    xdomain-tf export --model RUN_DIR --saved-model export/NAME [--version N] [--overwrite]
                      [--warmup-data FILE] [--check]
    xdomain-tf export --model RUN_DIR --tflite FILE --quantize none|float16|dynamic|int8|int16x8|selective
                      [--with-tokenizer] [--calibration-data FILE] [--check-data FILE]
    xdomain-tf export --model export/NAME/<version> --check
"""
import dataclasses
import json
import typing

from xdomain_tf.cli.flag_types import output_file, output_folder
from xdomain_tf.cli.training_flags import add_option_flags, manual_parser
from xdomain_tf.training.option_fields import option_field

QUANTIZATIONS = ("none", "float16", "dynamic", "int8", "int16x8", "selective")
_POSITIVE = dict(check=lambda v: v >= 1, what="a positive integer", metavar="N")

EXAMPLES = """\
examples:
  # a SavedModel for TF Serving, its ops checked against TF Serving 2.20
  xdomain-tf export --model runs/news --saved-model export/news --check

  # an int8 TFLite file, calibrated on the run's training files and checked
  # on its validation files
  xdomain-tf export --model runs/news --tflite news.tflite --quantize int8

  # the ops of a SavedModel already exported
  xdomain-tf export --model export/news/1 --check"""


@dataclasses.dataclass
class ExportOptions:
    """The flags of `xdomain-tf export` (the export functions of `xdomain_tf.export` take
    the same names).

    Example:

    >>> ExportOptions(model="runs/news", tflite="news.tflite").quantize
    'none'
    """

    model: str = option_field(
        None, "a classifier run directory (or, with --check alone, a SavedModel version folder)", metavar="RUN_DIR")
    saved_model: str = option_field(None, "the model's export folder, e.g. export/NAME or gs://BUCKET/NAME",
                                    group="serving", metavar="DIR")
    version: int = option_field(None, "version number (default: the next one)", group="serving", **_POSITIVE)
    overwrite: bool = option_field(False, "replace an existing --version", group="serving")
    warmup_data: typing.List[str] = option_field(
        None, "validation data for the warm-up requests (default: a few fixed texts)", group="serving",
        metavar="FILE")
    warmup_examples: int = option_field(32, "records read for warm-up", group="serving", **_POSITIVE)
    model_name: str = option_field(None, "the name in models.config (default: the folder name)", group="serving",
                                   metavar="NAME")
    models_config: str = option_field(
        "auto", "the models.config to update ('auto': export/models.config when the folder is inside export/; "
        "'none': do not write one)", group="serving", metavar="FILE")
    pin_versions: str = option_field(
        "auto", "models.config serves a pinned list of versions that gains the new one once it is published: auto "
        "(where the file system has no atomic rename: gs://, s3://, ram://), on or off", group="serving",
        choices=("auto", "on", "off"))
    check: bool = option_field(False, "list every op in the graph and fail if TF Serving 2.20 cannot run one",
                               group="serving")
    tflite: str = option_field(None, "the .tflite file to write (local or a URL)", group="tflite", metavar="FILE")
    quantize: str = option_field(
        "none", "none (float32), float16 weights, dynamic (int8 weights), int8 (full integer, calibrated), "
        "int16x8 (int16 activations, int8 weights; token ids in, one length) or selective (int8 except the ops "
        "TFLite's quantization debugger finds too lossy, kept in float)", group="tflite", choices=QUANTIZATIONS)
    with_tokenizer: bool = option_field(
        False, "raw text in (tensorflow-text custom ops); default: token ids in, FILE.vocab.txt beside it",
        group="tflite")
    calibration_data: typing.List[str] = option_field(
        None, "real training text for --quantize int8, int16x8 and selective (default: the run's training files)",
        group="tflite", metavar="FILE")
    calibration_examples: int = option_field(200, "records that calibrate int8, int16x8 and selective",
                                             group="tflite", **_POSITIVE)
    check_data: typing.List[str] = option_field(
        None, "data to check label agreement on (default: the run's validation files)", group="tflite",
        metavar="FILE")
    check_examples: int = option_field(2000, "most records checked", group="tflite", **_POSITIVE)
    threads: int = option_field(1, "interpreter threads for the latency figure", group="tflite", **_POSITIVE)


def add_parser(subparsers):
    parser = manual_parser(
        subparsers,
        "export",
        help="export a classifier run as a TF Serving SavedModel and/or a TFLite file",
        description="""\
Export a trained classifier run: --saved-model writes export/NAME/<version>/
for TF Serving (raw text in, tokenization in the graph, warm-up requests,
models.config updated); --tflite writes a TFLite file that is checked against
the SavedModel before it is written. --check lists the graph's ops and fails
when TF Serving 2.20 lacks one.""",
        examples=EXAMPLES,
    )
    add_option_flags(parser, ExportOptions, flags={
        "model": dict(required=True),
        "saved_model": dict(type=output_folder),
        "overwrite": dict(action="store_true"),
        "check": dict(action="store_true"),
        "tflite": dict(type=output_file),
        "with_tokenizer": dict(action="store_true"),
    })
    parser.set_defaults(run=run)


def run(args):
    import pathlib

    from xdomain_tf.errors import XDomainError
    from xdomain_tf.utils.storage import storage_path

    model = storage_path(args.model)
    if not isinstance(model, pathlib.Path):
        model.exists()  # a URL's file system answers (else one line naming the URL)
    if not (args.saved_model or args.tflite):
        if args.check and (model / "saved_model.pb").exists():
            return _print_op_check(model)
        raise XDomainError("nothing to do: give --saved-model DIR and/or --tflite FILE (or --check on a SavedModel)")
    if (model / "saved_model.pb").exists():
        raise XDomainError(f"{model}: --model must be a run directory to export (this is a SavedModel)")

    if args.saved_model:
        from xdomain_tf.export.saved_model_export import saved_model

        models_config = None if args.models_config == "none" else args.models_config
        pin_versions = {"auto": "auto", "on": True, "off": False}[args.pin_versions]
        version_dir = saved_model(
            model, args.saved_model, models_config=models_config, pin_versions=pin_versions, log=print,
            **_flags(args, "version", "overwrite", "warmup_data", "warmup_examples", "check", "model_name"),
        )
        size = sum(path.stat().st_size for path in version_dir.rglob("*") if path.is_file())
        print(f"saved model: {version_dir} ({size / 1e6:.2f} MB)")
        if args.check:
            _print_op_check(version_dir)
    if args.tflite:
        from xdomain_tf.export.tflite_export import tflite

        report = tflite(
            model, args.tflite, num_threads=args.threads, log=print,
            **_flags(args, "quantize", "with_tokenizer", "calibration_data", "calibration_examples", "check_data",
                     "check_examples"),
        )
        print(
            f"tflite: {report['path']} ({report['size_bytes'] / 1e6:.2f} MB, {report['quantize']}), "
            f"agreement {report['agreement']:.2%} on {report['check_examples']} examples, "
            f"{report['latency_ms_batch1']:.2f} ms at batch 1"
        )
        print(json.dumps({"tflite": report}))
    return 0


def _print_op_check(saved_model_dir):
    from xdomain_tf.errors import OperationError
    from xdomain_tf.export.serving_op_check import check_serving_ops

    report = check_serving_ops(saved_model_dir)
    print(f"ops in {saved_model_dir} ({len(report['ops'])}):")
    for group in ("core", "tensorflow_text", "unsupported"):
        print(f"  {group} ({len(report[group])}): {', '.join(report[group]) or '-'}")
    if report["unsupported"]:
        raise OperationError(
            f"{saved_model_dir}: op(s) {', '.join(report['unsupported'])} are neither core TensorFlow nor "
            "tensorflow-text 2.20 ops; TF Serving 2.20 cannot load this model"
        )
    print("ok: TF Serving 2.20 (tensorflow-text 2.20.0) has every op")
    return 0


def _flags(args, *names):
    """`{name: args.name}`: the flags passed on under their own names."""
    return {name: getattr(args, name) for name in names}
