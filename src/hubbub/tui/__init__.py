"""``hubbub chat``: the terminal client (Textual) and its plain line mode."""
