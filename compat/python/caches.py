# Owns the Python SDK (momento==1.29.1) cache control-plane compatibility scenario against momento-mock.
"""Usage: target/sdk/venv/bin/python compat/python/caches.py HOST PORT

create -> list sees it -> create again is CacheAlreadyExists -> flush -> delete -> delete again is
NOT_FOUND -> list no longer shows it; flushing a missing cache is NOT_FOUND.
"""

from __future__ import annotations

from compat import cache_client, check, describe, fail, main
from momento.errors import MomentoErrorCode
from momento.responses import CacheFlush, CreateCache, DeleteCache, ListCaches

CACHE = "py-compat-cache"


def cache_names(client) -> list[str]:
    resp = client.list_caches()
    if not isinstance(resp, ListCaches.Success):
        fail(f"list_caches() returned {describe(resp)}, expected ListCaches.Success")
    return [c.name for c in resp.caches]


def scenario(host: str, port: int) -> None:
    with cache_client(host, port) as client:
        check(CACHE not in cache_names(client), f"list_caches() does not show {CACHE!r} before the test")

        resp = client.create_cache(CACHE)
        check(isinstance(resp, CreateCache.Success), f"create_cache({CACHE!r}) is CreateCache.Success: {describe(resp)}")

        names = cache_names(client)
        check(CACHE in names, f"list_caches() shows {CACHE!r}: {names}")

        resp = client.create_cache(CACHE)
        check(
            isinstance(resp, CreateCache.CacheAlreadyExists),
            f"create_cache({CACHE!r}) again is CreateCache.CacheAlreadyExists: {describe(resp)}",
        )

        resp = client.flush_cache(CACHE)
        check(isinstance(resp, CacheFlush.Success), f"flush_cache({CACHE!r}) is CacheFlush.Success: {describe(resp)}")

        resp = client.delete_cache(CACHE)
        check(isinstance(resp, DeleteCache.Success), f"delete_cache({CACHE!r}) is DeleteCache.Success: {describe(resp)}")

        resp = client.delete_cache(CACHE)
        check(
            isinstance(resp, DeleteCache.Error) and resp.error_code == MomentoErrorCode.NOT_FOUND_ERROR,
            f"delete_cache({CACHE!r}) again is DeleteCache.Error with NOT_FOUND_ERROR: {describe(resp)}",
        )

        resp = client.flush_cache(CACHE)
        check(
            isinstance(resp, CacheFlush.Error) and resp.error_code == MomentoErrorCode.NOT_FOUND_ERROR,
            f"flush_cache({CACHE!r}) of a missing cache is CacheFlush.Error with NOT_FOUND_ERROR: {describe(resp)}",
        )

        names = cache_names(client)
        check(CACHE not in names, f"list_caches() no longer shows {CACHE!r}: {names}")


if __name__ == "__main__":
    main(scenario)
