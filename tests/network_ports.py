"""Free loopback ports for tests that start servers (multi-worker training, tf.data service)."""
import socket


def free_ports(count):
    """`count` distinct ports that were free a moment ago (all bound at once, then released)."""
    sockets = [socket.socket() for _ in range(count)]
    for probe in sockets:
        probe.bind(("127.0.0.1", 0))
    ports = [probe.getsockname()[1] for probe in sockets]
    for probe in sockets:
        probe.close()
    return ports


def free_port():
    """One free loopback port."""
    return free_ports(1)[0]
