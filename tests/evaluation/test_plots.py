import math

import numpy as np
import pytest
from matplotlib import image as mpimg

from xdomain_tf.errors import XDomainError
from xdomain_tf.evaluation import plots

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _read_png(path):
    assert path.read_bytes()[:8] == PNG_MAGIC
    return mpimg.imread(path)


def _cell_texts(axes):
    return {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in axes.texts}


def test_confusion_figure_names_axes_and_counts_cells():
    figure = plots._confusion_figure([[3, 1], [0, 12]], ["sport", "tech"], title="news")
    axes = figure.axes[0]
    assert [t.get_text() for t in axes.get_xticklabels()] == ["sport", "tech"]
    assert [t.get_text() for t in axes.get_yticklabels()] == ["sport", "tech"]
    assert _cell_texts(axes) == {(0, 0): "3", (0, 1): "1", (1, 0): "0", (1, 1): "12"}
    assert (axes.get_xlabel(), axes.get_ylabel(), axes.get_title()) == ("predicted", "true", "news")
    # Colours are row fractions; counts are the cell texts.
    np.testing.assert_allclose(axes.images[0].get_array(), [[0.75, 0.25], [0.0, 1.0]])
    assert axes.images[0].get_clim() == (0.0, 1.0)


def test_confusion_figure_row_without_support_is_zero():
    figure = plots._confusion_figure([[2, 0], [0, 0]], ["a", "b"])
    np.testing.assert_allclose(figure.axes[0].images[0].get_array(), [[1.0, 0.0], [0.0, 0.0]])


def test_confusion_matrix_plot_png(tmp_path):
    path = plots.confusion_matrix_plot([[3, 1], [0, 2]], ["a", "b"], tmp_path / "c.png")
    assert path == tmp_path / "c.png"
    pixels = _read_png(path)
    assert pixels.shape == (400, 500, 4)
    assert pixels[..., :3].std() > 0.05
    # The figure grows with the number of labels.
    big = plots.confusion_matrix_plot(np.eye(12, dtype=int), list("abcdefghijkl"), tmp_path / "big.png")
    height, width = _read_png(big).shape[:2]
    size = 0.45 * 12 + 2.5
    assert (height, width) == (round(100 * size), round(100 * (size + 1)))


def test_confusion_matrix_plot_rejects_wrong_shape(tmp_path):
    with pytest.raises(XDomainError, match="does not fit 3 labels"):
        plots.confusion_matrix_plot([[1, 0], [0, 1]], ["a", "b", "c"], tmp_path / "c.png")
    assert not list(tmp_path.iterdir())


def test_transfer_figure_values_and_missing_cells():
    figure = plots._transfer_figure(
        [[0.91234, float("nan")], [None, 0.5]], ["news", "all but news"], ["news", "debian"], "macro-F1"
    )
    axes = figure.axes[0]
    assert _cell_texts(axes) == {(0, 0): "0.912", (1, 1): "0.500"}
    assert [t.get_text() for t in axes.get_yticklabels()] == ["news", "all but news"]
    assert [t.get_text() for t in axes.get_xticklabels()] == ["news", "debian"]
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("evaluated on", "trained on")
    data = axes.images[0].get_array()
    assert data.mask.tolist() == [[False, True], [True, False]]
    assert axes.images[0].get_clim() == (0.0, 1.0)


def test_transfer_matrix_plot_png(tmp_path):
    path = plots.transfer_matrix_plot(
        [[0.9, 0.2, 0.3], [0.1, 0.8, 0.4]], ["a", "b"], ["a", "b", "c"], tmp_path / "t.png", "accuracy"
    )
    pixels = _read_png(path)
    assert pixels.shape == (round(100 * max(3.0, 0.5 * 2 + 2.5)), round(100 * max(4.0, 0.8 * 3 + 3.5)), 4)
    with pytest.raises(XDomainError, match="does not fit 2 training and 2 evaluation"):
        plots.transfer_matrix_plot([[0.1, 0.2], [0.3]], ["a", "b"], ["a", "b"], tmp_path / "x.png")


HISTORY = {
    "epochs": [
        {"epoch": 1, "step": 10, "seconds": 2.0, "examples_per_second": 50.0, "loss": 1.0, "val_loss": 1.5,
         "accuracy": 0.5, "val_accuracy": 0.4, "learning_rate": 1e-4},
        {"epoch": 2, "step": 20, "seconds": 2.0, "examples_per_second": 50.0, "loss": 0.6, "val_loss": 1.1,
         "accuracy": 0.7, "val_accuracy": float("nan"), "learning_rate": 5e-5},
    ]
}


def _lines(axes):
    return {line.get_label(): (list(line.get_xdata()), list(line.get_ydata())) for line in axes.lines}


def test_curves_figure_panels_and_data():
    figure = plots._curves_figure(HISTORY)
    assert [a.get_title() for a in figure.axes] == ["loss", "accuracy", "learning_rate"]
    assert _lines(figure.axes[0]) == {"loss": ([1, 2], [1.0, 0.6]), "val_loss": ([1, 2], [1.5, 1.1])}
    # A non-finite value is left out, not drawn as a gap-making NaN.
    assert _lines(figure.axes[1])["val_accuracy"] == ([1], [0.4])
    assert list(_lines(figure.axes[2])) == ["learning_rate"]


def test_curves_from_keras_history_dict_and_metric_choice():
    figure = plots._curves_figure({"loss": [0.9, 0.5, 0.4], "val_loss": [1.0, 0.8, 0.9]}, metrics=["loss"])
    assert len(figure.axes) == 1
    assert _lines(figure.axes[0])["val_loss"] == ([1, 2, 3], [1.0, 0.8, 0.9])


def test_training_curves_plot_png(tmp_path):
    pixels = _read_png(plots.training_curves_plot(HISTORY, tmp_path / "curves.png"))
    assert pixels.shape == (320, 3 * 420, 4)
    with pytest.raises(XDomainError, match="no curve for f1; known: accuracy, learning_rate, loss"):
        plots.training_curves_plot(HISTORY, tmp_path / "x.png", metrics=["f1"])
    with pytest.raises(XDomainError, match="known: none"):
        plots.training_curves_plot({"epochs": []}, tmp_path / "x.png")
    assert math.isnan(HISTORY["epochs"][1]["val_accuracy"])  # input left unchanged


def test_without_a_path_each_plot_returns_its_figure_and_writes_nothing(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    monkeypatch.chdir(tmp_path)
    confusion = plots.confusion_matrix_plot([[3, 1], [0, 2]], ["a", "b"], title="news")
    transfer = plots.transfer_matrix_plot([[0.9, 0.2]], ["a"], ["a", "b"], title="macro-F1")
    curves = plots.training_curves_plot(HISTORY, metrics=["loss"])
    assert all(isinstance(figure, Figure) for figure in (confusion, transfer, curves))
    assert confusion.axes[0].get_title() == "news" and _cell_texts(confusion.axes[0])[(1, 1)] == "2"
    assert _cell_texts(transfer.axes[0]) == {(0, 0): "0.900", (0, 1): "0.200"}
    assert [a.get_title() for a in curves.axes] == ["loss"]
    assert list(tmp_path.iterdir()) == []
    # The figure renders as the PNG a notebook shows inline.
    curves.savefig(tmp_path / "shown.png")
    assert _read_png(tmp_path / "shown.png").shape == (320, 420, 4)
