"""`TFLitePredictor.classify`: raw text through a packed-ids file's length buckets."""
import numpy as np

from xdomain_tf.export.tflite_export import bucketed_inputs
from xdomain_tf.serving import TFLitePredictor

# 3 to 32 tokens: the 16-token bucket and the full 32-token signature.
TEXTS = ["goal", "the market " * 20, "algebra matrix equation", "", "market shares profit bank economy " * 2]


def test_classify_runs_each_text_in_its_bucket_and_answers_in_input_order(tflite_models):
    predictor = TFLitePredictor(tflite_models["ids"])
    domain_id = np.array([0, 0, 1, 1, 0], np.int32)
    features = predictor.preprocessor(np.array(TEXTS))
    ids = {name: features[name].numpy() for name in ("token_ids", "segment_ids", "padding_mask")}
    assert len(bucketed_inputs({**ids, "domain_id": domain_id}, predictor.lengths)) == 2
    outputs = predictor.classify(TEXTS, domain_id)
    # Every text alone through the full-length signature.
    for row in range(len(TEXTS)):
        one = {name: value[row : row + 1] for name, value in {**ids, "domain_id": domain_id}.items()}
        alone = predictor.run(**one)
        np.testing.assert_allclose(outputs["probabilities"][row], alone["probabilities"][0], atol=1e-5)
        assert outputs["label_id"][row] == alone["label_id"][0]
        assert outputs["score"][row] == np.float32(alone["score"][0])


def test_classify_of_a_text_file_runs_its_tokenizer(tflite_models):
    predictor = TFLitePredictor(tflite_models["text"])
    outputs = predictor.classify(TEXTS, [0] * len(TEXTS))
    expected = predictor.run(text=TEXTS, domain_id=np.zeros(len(TEXTS), np.int32))
    np.testing.assert_array_equal(outputs["probabilities"], expected["probabilities"])
