"""``python -m kvcsi.cli`` runs the ``kvcsi`` command."""

from kvcsi.cli.main import main

raise SystemExit(main())
