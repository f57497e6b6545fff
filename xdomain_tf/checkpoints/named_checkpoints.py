"""Pretrained checkpoints that `--init NAME` fetches by name."""
from xdomain_tf.checkpoints.minilm_checkpoint import MINILM_NAME, fetch_minilm
from xdomain_tf.errors import XDomainError

# Name -> function returning a Hugging Face BERT folder (downloading it on first use).
NAMED_CHECKPOINTS = {
    MINILM_NAME: fetch_minilm,
}


def fetch_named_checkpoint(name):
    """Returns the local Hugging Face BERT folder of a named checkpoint, fetching it once.

    Args:
        name: one of `NAMED_CHECKPOINTS` (`"all-minilm-l6-v2"`).

    Example:

    >>> fetch_named_checkpoint("all-minilm-l6-v2").name  # doctest: +SKIP
    'all-minilm-l6-v2'
    """
    if name not in NAMED_CHECKPOINTS:
        raise XDomainError(
            f"unknown pretrained checkpoint {name!r}; known: {', '.join(sorted(NAMED_CHECKPOINTS))}"
        )
    return NAMED_CHECKPOINTS[name]()
