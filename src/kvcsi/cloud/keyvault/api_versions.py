"""The ``api-version`` query parameter every Key Vault request must carry.

Accepted: 2016-10-01, 7.0 to 7.6, every 2025 version, 2026-04-01 (the secrets SDK's default),
and preview suffixes of those (``-preview``, ``-preview.N``). Missing or unknown versions are
a 400 ``BadParameter`` as Key Vault answers.
"""

from __future__ import annotations

import re

from kvcsi.cloud.keyvault.errors import BadParameter

LATEST_API_VERSION = "2026-04-01"
_PREVIEW = r"(-preview(\.\d+)?)?"
_ACCEPTED = re.compile(
    rf"^(2016-10-01|7\.[0-6]|2025-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])|2026-04-01){_PREVIEW}$"
)


def check_api_version(value: str | None) -> str:
    if not value:
        raise BadParameter("The api-version query parameter (?api-version=) is required for "
                           "all requests.")
    if not _ACCEPTED.match(value):
        raise BadParameter(f"The specified version ({value}) is not recognized. Consider using "
                           f"the latest supported version ({LATEST_API_VERSION}).")
    return value
