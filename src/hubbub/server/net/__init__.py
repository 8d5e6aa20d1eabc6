"""Listeners (TCP, TLS, WebSocket) and the per-client connection."""
