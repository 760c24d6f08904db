# Tries to reach a TCP port the test listens on.
import socket

try:
    socket.create_connection(("127.0.0.1", PORT), timeout=2).sendall(b"leak")  # noqa: F821
except OSError:
    pass
