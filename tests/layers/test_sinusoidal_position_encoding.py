import numpy as np

from xdomain_tf.layers import SinusoidalPositionEncoding


def _reference(length, hidden, start=0, max_wavelength=10000.0):
    positions = np.arange(start, start + length, dtype="float64")[:, None]
    channels = np.arange(hidden)
    angles = positions / max_wavelength ** (2 * (channels // 2) / hidden)
    return np.where(channels % 2 == 0, np.sin(angles), np.cos(angles))


def test_matches_the_formula():
    encoding = SinusoidalPositionEncoding()(np.zeros((2, 7, 6), "float32")).numpy()
    assert encoding.shape == (2, 7, 6)
    np.testing.assert_allclose(encoding[0], _reference(7, 6), atol=1e-6)
    np.testing.assert_array_equal(encoding[0], encoding[1])


def test_start_index_and_wavelength():
    layer = SinusoidalPositionEncoding(max_wavelength=100.0)
    encoding = layer(np.zeros((1, 3, 8), "float32"), start_index=4).numpy()
    expected = _reference(3, 8, start=4, max_wavelength=100.0)
    np.testing.assert_allclose(encoding[0], expected, atol=1e-5)


def test_keras_round_trip(keras_round_trip):
    layer = SinusoidalPositionEncoding(max_wavelength=500.0, name="sinusoidal")
    reloaded = keras_round_trip(layer, [np.zeros((2, 5, 4), "float32")])
    assert reloaded.max_wavelength == 500.0
