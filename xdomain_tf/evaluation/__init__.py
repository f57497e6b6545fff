"""Evaluation: classification metrics, multi-domain and transfer reports, plots, a baseline.

Pure numpy / scikit-learn / matplotlib; nothing here imports TensorFlow.
"""

__all__ = [
    "attribution_page", "classification_report", "confusion_matrix_plot", "evaluation_report", "file_stem",
    "TfidfBaseline", "training_curves_plot", "transfer_matrix", "transfer_matrix_plot",
    "transfer_report", "worst_label", "write_attribution_page", "write_report",
]

from xdomain_tf.utils.lazy_loading import lazy_exports  # noqa: E402

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "xdomain_tf.evaluation.attribution_html": ["attribution_page", "write_attribution_page"],
        "xdomain_tf.evaluation.classification_metrics": ["classification_report", "worst_label"],
        "xdomain_tf.evaluation.multi_domain_report": ["evaluation_report", "file_stem", "write_report"],
        "xdomain_tf.evaluation.plots": ["confusion_matrix_plot", "training_curves_plot", "transfer_matrix_plot"],
        "xdomain_tf.evaluation.tfidf_baseline": ["TfidfBaseline"],
        "xdomain_tf.evaluation.transfer_results": ["transfer_matrix", "transfer_report"],
    },
)
