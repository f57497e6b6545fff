"""The training-time wrapper that runs several pretraining objectives on one encoder."""
import keras
import numpy as np
from keras import ops
from keras.src.losses.loss import scale_loss_for_distribution

from xdomain_tf.errors import XDomainError
from xdomain_tf.training.pretraining.losses import info_nce_loss, retrieval_accuracy, token_cross_entropy

OBJECTIVES = ("mlm", "clm", "contrastive")
_ENCODER_FEATURES = ("token_ids", "segment_ids", "padding_mask")


class PretrainingTrainer(keras.Model):
    """Trains masked LM (+ NSP/SOP), causal LM and contrastive alignment together; save the
    objective models (`trainer.masked_lm`, ...) or their shared encoder, not the trainer.

    A batch is a dict keyed by objective (any subset of `mlm`, `clm`, `contrastive`), each
    the features of that objective's model plus its targets (see
    `xdomain_tf.training.pretraining.input_pipelines`):

    - `mlm`: `token_ids`, `segment_ids`, `padding_mask`, `mask_positions`, `mask_ids`,
      `mask_weights`, `domain_id` (+ `sentence_label` with NSP/SOP). Loss: the mean
      cross-entropy over the batch's predictions (weighted by `mask_weights`) plus the
      sentence-pair cross-entropy.
    - `clm`: `token_ids`, `segment_ids`, `padding_mask`, `labels`, `label_weights`,
      `domain_id`. Loss: mean next-token cross-entropy over real tokens.
    - `contrastive`: `source_*` and `target_*` token features. Loss: symmetric InfoNCE.

    The total is `sum(objective_weights[o] * loss_o)`. Reported metrics: `mlm_loss`,
    `mlm_accuracy`, `<sop|nsp>_loss`, `<sop|nsp>_accuracy`, `clm_loss`, `clm_accuracy`,
    `contrastive_loss`, `retrieval_accuracy`, `temperature`, and per group (domain or
    language, in `domain_id` order) `<group>_mlm_loss`, `<group>_mlm_accuracy`,
    `<group>_clm_loss`, all averaged per prediction over the epoch.

    Args:
        masked_lm: a `MaskedLM`, or None.
        causal_lm: a `CausalLM`, or None.
        contrastive: a `ContrastiveAligner`, or None.
        groups: names of the groups that `domain_id` indexes.
        objective_weights: `{objective: weight}` (default 1 each).
        **kwargs: passed to `keras.Model`.

    Example:

    >>> from xdomain_tf.models import EncoderConfig, MaskedLM, TransformerEncoder
    >>> mlm = MaskedLM(TransformerEncoder(EncoderConfig.architecture("bert_tiny", vocab_size=50)))
    >>> trainer = PretrainingTrainer(masked_lm=mlm, groups=["news", "software"])
    >>> trainer.objectives
    ['mlm']
    """

    def __init__(self, masked_lm=None, causal_lm=None, contrastive=None, groups=("default",), objective_weights=None, **kwargs):
        super().__init__(**kwargs)
        self.masked_lm = masked_lm
        self.causal_lm = causal_lm
        self.contrastive = contrastive
        models = {"mlm": masked_lm, "clm": causal_lm, "contrastive": contrastive}
        self.objectives = [name for name in OBJECTIVES if models[name] is not None]
        if not self.objectives:
            raise XDomainError("PretrainingTrainer needs at least one objective model")
        unknown = sorted(set(objective_weights or {}) - set(self.objectives))
        if unknown:
            raise XDomainError(f"objective_weights name objective(s) not trained: {unknown}; trained: {self.objectives}")
        self.objective_weights = {name: float((objective_weights or {}).get(name, 1.0)) for name in self.objectives}
        self.groups = [str(group) for group in groups]
        self.sentence_objective = getattr(masked_lm, "sentence_objective", None)

        names = []
        if masked_lm is not None:
            names += ["mlm_loss", "mlm_accuracy"]
            names += [f"{group}_mlm_{what}" for group in self.groups for what in ("loss", "accuracy")]
            if self.sentence_objective:
                names += [f"{self.sentence_objective}_loss", f"{self.sentence_objective}_accuracy"]
        if causal_lm is not None:
            names += ["clm_loss", "clm_accuracy"] + [f"{group}_clm_loss" for group in self.groups]
        if contrastive is not None:
            names += ["contrastive_loss", "retrieval_accuracy", "temperature"]
        if len(set(names)) != len(names):
            raise XDomainError(f"group names {self.groups} clash with metric names")
        self.trackers = {name: keras.metrics.Mean(name=name) for name in names}
        self._updated = set()

    def call(self, inputs, training=False):
        outputs = {}
        if "mlm" in inputs and self.masked_lm is not None:
            features = {key: inputs["mlm"][key] for key in _ENCODER_FEATURES + ("mask_positions",)}
            outputs["mlm"] = self.masked_lm(features, training=training)
        if "clm" in inputs and self.causal_lm is not None:
            features = {key: inputs["clm"][key] for key in _ENCODER_FEATURES}
            outputs["clm"] = self.causal_lm(features, training=training)
        if "contrastive" in inputs and self.contrastive is not None:
            features = {
                f"{side}_{key}": inputs["contrastive"][f"{side}_{key}"]
                for side in ("source", "target")
                for key in _ENCODER_FEATURES
            }
            outputs["contrastive"] = self.contrastive(features, training=training)
        return outputs

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        self._updated.clear()
        total = 0.0
        if "mlm" in y_pred:
            total = total + self.objective_weights["mlm"] * self._masked_lm_loss(x["mlm"], y_pred["mlm"])
        if "clm" in y_pred:
            total = total + self.objective_weights["clm"] * self._causal_lm_loss(x["clm"], y_pred["clm"])
        if "contrastive" in y_pred:
            logits = y_pred["contrastive"]["logits"]
            loss = info_nce_loss(logits)
            self._update("contrastive_loss", loss)
            self._update("retrieval_accuracy", retrieval_accuracy(logits))
            self._update("temperature", 1.0 / self.contrastive.similarity.scale)
            total = total + self.objective_weights["contrastive"] * loss
        return scale_loss_for_distribution(total)

    def _masked_lm_loss(self, batch, outputs):
        loss_sum, weight_sum, correct_sum = token_cross_entropy(
            batch["mask_ids"], outputs["mlm_logits"], batch["mask_weights"]
        )
        loss = self._track_tokens("mlm", batch["domain_id"], loss_sum, weight_sum, correct_sum)
        if self.sentence_objective and "sentence_label" in batch:
            labels = ops.cast(batch["sentence_label"], "int32")
            logits = ops.cast(outputs["sentence_logits"], "float32")
            sentence = ops.mean(ops.sparse_categorical_crossentropy(labels, logits, from_logits=True))
            accuracy = ops.mean(ops.cast(ops.equal(ops.cast(ops.argmax(logits, axis=-1), "int32"), labels), "float32"))
            self._update(f"{self.sentence_objective}_loss", sentence)
            self._update(f"{self.sentence_objective}_accuracy", accuracy)
            loss = loss + sentence
        return loss

    def _causal_lm_loss(self, batch, logits):
        loss_sum, weight_sum, correct_sum = token_cross_entropy(batch["labels"], logits, batch["label_weights"])
        return self._track_tokens("clm", batch["domain_id"], loss_sum, weight_sum, correct_sum)

    def _track_tokens(self, prefix, domain_id, loss_sum, weight_sum, correct_sum):
        """Updates the overall and per-group trackers; returns the batch's mean token loss."""
        count = ops.sum(weight_sum)
        loss = ops.divide_no_nan(ops.sum(loss_sum), count)
        self._update(f"{prefix}_loss", loss, sample_weight=count)
        self._update(f"{prefix}_accuracy", ops.divide_no_nan(ops.sum(correct_sum), count), sample_weight=count)
        domain_id = ops.cast(domain_id, "int32")
        for index, group in enumerate(self.groups):
            member = ops.cast(ops.equal(domain_id, index), "float32")
            group_count = ops.sum(weight_sum * member)
            group_loss = ops.divide_no_nan(ops.sum(loss_sum * member), group_count)
            self._update(f"{group}_{prefix}_loss", group_loss, sample_weight=group_count)
            if f"{group}_{prefix}_accuracy" in self.trackers:
                group_accuracy = ops.divide_no_nan(ops.sum(correct_sum * member), group_count)
                self._update(f"{group}_{prefix}_accuracy", group_accuracy, sample_weight=group_count)
        return loss

    def _update(self, name, value, sample_weight=None):
        self.trackers[name].update_state(value, sample_weight=sample_weight)
        self._updated.add(name)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        # Only the metrics this step updated (an evaluation without sentence labels reports
        # no sentence accuracy); a group absent so far reads NaN, not 0.
        results = {}
        for name, value in self.get_metrics_result().items():
            if name not in self.trackers:
                results[name] = value
            elif name in self._updated:
                count = self.trackers[name].count
                results[name] = ops.where(count > 0, value, float("nan"))
        return results

    def dummy_batch(self, length=8):
        """A one-example batch of every objective (to build the variables before a restore)."""
        ids = np.zeros((1, length), "int32")
        ids[:, 0] = 1
        features = {"token_ids": ids, "segment_ids": 0 * ids, "padding_mask": np.ones_like(ids)}
        batch = {}
        if self.masked_lm is not None:
            batch["mlm"] = {
                **features,
                "mask_positions": np.zeros((1, 2), "int32"),
                "mask_ids": np.zeros((1, 2), "int32"),
                "mask_weights": np.zeros((1, 2), "float32"),
                "domain_id": np.zeros((1,), "int32"),
                "sentence_label": np.zeros((1,), "int32"),
            }
        if self.causal_lm is not None:
            batch["clm"] = {**features, "labels": ids, "label_weights": np.ones((1, length), "float32"), "domain_id": np.zeros((1,), "int32")}
        if self.contrastive is not None:
            batch["contrastive"] = {f"{side}_{key}": value for side in ("source", "target") for key, value in features.items()}
        return batch
