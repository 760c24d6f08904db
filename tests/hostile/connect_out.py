# Tries to reach a TCP port and a UDP port the test listens on (loopback, given in PORT and
# UDP_PORT).
import socket

try:
    socket.create_connection(("127.0.0.1", PORT), timeout=2).sendall(b"leak")  # noqa: F821
except OSError:
    pass
try:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.sendto(b"leak", ("127.0.0.1", UDP_PORT))  # noqa: F821
except OSError:
    pass
