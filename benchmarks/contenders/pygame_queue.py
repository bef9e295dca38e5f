"""pygame's event queue: ``event.post(Event(...))`` per effect, ``event.get()`` per frame."""

from __future__ import annotations

import os

from ..effects import Effect
from .base import Contender, Frame

__all__ = ["PygameQueue"]


class PygameQueue(Contender):
    name = "pygame queue"
    note = "pygame.event.post(Event(USEREVENT, fn=..., args=...)) + event.get() dispatch loop"

    def open(self) -> None:
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        import pygame

        self.pygame = pygame
        pygame.init()
        pygame.display.set_mode((32, 32))
        pygame.event.get()

    def close(self) -> None:
        self.pygame.quit()

    def w_intents(self, k: int, effect: Effect) -> Frame:
        pygame = self.pygame
        post, get, event_cls = pygame.event.post, pygame.event.get, pygame.event.Event
        user = pygame.USEREVENT

        def frame() -> None:
            for i in range(k):
                post(event_cls(user, fn=effect, args=(i,)))
            for event in get():
                if event.type == user:
                    event.fn(*event.args)

        return frame

    def w_empty(self, k: int, effect: Effect) -> Frame:
        get, user = self.pygame.event.get, self.pygame.USEREVENT

        def frame() -> None:
            for event in get():
                if event.type == user:
                    event.fn(*event.args)

        return frame
