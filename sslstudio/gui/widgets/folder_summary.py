"""What a folder holds, and what of it cannot be used: two self-contained trees for the Data page.

Data comes in through `show` and `add`; nothing is read from a page or the project.
"""
from __future__ import annotations

from collections import Counter

from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QWidget

from sslstudio.core.data.scan import ScanResult


class FolderSummary(QTreeWidget):
    """Files per kind, with each kind's class folders; the labels made in the app on top."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setHeaderLabels(["kind / label", "files"])
        self.setColumnWidth(0, 220)

    def show_folder(self, scan: ScanResult, app_labels: dict[str, str]) -> None:
        self.clear()
        if app_labels:
            top = QTreeWidgetItem(["labelled in the app", str(len(app_labels))])
            top.setToolTip(0, "Classes given on the Embeddings or Fine-tune step; they win over folder labels")
            self._add(top, Counter(app_labels.values()))
        for modality, n in scan.counts().items():
            self._add(QTreeWidgetItem([modality, str(n)]),
                      Counter(scan.labels_of(modality)) if scan.looks_labelled(modality) else {})
        if scan.ignored:
            self.addTopLevelItem(QTreeWidgetItem(["other file types (ignored)", str(scan.ignored)]))

    def _add(self, top: QTreeWidgetItem, counts) -> None:
        self.addTopLevelItem(top)
        for label, count in sorted(counts.items()):
            top.addChild(QTreeWidgetItem([label, str(count)]))
        top.setExpanded(True)


class BadFiles(QTreeWidget):
    """Each file that cannot be used, with the reason in plain words."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setHeaderLabels(["file", "why it was skipped"])
        self.setColumnWidth(0, 260)

    def add(self, bad: list) -> int:
        """Add these (path, reason) entries; the count listed now."""
        for entry in bad:
            self.addTopLevelItem(QTreeWidgetItem([entry.path, entry.reason]))
        return self.topLevelItemCount()
