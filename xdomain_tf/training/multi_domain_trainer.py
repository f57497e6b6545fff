"""The training-time wrapper of a multi-domain classifier: loss weighting across domains,
domain-adversarial training and auxiliary translation-pair alignment."""
import keras
from keras import ops
from keras.src.losses.loss import scale_loss_for_distribution

from xdomain_tf.layers.gradient_reversal import GradientReversal
from xdomain_tf.models.domain_losses import masked_domain_losses
from xdomain_tf.models.encoder_task_model import ENCODER_FEATURES
from xdomain_tf.models.similarity_logits import SimilarityLogits
from xdomain_tf.training.distribution.local_symbolic_build import LocalSymbolicBuild
from xdomain_tf.training.pretraining.losses import info_nce_loss

ADVERSARY_OUTPUT = "_domain_adversary"
ALIGN_INPUT = "align"
ALIGN_OUTPUT = "_alignment_logits"


class MultiDomainTrainer(LocalSymbolicBuild, keras.Model):
    """Trains a multi-domain classifier; save `trainer.classifier`, not the trainer.

    The loss is a sum over domains of each domain head's mean cross-entropy over that
    domain's examples in the batch (examples of other domains carry label -1):
    - `equal`: weight 1 each;
    - `static`: `domain_weights[d]` (1 for domains not listed);
    - `uncertainty`: learned homoscedastic uncertainty (Kendall et al., 2018):
      `sum_d exp(-s_d) * L_d + s_d` with a trainable log-variance `s_d` per domain
      (only domains present in the batch contribute).
    With `adversarial`, a domain classifier on the pooled encoder output (what the heads see), behind a
    `GradientReversal` layer, adds `adversarial_weight * CE(domain)`; the encoder learns
    features the domain classifier cannot separate. `DomainAdversarySchedule` ramps the
    reversal's lambda as Ganin et al. (2016).

    With `class_weights`, each example's cross-entropy in its domain's loss is
    multiplied by its label's weight (see `masked_domain_losses`).

    With `align_weight > 0`, translation-pair alignment is an auxiliary task: a batch
    whose features hold `x["align"]` (`source_token_ids`, `source_segment_ids`,
    `source_padding_mask` and the same with `target_`: row `i` of each side are
    translations of each other) also encodes both sides with the classifier's encoder,
    pooled as the classifier pools (what the heads see; domain id 0 for an encoder with
    adapters), L2-normalizes them and adds `align_weight *` the symmetric in-batch InfoNCE
    loss of pretraining's `contrastive` objective (`info_nce_loss`) at the fixed
    `align_temperature`. Fine-tuning then keeps the languages aligned instead of washing
    out what pretraining aligned. Batches without `"align"` (validation data) train and
    score the classifier alone.

    Per-domain losses (`<domain>_loss`), the uncertainty weights, the adversary loss and
    the alignment loss (`align_loss`, in training only) are reported as metrics.

    Args:
        classifier: a `MultiDomainClassifier` (dict of logits by domain).
        domains: the domain names, in `domain_id` order.
        loss_weighting: `equal`, `static` or `uncertainty`.
        domain_weights: `{domain: weight}` for `static`.
        adversarial: add the domain-adversarial classifier.
        adversarial_weight: weight of its loss.
        class_weights: optional `{domain: [weight of label id 0, 1, ...]}`
            (`xdomain_tf.data.class_weights.resolve_class_weights`).
        align_weight: weight of the auxiliary alignment loss (0: off, the pairs of
            `x["align"]` are ignored).
        align_temperature: its softmax temperature, > 0.
        **kwargs: passed to `keras.Model`.

    Example:

    >>> import xdomain_tf
    >>> encoder = xdomain_tf.TransformerEncoder(xdomain_tf.EncoderConfig.architecture("bert_tiny", vocab_size=50))
    >>> classifier = xdomain_tf.models.MultiDomainClassifier(encoder, {"a": ["x", "y"], "b": ["u", "v", "w"]})
    >>> trainer = MultiDomainTrainer(classifier, ["a", "b"], loss_weighting="uncertainty")
    >>> trainer.compile(optimizer="adam")
    >>> import numpy as np
    >>> ids = np.array([[2, 7, 3], [2, 9, 3]], "int32")
    >>> x = {"token_ids": ids, "segment_ids": 0 * ids, "padding_mask": 1 + 0 * ids, "domain_id": np.array([0, 1], "int32")}
    >>> pairs = {f"{side}_{key}": x[key] for side in ("source", "target") for key in ("token_ids", "segment_ids", "padding_mask")}
    >>> aligning = MultiDomainTrainer(classifier, ["a", "b"], align_weight=0.5, align_temperature=0.1)
    >>> aligning.compile(optimizer="adam")
    >>> tuple(aligning({**x, "align": pairs})[ALIGN_OUTPUT].shape)
    (2, 2)
    """

    def __init__(
        self,
        classifier,
        domains,
        loss_weighting="equal",
        domain_weights=None,
        adversarial=False,
        adversarial_weight=0.1,
        class_weights=None,
        align_weight=0.0,
        align_temperature=0.05,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.classifier = classifier
        self.domains = list(domains)
        self.loss_weighting = loss_weighting
        self.adversarial = adversarial
        self.adversarial_weight = adversarial_weight
        if not align_weight >= 0:
            from xdomain_tf.errors import XDomainError

            raise XDomainError(f"align_weight must be a number >= 0, got {align_weight!r}")
        self.align_weight = float(align_weight)
        unknown = sorted(set(domain_weights or {}) - set(self.domains))
        if unknown:
            from xdomain_tf.errors import XDomainError

            raise XDomainError(f"domain_weights name unknown domain(s) {unknown}; known: {self.domains}")
        self.static_weights = [float((domain_weights or {}).get(d, 1.0)) for d in self.domains]
        unknown = sorted(set(class_weights or {}) - set(self.domains))
        if unknown:
            from xdomain_tf.errors import XDomainError

            raise XDomainError(f"class_weights name unknown domain(s) {unknown}; known: {self.domains}")
        self.class_weights = dict(class_weights or {})
        if loss_weighting == "uncertainty":
            self.log_variances = self.add_weight(
                name="log_variances", shape=(len(self.domains),), initializer="zeros", trainable=True
            )
        if adversarial or self.align_weight:
            # The heads' shared input is the pooled encoder output inside the classifier graph.
            self.features = keras.Model(
                classifier.inputs, [classifier.output, classifier.heads[0].input], name="features"
            )
        if self.align_weight:
            self.align_similarity = SimilarityLogits(align_temperature, learnable=False, name="align_similarity")
            self.align_similarity.build(None)
        if adversarial:
            self.reversal = GradientReversal(0.0, name="gradient_reversal")
            self.domain_classifier = keras.layers.Dense(len(self.domains), dtype="float32", name="domain_classifier")
        self.domain_loss_trackers = [keras.metrics.Mean(name=f"{d}_loss") for d in self.domains]
        self.adversary_tracker = keras.metrics.Mean(name="adversary_loss") if adversarial else None
        self.align_tracker = keras.metrics.Mean(name="align_loss") if self.align_weight else None

    def call(self, inputs, training=False):
        pairs = inputs.get(ALIGN_INPUT) if self.align_weight else None
        inputs = {key: value for key, value in inputs.items() if key != ALIGN_INPUT}
        if not self.adversarial:
            outputs = self.classifier(inputs, training=training)
        else:
            logits, pooled = self.features(inputs, training=training)
            outputs = {**logits, ADVERSARY_OUTPUT: self.domain_classifier(self.reversal(pooled))}
        if pairs is not None:
            outputs = {**outputs, ALIGN_OUTPUT: self._alignment_logits(pairs, training)}
        return outputs

    def _alignment_logits(self, pairs, training):
        """`[pairs, pairs]` cosine similarities / temperature of the pooled source and target sides."""
        embeddings = []
        for side in ("source", "target"):
            features = {key: pairs[f"{side}_{key}"] for key in ENCODER_FEATURES}
            features["domain_id"] = ops.zeros_like(features["token_ids"][:, 0])
            _, pooled = self.features(features, training=training)
            embeddings.append(ops.normalize(ops.cast(pooled, "float32"), axis=-1, order=2))
        return self.align_similarity(*embeddings)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        total = 0.0
        losses = masked_domain_losses(y, y_pred, self.domains, class_weights=self.class_weights)
        for index, (domain_loss, count) in enumerate(losses):
            self.domain_loss_trackers[index].update_state(domain_loss, sample_weight=count)
            if self.loss_weighting == "uncertainty":
                present = ops.cast(count > 0, "float32")
                log_variance = self.log_variances[index]
                total = total + present * (ops.exp(-log_variance) * domain_loss + log_variance)
            else:
                total = total + self.static_weights[index] * domain_loss
        if self.adversarial:
            domain_ids = ops.cast(x["domain_id"], "int32")
            adversary = ops.mean(
                keras.losses.sparse_categorical_crossentropy(domain_ids, y_pred[ADVERSARY_OUTPUT], from_logits=True)
            )
            self.adversary_tracker.update_state(adversary)
            total = total + self.adversarial_weight * adversary
        if ALIGN_OUTPUT in y_pred:
            alignment = info_nce_loss(y_pred[ALIGN_OUTPUT])
            self.align_tracker.update_state(alignment)
            total = total + self.align_weight * alignment
        return scale_loss_for_distribution(total)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        logits = {d: y_pred[d] for d in self.domains}
        results = super().compute_metrics(x, y, logits, sample_weight)
        if self.align_tracker is not None and ALIGN_OUTPUT not in y_pred:
            results.pop("align_loss", None)  # batches without pairs (validation) have none to report
        return results

    def uncertainty_weights(self):
        """`{domain: exp(-s_d)}`, the learned loss weights (uncertainty weighting only)."""
        if self.loss_weighting != "uncertainty":
            return {d: w for d, w in zip(self.domains, self.static_weights)}
        values = ops.convert_to_numpy(ops.exp(-self.log_variances))
        return {d: float(v) for d, v in zip(self.domains, values)}
