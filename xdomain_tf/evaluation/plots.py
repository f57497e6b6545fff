"""Figures: confusion matrices, cross-domain transfer matrices, training curves.

Figures are drawn with `matplotlib.figure.Figure` on the Agg canvas, never with pyplot,
so they work without a display and leave a notebook's pyplot state alone. Each plot
function returns the `Figure` (a notebook shows it inline with `display(figure)`) or,
given a path, writes a PNG there atomically and returns the path.
"""
import io
import math

import numpy as np

from xdomain_tf.errors import XDomainError
from xdomain_tf.utils.atomic import atomic_path
from xdomain_tf.utils.storage import storage_path

# Bookkeeping entries of a MetricsHistory epoch that are not learning curves.
_NOT_CURVES = ("epoch", "step", "seconds", "examples_per_second")


def _new_figure(width, height):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)
    return figure


def _save(figure, path):
    if path is None:
        return figure
    path = storage_path(path)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getvalue())
    return path


def _heatmap(axes, values, row_names, col_names, cell_text, vmin=None, vmax=None):
    """Draws `values` as an image with names on both axes and `cell_text[i][j]` in cells."""
    import matplotlib

    rows, cols = values.shape
    finite = np.where(np.isfinite(values), values, np.nan)
    cmap = matplotlib.colormaps["Blues"].with_extremes(bad="#dddddd")
    image = axes.imshow(
        np.ma.masked_invalid(finite), cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto"
    )
    axes.set_xticks(range(cols), [str(name) for name in col_names], rotation=90 if cols > 6 else 0)
    axes.set_yticks(range(rows), [str(name) for name in row_names])
    low = np.nanmin(finite) if np.isfinite(finite).any() else 0.0
    high = np.nanmax(finite) if np.isfinite(finite).any() else 1.0
    low = low if vmin is None else vmin
    high = high if vmax is None else vmax
    middle = (low + high) / 2
    font_size = max(4, min(10, int(200 / max(rows, cols, 1))))
    for i in range(rows):
        for j in range(cols):
            if cell_text[i][j]:
                dark = np.isfinite(values[i, j]) and values[i, j] > middle
                axes.text(
                    j, i, cell_text[i][j], ha="center", va="center", fontsize=font_size,
                    color="white" if dark else "black",
                )
    return image


def confusion_matrix_plot(matrix, labels, path=None, title=None):
    """Draws a confusion matrix (rows true, columns predicted) with counts in cells.

    Cells are coloured by the fraction of their row (recall on the diagonal), so rare labels
    are as readable as frequent ones; a row without support stays white.

    Args:
        matrix: a square list of lists (or array) of counts, in `labels` order.
        labels: the label names for both axes.
        path: where to write the figure as a PNG; None (the default) writes nothing.
        title: a title over the figure.

    Returns:
        The `matplotlib.figure.Figure` when `path` is None, else the written path.

    Example:

    >>> figure = confusion_matrix_plot([[3, 1], [0, 2]], ["sport", "tech"], title="news")
    >>> figure.axes[0].get_title(), [t.get_text() for t in figure.axes[0].get_xticklabels()]
    ('news', ['sport', 'tech'])
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp(), "confusion.png")
    >>> confusion_matrix_plot([[3, 1], [0, 2]], ["sport", "tech"], path).name
    'confusion.png'
    """
    return _save(_confusion_figure(matrix, labels, title), path)


def _labelled(figure, axes, xlabel, ylabel, title):
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    if title:
        axes.set_title(title)
    figure.tight_layout()
    return figure


def _confusion_figure(matrix, labels, title=None):
    values = np.asarray(matrix, dtype=np.float64)
    labels = list(labels)
    if values.ndim != 2 or values.shape != (len(labels), len(labels)):
        raise XDomainError(
            f"confusion matrix of shape {values.shape} does not fit {len(labels)} labels"
        )
    size = max(4.0, 0.45 * len(labels) + 2.5)
    figure = _new_figure(size + 1.0, size)
    axes = figure.add_subplot()
    text = [[str(int(count)) for count in row] for row in values]
    row_sums = values.sum(axis=1, keepdims=True)
    fractions = np.divide(values, row_sums, out=np.zeros_like(values), where=row_sums > 0)
    image = _heatmap(axes, fractions, labels, labels, text, vmin=0.0, vmax=1.0)
    colorbar = figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    colorbar.set_label("fraction of the true label's examples")
    return _labelled(figure, axes, "predicted", "true", title)


