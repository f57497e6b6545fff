"""benchmarks/generative_pretraining.py: the README tables of its results, extra stages included."""
import importlib.util
import pathlib

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "generative_pretraining.py"


def load_script():
    spec = importlib.util.spec_from_file_location("generative_pretraining", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def transfer_report(debian, news):
    return {
        "metric": "macro_f1", "train_domains": ["debian", "news"], "eval_domains": ["debian", "news"],
        "matrix": [[debian, None], [None, news]], "all_but_one": {},
    }


def results():
    row = {"debian": 0.5, "news": 0.8, "overall_macro_f1": 0.65, "accuracy": 0.7}
    return {
        "settings": {"fine_tune_epochs": 3, "fine_tune_learning_rate": 5e-4, "pretrain_steps": 400},
        "clm_perplexity": {"news": {"own": 394.2, "wrong": 413.4, "none": 408.3, "tokens": 27047}},
        "held_out_perplexity": {},
        "fine_tuning_examples": 1911,
        "classification": {"MLM, mean": row},
        "samples": [],
        "mlm_matched": {
            "steps": 1200, "steps_factor": 3.0, "pretrain_seconds": 274.8, "clm_pretrain_seconds": 292.1,
            "mlm_400_step_seconds": 84.5, "final_training_metrics": {"debian_mlm_accuracy": 0.5, "mlm_accuracy": 0.078},
            "classification": {"MLM, 1200 steps (matched compute), mean": {**row, "news": 0.745}},
        },
        "transfer": {
            "held_out": ["news"], "pooling": "mean", "fine_tuning_examples": 1911,
            "runs": {
                "random init": {"init": "encoder_random.keras",
                                "reports": {"0": transfer_report(0.45, 0.76), "1": transfer_report(0.55, 0.70)}},
                "CLM without news": {"init": "clm_without_news.keras", "reports": {"0": transfer_report(0.51, 0.64)}},
            },
        },
    }


def test_tables_hold_the_matched_mlm_row_and_note():
    tables = load_script().markdown(results())
    assert "| MLM, 1200 steps (matched compute), mean | 0.500 | 0.745 | 0.650 |" in tables
    assert "ran 1,200 steps (3 x the CLM's 400) in 275 s; the CLM's 400 took 292 s" in tables
    assert "training accuracy was 0.078." in tables  # both domains, not the first per-domain key


def test_transfer_table_averages_seeds_and_marks_the_held_out_domain():
    tables = load_script().markdown(results())
    assert "| random init | 0.500 (0.450, 0.550) | 0.730 (0.760, 0.700) |" in tables
    assert "| CLM without news | 0.510 | 0.640* |" in tables
    assert "no cross-domain cell" in tables


def test_tables_of_a_results_file_without_the_extra_stages():
    plain = {key: value for key, value in results().items() if key not in ("mlm_matched", "transfer")}
    tables = load_script().markdown(plain)
    assert "matched" not in tables and "held out of that start" not in tables
    assert "| MLM, mean | 0.500 | 0.800 | 0.650 |" in tables
