"""The network under httpx (an httpcore backend): where a fetch connects, and until when.

Two guarantees the HTTP layer above cannot give:
- a checked connection resolves the host once, checks every address it got against the
  AddressPolicy, and connects to exactly the address it checked (a DNS answer that changes
  between check and connect, "rebinding", never reaches anything); TLS still verifies the
  certificate for the host name, and the Host header is the name;
- every name lookup, connect, TLS handshake, read and write of a fetch ends by the fetch's
  one deadline (httpx's read timeout starts again on every byte, so a server that trickles
  its headers would otherwise hold a fetch, and a poll slot, for as long as it likes; and
  getaddrinfo takes no timeout at all, so would a name server that never answers).
"""

from __future__ import annotations

import ipaddress
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, wait
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import httpcore

from watcher.sources.addresses import ALLOW_HINT, AddressPolicy, Resolver, resolve

# When the fetch running in this thread must be over (time.monotonic()); None: no deadline.
_deadline: ContextVar[float | None] = ContextVar("fetch_deadline", default=None)
SocketOption = Any  # httpcore's SOCKET_OPTION tuples, passed through untouched


class AddressRefused(Exception):
    """A connection the policy forbids; the message says which address and why."""


@contextmanager
def deadline(at: float) -> Iterator[None]:
    """Bound every network step made in this thread, inside the `with`, by `at`."""
    token = _deadline.set(at)
    try:
        yield
    finally:
        _deadline.reset(token)


def _bounded(timeout: float | None, expired: type[Exception]) -> float | None:
    """The step's timeout, cut to what is left before the deadline; past it, `expired`."""
    at = _deadline.get()
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise expired("the fetch's deadline has passed")
    return left if timeout is None else min(timeout, left)


class Backend(httpcore.NetworkBackend):
    """Plain sockets under the deadline; with a policy, only to the addresses it allows."""

    def __init__(self, policy: AddressPolicy | None = None, resolver: Resolver = resolve):
        self._policy = policy
        self._resolve = resolver
        self._sockets = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = self._addresses(host, port, timeout)
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                stream = self._sockets.connect_tcp(
                    address, port, _bounded(timeout, httpcore.ConnectTimeout),
                    local_address, socket_options)
            except httpcore.ConnectError as error:
                failure = error  # the next address may answer, as create_connection does
                continue
            return _DeadlineStream(stream)
        assert failure is not None
        raise failure

    def _addresses(self, host: str, port: int, timeout: float | None) -> list[str]:
        """The addresses `host` resolves to (once, by the deadline), every one of them
        allowed when there is a policy."""
        try:
            addresses = _lookup(self._resolve, host, port, timeout)
        except OSError as error:
            raise httpcore.ConnectError(str(error)) from error
        if not addresses:
            raise httpcore.ConnectError(f"{host} resolves to no address")
        if self._policy is None:
            return addresses
        for address in addresses:
            kind = self._policy.refusal(address)
            if kind is not None:
                named = address if address == host else f"{host} at {address}"
                raise AddressRefused(
                    f"refused to connect to {named} ({kind}): only public addresses are "
                    f"fetched for links and redirects from feeds ({ALLOW_HINT})")
        return addresses


def _lookup(resolver: Resolver, host: str, port: int, timeout: float | None) -> list[str]:
    """Resolve `host` by the deadline. getaddrinfo takes no timeout, so a name is looked up
    in a thread of its own and waited for until the deadline: a name server that never
    answers costs the fetch its deadline (a timeout, like any other stall), not as long as
    the system resolver keeps retrying. A lookup given up on ends in its thread when the
    resolver gives up; nothing waits for it. A thread per lookup, not a shared pool: a few
    stalled names would fill a pool and make every other feed's lookup wait behind them."""
    if _is_address(host):
        return [host]  # nothing to ask a name server
    answer: Future[list[str]] = Future()
    threading.Thread(target=_answer, args=(answer, resolver, host, port),
                     name=f"resolve {host}", daemon=True).start()
    done, _ = wait([answer], timeout=_bounded(timeout, httpcore.ConnectTimeout))
    if not done:
        raise httpcore.ConnectTimeout(f"no answer for {host} by the fetch's deadline")
    return answer.result()


def _answer(answer: Future[list[str]], resolver: Resolver, host: str, port: int) -> None:
    try:
        answer.set_result(resolver(host, port))
    except BaseException as error:  # handed to the fetch that asked, if it still waits
        answer.set_exception(error)


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every step ends by the deadline of the fetch using it."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        wait = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, wait))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)
