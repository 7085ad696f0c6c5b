"""``python -m kvcsi.node``."""

from kvcsi.node.main import main

raise SystemExit(main())
