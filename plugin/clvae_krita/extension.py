"""Registers the docker, and a menu action (Tools > Scripts) that runs Generate in the
active window's docker, so it can have a keyboard shortcut."""

from __future__ import annotations

from krita import DockWidgetFactory, DockWidgetFactoryBase, Extension

from .docker import TITLE, SemanticDocker

DOCKER_ID = "clvae_semantic_synthesis"
GENERATE_ACTION = "clvae_generate"


def docker_of(window):
    """The Semantic Synthesis docker of a Krita window, or None."""
    found = window.qwindow().findChildren(SemanticDocker)
    return found[0] if found else None


class SemanticExtension(Extension):
    def setup(self) -> None:
        pass

    def createActions(self, window) -> None:
        action = window.createAction(GENERATE_ACTION, f"{TITLE}: Generate", "tools/scripts")
        action.triggered.connect(lambda: self._generate(window))

    @staticmethod
    def _generate(window) -> None:
        docker = docker_of(window)
        if docker is not None:
            docker.generate()


def register(app) -> None:
    app.addDockWidgetFactory(DockWidgetFactory(DOCKER_ID, DockWidgetFactoryBase.DockRight, SemanticDocker))
    app.addExtension(SemanticExtension(app))
