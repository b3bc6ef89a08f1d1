"""Which webhook receivers the service may call.

A webhook makes the server send requests to a URL a user typed, so without a check a
project member could make it probe the private network it runs in (cloud metadata at
169.254.169.254, databases on 10.x, the service itself on 127.0.0.1). By default a URL
whose host resolves to anything but a public address is refused, when it is registered
and again before every delivery (the name may resolve differently later). Set
WEBHOOK_ALLOW_PRIVATE_ADDRESSES=1 where receivers live on a private network on purpose
(an on-premises build farm); the tests do so for their receiver on 127.0.0.1.

What stays open: the address is checked just before `requests` resolves the name again,
so a DNS server answering differently within that moment is not caught.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def refusal(url: str) -> str | None:
    """Why the service will not send to `url`, or None when it may (also when the host does not
    resolve now: the delivery then fails like any unreachable receiver and is retried)."""
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:  # every delivery would fail
        return "The URL's port is not a port number (1-65535)."
    if settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        return None
    host = parts.hostname
    if not host:
        return "The URL has no host."
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError):
        return None
    for info in infos:
        address = info[4][0]
        if not _is_public(address):
            return (f"{host} resolves to {address}, a private, loopback or reserved address; webhooks go to "
                    "public addresses only (the server's administrator can allow private ones with "
                    "WEBHOOK_ALLOW_PRIVATE_ADDRESSES=1)")
    return None
