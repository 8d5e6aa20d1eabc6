"""``hubbub gui``: the desktop chat client (Tk, from the standard library)."""
