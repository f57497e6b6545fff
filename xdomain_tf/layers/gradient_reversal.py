"""Gradient reversal (Ganin & Lempitsky, 2015) for domain-adversarial training."""
import keras
from keras import ops


@keras.saving.register_keras_serializable(package="xdomain_tf")
class GradientReversal(keras.layers.Layer):
    """Identity forward; multiplies the gradient by `-lambda` backward.

    `lambda` lives in a non-trainable float32 variable (`lambda_variable`), so a callback can
    change it during training (`layer.set_lambda(0.5)`) without retracing.

    Args:
        lambda_value: the initial lambda.
        **kwargs: standard layer arguments.

    Example:

    >>> import numpy as np
    >>> layer = GradientReversal(lambda_value=0.5)
    >>> float(layer(np.array([2.0], "float32"))[0])
    2.0
    """

    def __init__(self, lambda_value=1.0, **kwargs):
        super().__init__(**kwargs)
        self.lambda_value = lambda_value
        self.lambda_variable = self.add_weight(
            name="lambda",
            shape=(),
            initializer=keras.initializers.Constant(lambda_value),
            trainable=False,
            dtype="float32",
        )
        self.built = True

    def set_lambda(self, value):
        """Sets lambda (e.g. from a schedule callback)."""
        self.lambda_variable.assign(float(value))

    def call(self, inputs):
        frozen = ops.stop_gradient(inputs)
        lambda_ = ops.cast(self.lambda_variable, inputs.dtype)
        # The second term is exactly zero forward; its gradient is -lambda.
        return frozen + lambda_ * (frozen - inputs)

    def compute_output_spec(self, inputs):
        return keras.KerasTensor(inputs.shape, dtype=inputs.dtype)

    def get_config(self):
        config = super().get_config()
        config.update({"lambda_value": float(ops.convert_to_numpy(self.lambda_variable))})
        return config
