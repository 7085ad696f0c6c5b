"""A lean stand-in for ``requests.Session`` under azure-core's ``RequestsTransport``.

azure-core sends every Key Vault request through ``requests``, whose per-request work
(environment and proxy lookup, cookies, hooks, redirect bookkeeping) costs about as much CPU
as the rest of a local request. A mount fetches many objects at once and the provider is
CPU-bound while doing it, so when no proxy is configured the provider gives the transport this
session instead: it sends the request straight through a ``urllib3`` connection pool and
returns a ``requests.Response``, raising the same ``requests`` exceptions ``HTTPAdapter``
raises, so azure-core's response classes and error mapping (``ServiceRequestError`` ...) stay
exactly as they are. Redirects are never followed (azure-core asks for none) and nothing is
retried here (azure-core's retry policy does that).

Per request it does only what a request needs: the origin's pool is found by a string prefix
(no URL parsing after the first request to an origin), and the body of a non-streamed response
(every Key Vault read) is read at once and handed over as ``requests`` content, so azure-core
uses it as it is instead of pulling it through its chunked stream generator. Errors while
reading that body become the ``requests`` exceptions ``Response.iter_content`` raises.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any

import requests
import urllib3
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from urllib3 import exceptions as u3

try:
    import certifi

    DEFAULT_CA_BUNDLE: str | None = certifi.where()
except ImportError:  # pragma: no cover - requests depends on certifi
    DEFAULT_CA_BUNDLE = None


# A request target urllib3's URL parsing leaves exactly as it is.
_PLAIN_TARGET = re.compile(r"(?:[A-Za-z0-9\-._~:/?@!$&'()*+,;=]|%[0-9A-F]{2})*")


class LeanSession:
    """The subset of ``requests.Session`` that ``RequestsTransport.send`` uses."""

    def __init__(self, verify: str | bool, pool_size: int) -> None:
        options: dict[str, Any] = {"maxsize": pool_size, "retries": False, "block": False}
        if verify is False:
            options["cert_reqs"] = "CERT_NONE"
        else:
            options["cert_reqs"] = "CERT_REQUIRED"
            options["ca_certs"] = verify if isinstance(verify, str) else DEFAULT_CA_BUNDLE
        self._options = options
        self._lock = threading.Lock()
        self._pools: dict[tuple[str, str, int | None], urllib3.HTTPConnectionPool] = {}
        self._origins: dict[str, urllib3.HTTPConnectionPool] = {}

    def _pool(self, url: str) -> tuple[urllib3.HTTPConnectionPool, str]:
        """The connection pool of the URL's origin, and the request target (path + query)."""
        origin, target = _split_origin(url)
        pool = self._origins.get(origin) if target is not None else None
        if pool is not None and target is not None:
            return pool, target
        parsed = urllib3.util.parse_url(url)
        key = (parsed.scheme or "https", parsed.host or "", parsed.port)
        pool = self._pools.get(key)
        if pool is None:
            with self._lock:
                pool = self._pools.get(key)
                if pool is None:
                    options = dict(self._options)
                    if key[0] != "https":
                        options = {k: v for k, v in options.items()
                                   if k not in ("cert_reqs", "ca_certs")}
                    pool = urllib3.connectionpool.connection_from_url(url, **options)
                    self._pools[key] = pool
        if target is not None and target == parsed.request_uri:
            self._origins[origin] = pool
        return pool, parsed.request_uri

    def request(self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
                data: Any = None, files: Any = None, timeout: Any = None, stream: bool = False,
                **_ignored: Any) -> requests.Response:
        if files:
            raise ValueError("multipart uploads are not supported by the provider's session")
        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        body = data.encode("utf-8") if isinstance(data, str) else data
        try:
            pool, target = self._pool(url)
            raw = pool.urlopen(
                method, target, body=body, headers=dict(headers or {}), redirect=False,
                assert_same_host=False, preload_content=False, decode_content=False,
                retries=False, timeout=urllib3.Timeout(connect=connect, read=read))
        except u3.NewConnectionError:
            raise  # azure-core maps this one itself (ServiceRequestError)
        except u3.ConnectTimeoutError as error:
            raise requests.exceptions.ConnectTimeout(error) from error
        except u3.ReadTimeoutError as error:
            raise requests.exceptions.ReadTimeout(error) from error
        except u3.SSLError as error:
            raise requests.exceptions.SSLError(error) from error
        except (u3.ProtocolError, u3.HTTPError, OSError) as error:
            raise requests.exceptions.ConnectionError(error) from error
        response = requests.Response()
        response.status_code = raw.status
        response.headers = CaseInsensitiveDict(raw.headers)
        response.encoding = get_encoding_from_headers(response.headers)
        response.raw = raw
        response.reason = raw.reason or ""
        response.url = url
        if not stream:
            _read_body(response, raw)
        return response

    def close(self) -> None:
        with self._lock:
            for pool in self._pools.values():
                pool.close()
            self._pools.clear()


def _split_origin(url: str) -> tuple[str, str | None]:
    """``scheme://authority`` and the request target of a plain URL, or ``(url, None)``
    when the URL needs real parsing (no path, a fragment, user info, dot segments, characters
    urllib3 would percent-encode, lower-case percent escapes it would upper-case)."""
    scheme_end = url.find("://")
    if scheme_end <= 0:
        return url, None
    path_start = url.find("/", scheme_end + 3)
    if path_start < 0:
        return url, None
    origin, target = url[:path_start], url[path_start:]
    if "@" in origin or "/." in target or not _PLAIN_TARGET.fullmatch(target):
        return url, None
    return origin, target


def _read_body(response: requests.Response, raw: urllib3.BaseHTTPResponse) -> None:
    """Read the whole body as ``requests`` content (decoded as ``iter_content`` decodes it)
    and give the connection back to its pool."""
    try:
        response._content = raw.read(decode_content=True)  # noqa: SLF001
    except u3.ProtocolError as error:
        raise requests.exceptions.ChunkedEncodingError(error) from error
    except u3.DecodeError as error:
        raise requests.exceptions.ContentDecodingError(error) from error
    except u3.ReadTimeoutError as error:
        raise requests.exceptions.ConnectionError(error) from error
    except u3.SSLError as error:
        raise requests.exceptions.SSLError(error) from error
    finally:
        raw.release_conn()
    response._content_consumed = True  # noqa: SLF001
