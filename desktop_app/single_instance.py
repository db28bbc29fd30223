"""One app per user: a second launch forwards its command over a QLocalSocket.

Commands are single lines ("snip", "clipboard", "show", "quit"); the server replies
"ok". This is how an OS keyboard shortcut running ``snaptex snip`` reaches the tray
app, and it works on Wayland, where apps cannot grab global hotkeys.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from desktop_app import platform_info

logger = logging.getLogger(__name__)

COMMANDS = ("snip", "clipboard", "show", "quit")


def send_command(command: str, name: str | None = None, timeout_ms: int = 5000) -> bool:
    """Deliver ``command`` to a running instance; False when none is listening.

    Blocking, so only called before our own event loop exists.
    """
    socket = QLocalSocket()
    socket.connectToServer(name or platform_info.instance_name())
    if not socket.waitForConnected(timeout_ms):
        return False
    socket.write(f"{command}\n".encode())
    socket.waitForBytesWritten(timeout_ms)
    answered = socket.waitForReadyRead(timeout_ms)
    reply = bytes(socket.readAll().data()).decode(errors="replace").strip()
    socket.disconnectFromServer()
    logger.debug("forwarded %r, reply %r", command, reply)
    return answered and reply == "ok"


class InstanceServer(QObject):
    command_received = Signal(str)

    def __init__(self, name: str | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.name = name or platform_info.instance_name()
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._on_new_connection)

    def listen(self) -> bool:
        """Listen; a stale socket file left by a crashed instance is removed first
        (callers check that no live instance answers before calling this)."""
        if self._server.listen(self.name):
            return True
        QLocalServer.removeServer(self.name)
        if self._server.listen(self.name):
            return True
        logger.warning("single-instance server failed: %s", self._server.errorString())
        return False

    def close(self) -> None:
        self._server.close()

    def _on_new_connection(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            socket.readyRead.connect(self._on_ready_read)
            socket.disconnected.connect(socket.deleteLater)

    def _on_ready_read(self) -> None:
        socket = self.sender()
        if not isinstance(socket, QLocalSocket) or not socket.canReadLine():
            return
        command = bytes(socket.readLine().data()).decode(errors="replace").strip()
        if command in COMMANDS:
            socket.write(b"ok\n")
            self.command_received.emit(command)
        else:
            logger.warning("unknown instance command %r", command)
            socket.write(b"unknown\n")
        socket.flush()
        socket.disconnectFromServer()
