# Owns the helpers shared by the Python SDK compatibility scripts (argument parsing, failing loudly, clients).
"""Shared helpers for compat/python/*.py: run with target/sdk/venv/bin/python (momento==1.29.1).

Every script takes the mock's host and port as arguments, prints one line per check, and exits
non-zero with a message naming the SDK call on the first mismatch.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import traceback
from datetime import timedelta
from typing import Any, Callable, NoReturn

from momento import (
    CacheClient,
    Configurations,
    CredentialProvider,
    TopicClient,
    TopicConfigurations,
)

# Generous: the tests run on a loaded 2-core machine.
WAIT_SECONDS = 60.0


def exit_now(code: int) -> NoReturn:
    """Exits without waiting for gRPC's threads (a cancelled sync subscription can keep one busy)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def fail(message: str) -> NoReturn:
    print(f"FAIL: {message}", file=sys.stderr)
    exit_now(1)


def check(condition: bool, message: str) -> None:
    if not condition:
        fail(message)
    print(f"ok: {message}")


def endpoint_from_args() -> tuple[str, int]:
    if len(sys.argv) != 3:
        print(f"usage: {sys.argv[0]} HOST PORT", file=sys.stderr)
        exit_now(2)
    host, port = sys.argv[1], sys.argv[2]
    try:
        return host, int(port)
    except ValueError:
        print(f"usage: {sys.argv[0]} HOST PORT (port must be a number, got {port!r})", file=sys.stderr)
        exit_now(2)


def credentials(host: str, port: int) -> CredentialProvider:
    # Momento Local mode: empty token, plaintext gRPC to host:port (any port but 443).
    return CredentialProvider.for_momento_local(host, port)


def cache_client(host: str, port: int) -> CacheClient:
    # The constructor (unlike CacheClient.create) does not connect eagerly.
    return CacheClient(Configurations.Laptop.v1(), credentials(host, port), timedelta(seconds=60))


def topic_client(host: str, port: int) -> TopicClient:
    # TopicConfigurations.Default.v1() gives every call, subscription streams included, a 5 s gRPC
    # deadline; a longer one keeps a subscription alive for the whole script on a slow machine.
    config = TopicConfigurations.Default.v1().with_client_timeout(timedelta(seconds=120))
    return TopicClient(config, credentials(host, port))


def describe(response: Any) -> str:
    """A response with its error code and message when it is an error."""
    code = getattr(response, "error_code", None)
    message = getattr(response, "message", None)
    if code is not None:
        return f"{type(response).__qualname__}(error_code={code}, message={message!r})"
    return repr(response)


class Reader:
    """Reads a (blocking) subscription iterator on a daemon thread so the main thread can time out."""

    def __init__(self, subscription: Any, label: str):
        self.label = label
        self.items: queue.Queue[Any] = queue.Queue()
        thread = threading.Thread(target=self._run, args=(subscription,), daemon=True)
        thread.start()

    def _run(self, subscription: Any) -> None:
        try:
            for item in subscription:
                self.items.put(item)
        except BaseException as e:  # noqa: BLE001 - report whatever ended the iterator
            self.items.put(e)

    def next(self, what: str, timeout: float = WAIT_SECONDS) -> Any:
        try:
            item = self.items.get(timeout=timeout)
        except queue.Empty:
            fail(f"{self.label}: no item within {timeout:.0f}s while waiting for {what}")
        if isinstance(item, BaseException):
            fail(f"{self.label}: the subscription iterator raised {item!r} while waiting for {what}")
        return item


def main(body: Callable[[str, int], None]) -> NoReturn:
    host, port = endpoint_from_args()
    try:
        body(host, port)
    except SystemExit:
        raise
    except BaseException:  # noqa: BLE001
        traceback.print_exc()
        fail("unexpected exception (see traceback above)")
    print("PASS")
    exit_now(0)
