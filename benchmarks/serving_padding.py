"""The padding tax at batch 1: our exported SavedModel (pads each batch to its longest
text, rounded up to 8) against the same graph padding to the full sequence length (what
exports did before), on short real-looking texts, all-MiniLM-L6-v2 at sequence length 128,
one thread, interleaved, median of 60 calls each.

    python benchmarks/serving_padding.py
"""
import time, statistics, tempfile, numpy as np, tensorflow as tf
import xdomain_tf
from xdomain_tf.tasks import MultiDomainTextClassifier
from xdomain_tf.export import saved_model
tf.config.threading.set_intra_op_parallelism_threads(1); tf.config.threading.set_inter_op_parallelism_threads(1)
clf = MultiDomainTextClassifier.from_preset("all-minilm-l6-v2", domains={"news": ["a", "b", "c"]}, sequence_length=128)
short = ["Great match tonight, what a goal from the striker in the last minute!",
         "New phone update broke my battery life again, anyone else?",
         "Stocks fell sharply after the bank announced weaker profits this quarter.",
         "Cannot believe the election results are already out, turnout was huge."]
base = tempfile.mkdtemp()
version = saved_model(clf, base + "/m")
new = tf.saved_model.load(str(version)).signatures["serving_default"]
fixed_pre = clf.preprocessor.with_options(pad_to="fixed")
@tf.function(input_signature=[tf.TensorSpec([None], tf.string), tf.TensorSpec([None], tf.string)])
def old(text, domain):
    features = dict(fixed_pre({"text": text}))
    features["domain_id"] = clf.domain_ids(domain)
    return clf.classify_features(features)
def timed(f, text):
    t = time.perf_counter(); f(text=tf.constant([text]), domain=tf.constant(["news"])); return time.perf_counter() - t
for f in (new, old):
    for s in short: timed(f, s)
res = {"new": [], "old": []}
for r in range(15):
    for s in short:
        res["new"].append(timed(new, s)); res["old"].append(timed(old, s))
a, b = statistics.median(res["new"]) * 1000, statistics.median(res["old"]) * 1000
print(f"RESULT batch1 short: longest-padding export {a:.2f} ms, fixed-length graph {b:.2f} ms, ratio {b/a:.2f}")
