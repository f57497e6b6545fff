"""Runs `xdomain-tf ARGS...` with the CPU split into two logical devices (two replicas under `--strategy mirrored`)."""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf  # noqa: E402

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

from xdomain_tf.cli.main import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
