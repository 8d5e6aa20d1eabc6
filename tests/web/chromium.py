"""How the tests (and the screenshot script) start Debian's Chromium: Playwright's
own browser download cannot work here, and these flags keep it quiet and offline."""

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
