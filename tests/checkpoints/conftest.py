import pytest
from checkpoint_fixtures import random_hf_tensors, tiny_config, write_hf_folder


@pytest.fixture
def tiny_hf_folder(tmp_path):
    config = tiny_config()
    tensors = random_hf_tensors(config)
    folder = write_hf_folder(tmp_path / "tiny_bert", config, tensors)
    return folder, config, tensors
