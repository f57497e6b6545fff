"""AdamW with a learning-rate multiplier per variable (layer-wise learning-rate decay)."""
import re

import keras

_BLOCK = re.compile(r"transformer_layer_(\d+)")


@keras.saving.register_keras_serializable(package="xdomain_tf")
class LayerwiseAdamW(keras.optimizers.AdamW):
    """AdamW whose step for each variable is scaled by a layer-wise multiplier.

    With `layerwise_decay=d` and `num_layers=L`, variables of encoder block `i`
    (a path containing `transformer_layer_i`) learn at `lr * d ** (L - i)`, the embeddings
    (a path with an `embeddings` part) at `lr * d ** (L + 1)`, everything else (pooler,
    heads) at `lr`. `layerwise_decay=1.0` is plain AdamW. Weight decay skips biases and
    LayerNorm parameters.

    Args:
        learning_rate: a float or a schedule.
        layerwise_decay: the per-layer factor `d` in (0, 1].
        num_layers: the encoder depth `L`.
        weight_decay: decoupled weight decay.
        **kwargs: passed to `keras.optimizers.AdamW`.

    Example:

    >>> optimizer = LayerwiseAdamW(1e-3, layerwise_decay=0.5, num_layers=2)
    >>> optimizer.multiplier_for_path("encoder/transformer_layer_0/attention/kernel")
    0.25
    """

    def __init__(self, learning_rate=1e-3, layerwise_decay=1.0, num_layers=0, weight_decay=0.01, **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, **kwargs)
        if not 0.0 < layerwise_decay <= 1.0:
            raise ValueError(f"LayerwiseAdamW: layerwise_decay must be in (0, 1], got {layerwise_decay}")
        self.layerwise_decay = layerwise_decay
        self.num_layers = num_layers
        self.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])
        self._multipliers = {}

    def multiplier_for_path(self, path):
        """The learning-rate multiplier for a variable path."""
        if self.layerwise_decay == 1.0:
            return 1.0
        match = _BLOCK.search(path)
        if match:
            return self.layerwise_decay ** (self.num_layers - int(match.group(1)))
        if "embeddings" in path.split("/"):
            return self.layerwise_decay ** (self.num_layers + 1)
        return 1.0

    def build(self, variables):
        super().build(variables)
        self._multipliers = {self._var_key(v): self.multiplier_for_path(v.path) for v in variables}

    def update_step(self, gradient, variable, learning_rate):
        multiplier = self._multipliers.get(self._var_key(variable), 1.0)
        if multiplier != 1.0:
            learning_rate = learning_rate * multiplier
        super().update_step(gradient, variable, learning_rate)

    def get_config(self):
        config = super().get_config()
        config.update(layerwise_decay=self.layerwise_decay, num_layers=self.num_layers)
        return config
