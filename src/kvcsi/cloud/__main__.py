"""``python -m kvcsi.cloud``: same as ``kvcsi-cloud``."""

import sys

from kvcsi.cloud.main import main

sys.exit(main())
