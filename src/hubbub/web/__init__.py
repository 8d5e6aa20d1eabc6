"""The web client: static HTML, CSS and JavaScript files (no build step),
served by the WebSocket listener (:mod:`hubbub.server.net.webassets`)."""
