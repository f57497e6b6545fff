"""`xdomain-tf export`: SavedModel for TF Serving and/or a checked TFLite file.

    xdomain-tf export --model RUN_DIR --saved-model export/NAME [--version N] [--overwrite]
                      [--warmup-data FILE] [--check]
    xdomain-tf export --model RUN_DIR --tflite FILE --quantize none|float16|dynamic|int8|int16x8|selective
                      [--with-tokenizer] [--calibration-data FILE] [--check-data FILE]
    xdomain-tf export --model export/NAME/<version> --check
"""
import json

from xdomain_tf.cli.flag_types import output_file, output_folder, positive_int


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "export",
        help="export a classifier run as a TF Serving SavedModel and/or a TFLite file",
        description=(
            "Export a trained classifier run: --saved-model writes export/NAME/<version>/ for TF Serving "
            "(raw text in, tokenization in the graph, warm-up requests, models.config updated); --tflite "
            "writes a TFLite file that is checked against the SavedModel before it is written. --check "
            "lists the graph's ops and fails when TF Serving 2.20 lacks one."
        ),
    )
    parser.add_argument("--model", required=True, metavar="RUN_DIR",
                        help="a classifier run directory (or, with --check alone, a SavedModel version folder)")
    serving = parser.add_argument_group("SavedModel for TF Serving")
    serving.add_argument("--saved-model", type=output_folder, metavar="DIR", help="the model's export folder, e.g. export/NAME")
    serving.add_argument("--version", type=positive_int, default=None, help="version number (default: the next one)")
    serving.add_argument("--overwrite", action="store_true", help="replace an existing --version")
    serving.add_argument("--warmup-data", nargs="+", metavar="FILE",
                         help="validation data for the warm-up requests (default: a few fixed texts)")
    serving.add_argument("--warmup-examples", type=positive_int, default=32, help="records read for warm-up (default: 32)")
    serving.add_argument("--model-name", default=None, help="the name in models.config (default: the folder name)")
    serving.add_argument("--models-config", default="auto", metavar="FILE",
                         help="the models.config to update ('auto': export/models.config when the folder is "
                              "inside export/; 'none': do not write one)")
    serving.add_argument("--check", action="store_true",
                         help="list every op in the graph and fail if TF Serving 2.20 cannot run one")
    lite = parser.add_argument_group("TFLite")
    lite.add_argument("--tflite", type=output_file, metavar="FILE", help="the .tflite file to write")
    lite.add_argument("--quantize", choices=("none", "float16", "dynamic", "int8", "int16x8", "selective"),
                      default="none",
                      help="none (float32), float16 weights, dynamic (int8 weights), int8 (full integer, "
                           "calibrated), int16x8 (int16 activations, int8 weights; token ids in, one length) or "
                           "selective (int8 except the ops TFLite's quantization debugger finds too lossy, kept "
                           "in float); default none")
    lite.add_argument("--with-tokenizer", action="store_true",
                      help="raw text in (tensorflow-text custom ops); default: token ids in, FILE.vocab.txt beside it")
    lite.add_argument("--calibration-data", nargs="+", metavar="FILE",
                      help="real training text for --quantize int8, int16x8 and selective (default: the run's "
                           "training files)")
    lite.add_argument("--calibration-examples", type=positive_int, default=200,
                      help="records that calibrate int8, int16x8 and selective (default: 200)")
    lite.add_argument("--check-data", nargs="+", metavar="FILE",
                      help="data to check label agreement on (default: the run's validation files)")
    lite.add_argument("--check-examples", type=positive_int, default=2000, help="most records checked (default: 2000)")
    lite.add_argument("--threads", type=positive_int, default=1, help="interpreter threads for the latency figure (default: 1)")
    parser.set_defaults(run=run)


def run(args):
    import pathlib

    from xdomain_tf.errors import XDomainError

    model = pathlib.Path(args.model)
    if not (args.saved_model or args.tflite):
        if args.check and (model / "saved_model.pb").exists():
            return _print_op_check(model)
        raise XDomainError("nothing to do: give --saved-model DIR and/or --tflite FILE (or --check on a SavedModel)")
    if (model / "saved_model.pb").exists():
        raise XDomainError(f"{model}: --model must be a run directory to export (this is a SavedModel)")

    if args.saved_model:
        from xdomain_tf.export.saved_model_export import saved_model

        models_config = None if args.models_config == "none" else args.models_config
        version_dir = saved_model(
            model, args.saved_model, models_config=models_config, log=print,
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
