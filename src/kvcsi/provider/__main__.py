"""``python -m kvcsi.provider``: the same as ``secrets-store-csi-driver-provider-azure``."""

import sys

from kvcsi.provider.main import main

sys.exit(main())
