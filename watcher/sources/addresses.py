"""Which network addresses a link or redirect taken from a feed may reach.

A feed's content is written by whoever runs the feed (or anyone who can post to it): its
links must not make watcher fetch from the machine it runs on, its network or the cloud
metadata service (SSRF). Only public addresses are reached, unless the operator allows
ranges (`fetch.allow_private`). The check is made on each address a name resolves to,
right before connecting to exactly that address (watcher/sources/connect.py).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# host, port -> the addresses to connect to (socket.getaddrinfo unless a test passes its own)
Resolver = Callable[[str, int], list[str]]

NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # an IPv4 address in its last 32 bits
ALLOW_HINT = "fetch.allow_private allows ranges"


def parse_ranges(values: Sequence[str]) -> tuple[IPNetwork, ...]:
    """CIDR ranges (`10.0.0.0/8`, `fd00::/8`, or one address); ValueError names a bad one."""
    ranges = []
    for value in values:
        try:
            ranges.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{value!r} is not an address range such as 10.0.0.0/8 "
                             "or fd00::/8") from None
    return tuple(ranges)


@dataclass(frozen=True)
class AddressPolicy:
    """Public addresses only, plus the ranges the operator allows."""

    allowed: tuple[IPNetwork, ...] = ()

    def refusal(self, address: str) -> str | None:
        """Why `address` may not be reached (`loopback`, `private` …), or None if it may."""
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # fe80::1%eth0: drop the zone
        ip = _embedded_ipv4(ip) or ip
        if any(ip.version == net.version and ip in net for net in self.allowed):
            return None
        return _kind_of_non_public(ip)


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (::ffff:127.0.0.1, NAT64, 6to4), which is
    where the packets end up."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def _kind_of_non_public(ip: IPAddress) -> str | None:
    """The most telling name for a non-public address; None for a public one."""
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        # fec0::/10, deprecated (RFC 3879) but still routed inside some networks; Python
        # counts it neither private nor reserved, and global before 3.12.
        ("site-local", isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
        ("not public", not ip.is_global),
    )
    return next((kind for kind, applies in checks if applies), None)


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to for a TCP connection, in the resolver's order."""
    answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in answers))
