import sys

from xdomain_tf.cli.main import main

sys.exit(main())
