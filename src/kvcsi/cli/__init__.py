"""The ``kvcsi`` command: the composition root of local mode.

``up``/``down``/``status`` supervise the local cloud and the node runtime, ``env`` tells
other tools how to reach the local cloud, ``demo`` runs the seed walkthrough, and the
``az``- and ``kubectl``-shaped subsets drive the local cloud and clusters.
"""
