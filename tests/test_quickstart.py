from xdomain_tf.cli.main import build_parser
from xdomain_tf.quickstart import _print_summary


def _summary():
    return {
        "recipe": {"preset": "all-minilm-l6-v2", "pooling": "mean", "seq_len": 128, "epochs": 2,
                   "learning_rate": 2e-4, "batch_size": 32, "train_per_label": 150},
        "minutes": 7.4, "train_minutes": 5.1,
        "scores": {"news": {"n": 213, "accuracy": 0.977, "macro_f1": 0.9767, "tfidf_macro_f1": 0.956}},
        "tflite": {"quantize": "dynamic", "size_bytes": 23_000_000, "agreement": 0.99, "latency_ms_batch1": 14.0},
        "paths": {"model": "runs/quickstart/model.keras"},
    }


def test_the_end_table_shows_tfidf_beside_ours_the_recipe_and_the_time():
    lines = []
    _print_summary(_summary(), lines.append)
    assert lines[2].split() == ["news", "213", "0.977", "0.977", "0.956"]
    assert ("recipe: all-minilm-l6-v2, mean pooling, 128 tokens, 150 training examples per label, "
            "2 epochs at learning rate 0.0002, batch 32") in lines
    assert "finished in 7.4 minutes (training 5.1); wrote:" in lines


def test_the_learning_rate_flag_reaches_the_recipe_and_is_checked():
    parser = build_parser()
    assert parser.parse_args(["quickstart", "--learning-rate", "3e-4"]).learning_rate == 3e-4
    assert parser.parse_args(["quickstart"]).learning_rate is None