def transfer_matrix_plot(matrix, row_names, col_names, path=None, title=None):
    """Draws a cross-domain transfer matrix as a heatmap with the scores in cells.

    Args:
        matrix: rows = the domain trained on, columns = the domain evaluated on; values
            in [0, 1] (macro-F1 or accuracy); NaN or None marks a cell not evaluated
            (drawn grey, empty).
        row_names: the training domains (e.g. "all but news" for a leave-one-out row).
        col_names: the evaluation domains.
        path: where to write the figure as a PNG; None (the default) writes nothing.
        title: a title over the figure, e.g. "macro-F1".

    Returns:
        The `matplotlib.figure.Figure` when `path` is None, else the written path.

    Example:

    >>> figure = transfer_matrix_plot([[0.9, 0.4]], ["news"], ["news", "debian"])
    >>> sorted(text.get_text() for text in figure.axes[0].texts)
    ['0.400', '0.900']
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp(), "transfer.png")
    >>> transfer_matrix_plot([[0.9, 0.4], [0.3, None]], ["news", "debian"],
    ...                      ["news", "debian"], path, "macro-F1").name
    'transfer.png'
    """
    return _save(_transfer_figure(matrix, row_names, col_names, title), path)


def _transfer_figure(matrix, row_names, col_names, title=None):
    rows = [[np.nan if v is None else float(v) for v in row] for row in matrix]
    if len(rows) != len(row_names) or any(len(row) != len(col_names) for row in rows):
        raise XDomainError(
            f"transfer matrix of {len(rows)} rows of lengths {sorted({len(r) for r in rows})} "
            f"does not fit {len(row_names)} training and {len(col_names)} evaluation domains"
        )
    if not rows or not col_names:
        raise XDomainError("transfer matrix is empty")
    values = np.array(rows, dtype=np.float64)
    width = max(4.0, 0.8 * len(col_names) + 3.5)
    height = max(3.0, 0.5 * len(row_names) + 2.5)
    figure = _new_figure(width, height)
    axes = figure.add_subplot()
    text = [[f"{v:.3f}" if np.isfinite(v) else "" for v in row] for row in values]
    image = _heatmap(axes, values, row_names, col_names, text, vmin=0.0, vmax=1.0)
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    return _labelled(figure, axes, "evaluated on", "trained on", title)


def _curves(epochs):
    """Groups epoch entries into `{metric: {"train": [(epoch, v)], "val": [(epoch, v)]}}`."""
    curves = {}
    for position, entry in enumerate(epochs, 1):
        epoch = entry.get("epoch", position)
        for key, value in entry.items():
            if key in _NOT_CURVES or isinstance(value, bool):
                continue
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                continue
            split, name = ("val", key[4:]) if key.startswith("val_") else ("train", key)
            curves.setdefault(name, {"train": [], "val": []})[split].append((epoch, value))
    return curves


def training_curves_plot(history, path=None, metrics=None):
    """Draws learning curves (one panel per metric, training and validation).

    Args:
        history: `{"epochs": [{"epoch": 1, "loss": ..., "val_loss": ..., ...}, ...]}` (the
            `MetricsHistory` JSON), or a Keras `History.history` dict of lists.
        path: where to write the figure as a PNG; None (the default) writes nothing.
        metrics: the metric names to draw (without `val_`), in panel order; default: all,
            `loss` first. Step, seconds and examples/s entries are never drawn.

    Returns:
        The `matplotlib.figure.Figure` when `path` is None, else the written path.

    Example:

    >>> history = {"epochs": [{"epoch": 1, "loss": 0.9, "val_loss": 1.0},
    ...                       {"epoch": 2, "loss": 0.5, "val_loss": 0.7}]}
    >>> [axes.get_title() for axes in training_curves_plot(history).axes]
    ['loss']
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp(), "curves.png")
    >>> training_curves_plot(history, path).name
    'curves.png'
    """
    return _save(_curves_figure(history, metrics), path)


def _curves_figure(history, metrics=None):
    if "epochs" in history:
        epochs = list(history["epochs"])
    else:
        length = max((len(v) for v in history.values()), default=0)
        epochs = [
            {"epoch": i + 1, **{k: v[i] for k, v in history.items() if i < len(v)}}
            for i in range(length)
        ]
    curves = _curves(epochs)
    if metrics is None:
        metrics = sorted(curves, key=lambda name: (name != "loss", name))
    missing = [name for name in metrics if name not in curves]
    if missing or not metrics:
        known = ", ".join(sorted(curves)) or "none"
        raise XDomainError(f"no curve for {', '.join(missing) or 'any metric'}; known: {known}")
    columns = min(3, len(metrics))
    rows = math.ceil(len(metrics) / columns)
    figure = _new_figure(4.2 * columns, 3.2 * rows)
    for panel, name in enumerate(metrics, 1):
        axes = figure.add_subplot(rows, columns, panel)
        for split, style in (("train", "o-"), ("val", "s--")):
            points = curves[name][split]
            if points:
                xs, ys = zip(*points)
                axes.plot(xs, ys, style, label=f"{'val_' if split == 'val' else ''}{name}")
        axes.set_title(name)
        axes.set_xlabel("epoch")
        axes.grid(alpha=0.3)
        axes.legend(fontsize=8)
    figure.tight_layout()
    return figure
