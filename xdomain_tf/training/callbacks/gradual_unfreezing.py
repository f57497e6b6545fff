"""Gradual unfreezing (Howard & Ruder, 2018): heads first, then the encoder top-down."""


def unfrozen_blocks(epoch, num_layers):
    """How many top encoder blocks train in (0-based) `epoch`: none in the first epoch,
    one more each epoch after; the embeddings join once every block trains.

    Example:

    >>> [unfrozen_blocks(e, 2) for e in range(4)]
    [0, 1, 2, 3]
    """
    return min(epoch, num_layers + 1)


def apply_unfreezing(encoder, epoch):
    """Sets which parts of `encoder` train in `epoch` and returns the count of trainable blocks.

    Blocks `transformer_layer_{L-k}` ... `transformer_layer_{L-1}` train when `k` blocks
    are unfrozen; the pooler trains from the first unfrozen block on; the embeddings last.

    Example:

    >>> from xdomain_tf.models import EncoderConfig, TransformerEncoder
    >>> encoder = TransformerEncoder(EncoderConfig.architecture("bert_tiny", vocab_size=50))
    >>> apply_unfreezing(encoder, epoch=1)
    1
    >>> [block.trainable for block in encoder.transformer_layers], encoder.get_layer("embeddings").trainable
    ([False, True], False)
    """
    blocks = list(encoder.transformer_layers)
    count = unfrozen_blocks(epoch, len(blocks))
    for index, block in enumerate(blocks):
        block.trainable = index >= len(blocks) - count
    encoder.get_layer("pooler").trainable = count > 0
    encoder.get_layer("embeddings").trainable = count > len(blocks)
    return count
