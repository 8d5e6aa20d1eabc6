"""Plain chat: people on ``nc``, telnet or a tutorial's own chat client (raw
text over TCP, no IRC) join one channel as ordinary users
(docs/architecture.md, "Plain chat").

``framing`` cuts their bytes into messages, ``commands`` turns a message into
the IRC lines an IRC client would have sent, ``render`` turns the IRC lines
the server sends them into readable text, and ``protocol.PlainChat`` puts
these around an ordinary ``Session``. The asyncio adapter is
``net/plain_connection.py``.
"""
