"""kvcsi: Azure Key Vault secrets as files in pods, with a faithful local Azure.

Importing any part of kvcsi applies the process-wide network rules chosen by the
environment (see :mod:`kvcsi.netrules`): local mode and the test suite run with
``KVCSI_LOOPBACK_ONLY=1`` so nothing can reach real Azure or IMDS.
"""

from kvcsi import netrules as _netrules

__version__ = "0.1.0"

_netrules.apply_from_environment()
