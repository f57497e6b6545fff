import keras
import pytest


@pytest.fixture
def mixed_precision():
    """Sets a global dtype policy for one test and restores float32 afterwards."""
    previous = keras.config.dtype_policy()

    def set_policy(name):
        keras.config.set_dtype_policy(name)

    yield set_policy
    keras.config.set_dtype_policy(previous)
