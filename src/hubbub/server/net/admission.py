"""Who may connect: global and per-IP limits and per-IP connection throttling.

Addresses in the configured exempt networks (loopback by default) skip the
per-IP rules, so a LAN party behind one address or a local bouncer works.
"""

from __future__ import annotations

import ipaddress
import time
from collections import defaultdict, deque

from hubbub.server.config import LimitsSection

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Admission:
    def __init__(self, limits: LimitsSection) -> None:
        self.limits = limits
        self.exempt: list[Network] = [ipaddress.ip_network(n, strict=False) for n in limits.exempt]
        self.total = 0
        self.per_ip: dict[str, int] = defaultdict(int)
        self.recent: dict[str, deque[float]] = {}

    def is_exempt(self, ip: str) -> bool:
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(address in network for network in self.exempt)

    def admit(self, ip: str) -> str | None:
        """Count a new connection from ``ip``; return a refusal reason instead."""
        limits = self.limits
        if self.total >= limits.max_clients:
            return "Server is full"
        if limits.throttle and not self.is_exempt(ip):
            if self.per_ip[ip] >= limits.max_per_ip:
                return "Too many connections from your IP"
            now = time.monotonic()
            window = self.recent.setdefault(ip, deque())
            while window and now - window[0] > limits.throttle_window:
                window.popleft()
            if len(window) >= limits.throttle_connections:
                return "Connection throttled: too many connections in a short time, try again later"
            window.append(now)
        self.total += 1
        self.per_ip[ip] += 1
        return None

    def forget_attempt(self, ip: str) -> None:
        """Take the latest connection from ``ip`` out of the rate throttle: it
        was a plain HTTP request for a web client file (a page load makes
        several), not a chat connection. It stays counted while open."""
        window = self.recent.get(ip)
        if window:
            window.pop()

    def release(self, ip: str) -> None:
        self.total -= 1
        count = self.per_ip[ip] - 1
        if count > 0:
            self.per_ip[ip] = count
        else:
            del self.per_ip[ip]
            window = self.recent.get(ip)
            if window is not None and not window:
                del self.recent[ip]
