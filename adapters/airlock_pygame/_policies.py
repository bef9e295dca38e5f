"""Game policies: which effects of a frame escape, by phase.

Rules: ``Mute`` drops sounds; ``Pause`` drops everything but UI effects (redraws and effects
enqueued with ``ui=True``); ``HeadlessServer`` drops redraws and sounds and keeps network;
``Replay`` drops network sends. ``PolicySet`` combines the ones switched on (all must allow)
and can be toggled while the game runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import airlock

from ._phases import NETWORK, REDRAW, SOUND, is_ui, phase_of

__all__ = ["DropPhases", "HeadlessServer", "Mute", "Pause", "PolicySet", "Replay"]


class DropPhases(airlock.Policy):
    """Drop intents in any of ``phases``."""

    phases: frozenset[str] = frozenset()

    def allows(self, intent: airlock.Intent) -> bool:
        return phase_of(intent) not in self.phases

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Mute(DropPhases):
    """No sound escapes."""

    phases = frozenset({SOUND})


class HeadlessServer(DropPhases):
    """Nothing is drawn or played; network sends still go out."""

    phases = frozenset({REDRAW, SOUND})


class Replay(DropPhases):
    """A replayed game must not talk to the network again."""

    phases = frozenset({NETWORK})


class Pause(airlock.Policy):
    """Gameplay effects are dropped; UI effects (redraws, ``ui=True``) still escape."""

    def allows(self, intent: airlock.Intent) -> bool:
        return is_ui(intent)

    def __repr__(self) -> str:
        return "Pause()"


class PolicySet(airlock.Policy):
    """The policies switched on right now; an intent escapes when all of them allow it.

    Only the members' ``allows`` is consulted (no ``on_enqueue``), so enqueue stays cheap.
    """

    def __init__(self, policies: Iterable[airlock.Policy] = ()) -> None:
        self.active: list[airlock.Policy] = list(policies)
        self._changed: Callable[[], None] | None = None  # set by the GameLoop that owns it

    def allows(self, intent: airlock.Intent) -> bool:
        active = self.active
        return not active or all(policy.allows(intent) for policy in active)

    def __contains__(self, kind: type[airlock.Policy]) -> bool:
        return any(type(p) is kind for p in self.active)

    def switch(self, kind: type[airlock.Policy], on: bool) -> None:
        """Turn policy class ``kind`` on (with a new instance) or off."""
        self.active = [p for p in self.active if type(p) is not kind]
        if on:
            self.active.append(kind())
        if self._changed is not None:
            self._changed()

    def toggle(self, kind: type[airlock.Policy]) -> bool:
        """Flip policy class ``kind``; return whether it is now on."""
        on = kind not in self
        self.switch(kind, on)
        return on

    def __repr__(self) -> str:
        return f"PolicySet({self.active!r})"
