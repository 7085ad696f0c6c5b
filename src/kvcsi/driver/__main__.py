"""``python -m kvcsi.driver``: the same as the ``secrets-store-csi-driver`` console script."""

from kvcsi.driver.main import main

raise SystemExit(main())
