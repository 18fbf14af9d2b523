"""Unhandled exceptions become a dialog with the traceback and a Copy button; the app keeps running.

`ExceptionHook.install` catches exceptions raised in Qt slots on the GUI
thread (sys.excepthook) and in plain Python threads (threading.excepthook);
the latter are handed to the GUI thread through a queued signal, because only
the GUI thread may create a dialog.
"""
from __future__ import annotations

import sys
import threading
import traceback

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


class ErrorDialog(QDialog):
    def __init__(self, title: str, message: str, details: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)
        summary = QLabel(message)
        summary.setWordWrap(True)
        summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(summary)
        self.details = QPlainTextEdit(details)
        self.details.setReadOnly(True)
        self.details.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.details.setVisible(bool(details))
        self.details.setMinimumHeight(220)
        layout.addWidget(self.details)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the message and traceback, to paste into a bug report")
        self.copy_button.clicked.connect(self.copy)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    @Slot()
    def copy(self) -> None:
        text = self.findChild(QLabel).text()
        if self.details.toPlainText():
            text += "\n\n" + self.details.toPlainText()
        QGuiApplication.clipboard().setText(text)


def report_failure(parent: QWidget, status, message: str, details: str) -> None:
    """A background job failed: the message in the page's status line, and for a bug (it has a
    traceback) the error dialog too. Bad input needs no dialog; the line says what to fix."""
    status.setText(message)
    if details:
        show_error(parent, message, details)


def show_error(parent: QWidget | None, message: str, details: str = "") -> None:
    """A user error (no traceback) as a plain warning; a bug with its traceback."""
    if not details:
        QMessageBox.warning(parent, "sslstudio", message)
        return
    ErrorDialog("sslstudio: something went wrong", message, details, parent).exec()


class _Relay(QObject):
    sig_error = Signal(str, str)


class ExceptionHook:
    """Shows every unhandled exception; remembers the last one (tests read it)."""

    def __init__(self, parent_widget=None, modal: bool = True):
        self.parent_widget = parent_widget
        self.modal = modal
        self.last: tuple[str, str] | None = None
        self.dialogs: list[ErrorDialog] = []
        self._relay = _Relay()
        self._relay.sig_error.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def install(self) -> None:
        sys.excepthook = self._on_exception
        threading.excepthook = lambda args: self._on_exception(args.exc_type, args.exc_value, args.exc_traceback)

    def uninstall(self) -> None:
        sys.excepthook = sys.__excepthook__
        threading.excepthook = threading.__excepthook__

    def _on_exception(self, exc_type, value, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, value, tb)
            return
        details = "".join(traceback.format_exception(exc_type, value, tb))
        sys.stderr.write(details)
        self._relay.sig_error.emit(f"{exc_type.__name__}: {value}", details)

    @Slot(str, str)
    def _show(self, message: str, details: str) -> None:
        self.last = (message, details)
        parent = self.parent_widget() if callable(self.parent_widget) else self.parent_widget
        dialog = ErrorDialog("sslstudio: something went wrong",
                             "An unexpected error occurred. Your work is kept; you can carry on.\n\n" + message,
                             details, parent)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialogs = [d for d in self.dialogs if d.isVisible()] + [dialog]
        dialog.exec() if self.modal else dialog.show()
