"""Keyboard controls, and the scripted key sequence a headless run plays back.

Keys: arrows steer/thrust, space fires, M mute, P pause, R replay (no telemetry),
G a deliberate glitch (the frame's update raises), F3 the overlay.
"""

from __future__ import annotations

from collections.abc import Callable

import pygame

from airlock_pygame import GameLoop, Mute, Pause, Replay

from ._world import World

#: (frame, key, pressed) — what a headless run "types"; frames are loop frames
SCRIPT: list[tuple[int, int, bool]] = [
    (0, pygame.K_SPACE, True),
    (2, pygame.K_LEFT, True), (24, pygame.K_LEFT, False),
    (30, pygame.K_UP, True), (48, pygame.K_UP, False),
    (70, pygame.K_RIGHT, True), (110, pygame.K_RIGHT, False),
    (120, pygame.K_m, True), (121, pygame.K_m, False),
    (140, pygame.K_m, True), (141, pygame.K_m, False),
    (150, pygame.K_r, True), (151, pygame.K_r, False),
    (165, pygame.K_r, True), (166, pygame.K_r, False),
    (175, pygame.K_p, True), (176, pygame.K_p, False),
    (190, pygame.K_p, True), (191, pygame.K_p, False),
    (200, pygame.K_g, True), (201, pygame.K_g, False),
    (210, pygame.K_F3, True), (212, pygame.K_F3, True),
    (215, pygame.K_LEFT, True), (240, pygame.K_LEFT, False),
    (250, pygame.K_UP, True), (262, pygame.K_UP, False),
]

#: what a scripted key press demonstrates, said when it happens
NARRATION: dict[int, str] = {
    pygame.K_m: "M toggles Mute: sounds are dropped by policy while muted (see 'dropped')",
    pygame.K_r: "R toggles Replay: telemetry is dropped, a replay must not talk to the server",
    pygame.K_p: "P toggles Pause: gameplay effects are dropped; UI effects (redraws, the "
                "menu click) still escape",
    pygame.K_g: "G makes World.update raise GlitchError ON PURPOSE: the frame's effects are "
                "discarded, nothing half-done escapes, and the next frame runs normally",
    pygame.K_F3: "F3 toggles the overlay (counts of the last flushed frame, and a graph)",
}

Toggle = type[Mute] | type[Pause] | type[Replay]
_TOGGLES: dict[int, Toggle] = {pygame.K_m: Mute, pygame.K_p: Pause, pygame.K_r: Replay}
_BANNERS: dict[Toggle, str] = {Mute: "MUTED", Pause: "PAUSED", Replay: "REPLAY: telemetry off"}


class Controls:
    """Turns key events into ship input and policy toggles."""

    def __init__(self, world: World, loop: GameLoop) -> None:
        self.world, self.loop = world, loop
        self.held: set[int] = set()

    def on_event(self, event: pygame.event.Event) -> None:
        if event.type == pygame.KEYDOWN:
            self.held.add(event.key)
            self._press(event.key)
        elif event.type == pygame.KEYUP:
            self.held.discard(event.key)
        world, held = self.world, self.held
        world.turn = (pygame.K_RIGHT in held) - (pygame.K_LEFT in held)
        world.thrust = pygame.K_UP in held
        world.firing = pygame.K_SPACE in held

    def _press(self, key: int) -> None:
        if key == pygame.K_ESCAPE:
            self.loop.stop()
        elif key == pygame.K_g:
            self.world.glitch = True
        elif key in _TOGGLES:
            self.loop.policies.toggle(_TOGGLES[key])
            self.world.frozen = Pause in self.loop.policies
            self.world.banner = "  ".join(
                text for kind, text in _BANNERS.items() if kind in self.loop.policies
            )
            self.world.fx.sound("click", ui=True)


def post_script_events(frame: int, say: Callable[[str], None] | None = None) -> None:
    """Post the scripted key events for ``frame`` (call before the frame reads events).

    ``say`` is told what each scripted key press is about to demonstrate.
    """
    for at, key, pressed in SCRIPT:
        if at == frame:
            kind = pygame.KEYDOWN if pressed else pygame.KEYUP
            pygame.event.post(pygame.event.Event(kind, key=key, mod=0, unicode="", scancode=0))
            if pressed and say is not None and key in NARRATION:
                say(f"frame {frame}: scripted key {NARRATION[key]}")
