"""Evaluation: classification metrics, multi-domain and transfer reports, plots, a baseline.

Pure numpy / scikit-learn / matplotlib; nothing here imports TensorFlow.
"""
from xdomain_tf.evaluation.classification_report import classification_report
from xdomain_tf.evaluation.evaluation_report import evaluation_report, file_stem, write_report
from xdomain_tf.evaluation.plots import confusion_matrix_plot, training_curves_plot, transfer_matrix_plot
from xdomain_tf.evaluation.tfidf_baseline import TfidfBaseline
from xdomain_tf.evaluation.transfer_report import transfer_matrix, transfer_report

__all__ = [
    "TfidfBaseline",
    "classification_report",
    "confusion_matrix_plot",
    "evaluation_report",
    "file_stem",
    "training_curves_plot",
    "transfer_matrix",
    "transfer_matrix_plot",
    "transfer_report",
    "write_report",
]
