"""The server panel: a Tk window that runs a hubbub server in-process."""
