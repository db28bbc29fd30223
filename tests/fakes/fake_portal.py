"""A stand-in for xdg-desktop-portal's Screenshot interface on a private session bus.

Run inside ``dbus-run-session``. ``Screenshot(parent, options)`` returns the request
object path the spec prescribes, then emits ``Request.Response`` on it through
``gdbus emit`` (which writes the exact ``u`` + ``a{sv}`` signature a real portal sends):

  --uri FILE   answer code 0 with {"uri": file://FILE}
  --code N     answer with response code N (1 = user cancelled, 2 = other)
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from PySide6.QtCore import ClassInfo, QCoreApplication, QObject, QTimer, Slot
from PySide6.QtDBus import (
    QDBusAbstractAdaptor,
    QDBusConnection,
    QDBusMessage,
    QDBusObjectPath,
)

ARGS = argparse.Namespace()


def _emit(path: str) -> None:
    results = f"{{'uri': <'file://{ARGS.uri}'>}}" if ARGS.code == 0 else "@a{sv} {}"
    subprocess.run(
        [
            "gdbus",
            "emit",
            "--session",
            "--object-path",
            path,
            "--signal",
            "org.freedesktop.portal.Request.Response",
            f"uint32 {ARGS.code}",
            results,
        ],
        check=True,
    )


@ClassInfo({"D-Bus Interface": "org.freedesktop.portal.Screenshot"})
class Screenshot(QDBusAbstractAdaptor):
    @Slot(str, "QVariantMap", QDBusMessage, result=QDBusObjectPath)
    def Screenshot(self, _parent_window, options, message):  # D-Bus method name
        sender = message.service().lstrip(":").replace(".", "_")
        token = options.get("handle_token", "t")
        path = f"/org/freedesktop/portal/desktop/request/{sender}/{token}"
        QTimer.singleShot(50, lambda: _emit(path))
        return QDBusObjectPath(path)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--uri", default="")
    parser.add_argument("--code", type=int, default=0)
    parser.parse_args(namespace=ARGS)
    app = QCoreApplication(sys.argv[:1])
    bus = QDBusConnection.sessionBus()
    root = QObject()
    Screenshot(root)
    registered = bus.registerObject("/org/freedesktop/portal/desktop", root)
    named = bus.registerService("org.freedesktop.portal.Desktop")
    print("ready" if registered and named else "failed", flush=True)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
