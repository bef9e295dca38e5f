"""The game: a ship, asteroids that split when shot, bullets and particles.

Rule: game objects never touch the mixer, the display or the socket. They enqueue sounds,
dirty rects and telemetry through ``Effects`` (airlock effects), from wherever they are.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import NamedTuple, TypeVar

import pygame

import airlock
from airlock_pygame import NetSender, SoundPlayer, request_redraw

WIDTH, HEIGHT = 800, 600
TITLE = "airlock asteroids — F3 overlay, M mute, P pause, R replay, G glitch"
B = TypeVar("B", bound="Body")
SIZES = {3: 46.0, 2: 26.0, 1: 14.0}  # asteroid size class -> radius


class GlitchError(RuntimeError):
    """Raised on purpose (key G) to show a failed frame being discarded."""


class SoundRule(NamedTuple):
    """How one sound behaves when it is asked for often (``SoundPlayer.play`` options)."""

    priority: int = 0
    cooldown_ms: float = 0
    max_instances: int | None = None


#: the engine-style answers to stacked repeats and channel exhaustion
SOUND_RULES: dict[str, SoundRule] = {
    "thrust": SoundRule(cooldown_ms=200),  # asked every update while held: restart every 200 ms
    "shoot": SoundRule(max_instances=2),  # rapid fire: at most two shots ringing at once
    "boom1": SoundRule(priority=2), "boom2": SoundRule(priority=2),  # explosions take the
    "boom3": SoundRule(priority=2),                                   # channel of older shots
    "click": SoundRule(priority=3),  # a menu click is never starved
}


class Effects:
    """What game objects use to reach the outside world: sounds and telemetry."""

    def __init__(self, sounds: SoundPlayer, net: NetSender,
                 bank: dict[str, pygame.mixer.Sound]) -> None:
        self.sounds, self.net, self.bank = sounds, net, bank

    def sound(self, name: str, *, ui: bool = False) -> None:
        if name in self.bank:
            rule = SOUND_RULES.get(name, SoundRule())
            self.sounds.play(self.bank[name], ui=ui, priority=rule.priority,
                             cooldown_ms=rule.cooldown_ms, max_instances=rule.max_instances)

    def telemetry(self, key: str | None = None, **payload: object) -> None:
        self.net.send(payload, key=key)

    def caption(self, text: str) -> None:
        """Retitle the window once per frame at most, however many times it is asked."""
        airlock.enqueue(pygame.display.set_caption, text, _key="caption")


@dataclass
class Body:
    """Something that moves, wraps around the screen and asks for its screen area to redraw."""

    x: float
    y: float
    vx: float = 0.0
    vy: float = 0.0
    radius: float = 2.0
    last_rect: pygame.Rect | None = field(default=None, repr=False)

    def move(self, dt: float) -> None:
        self.x = (self.x + self.vx * dt) % WIDTH
        self.y = (self.y + self.vy * dt) % HEIGHT

    def bounds(self) -> pygame.Rect:
        r = int(self.radius) + 3
        return pygame.Rect(int(self.x) - r, int(self.y) - r, 2 * r, 2 * r)

    def mark_dirty(self) -> None:
        """Request a redraw of where this body was and where it is now."""
        rect = self.bounds()
        request_redraw(rect if self.last_rect is None else rect.union(self.last_rect))
        self.last_rect = rect

    def draw(self, surface: pygame.Surface) -> None:
        raise NotImplementedError

    def hits(self, other: Body) -> bool:
        return math.hypot(self.x - other.x, self.y - other.y) < self.radius + other.radius


@dataclass
class Asteroid(Body):
    size: int = 3
    spin: float = 0.0
    angle: float = 0.0
    shape: list[float] = field(default_factory=list)

    def draw(self, surface: pygame.Surface) -> None:
        n = len(self.shape)
        points = [
            (self.x + math.cos(self.angle + 2 * math.pi * i / n) * self.radius * k,
             self.y + math.sin(self.angle + 2 * math.pi * i / n) * self.radius * k)
            for i, k in enumerate(self.shape)
        ]
        pygame.draw.polygon(surface, (70, 70, 80), points)
        pygame.draw.polygon(surface, (200, 200, 210), points, 2)
        self.mark_dirty()


@dataclass
class Bullet(Body):
    life: float = 0.9

    def draw(self, surface: pygame.Surface) -> None:
        pygame.draw.circle(surface, (255, 240, 120), (int(self.x), int(self.y)), 3)
        self.mark_dirty()


@dataclass
class Particle(Body):
    life: float = 0.6

    def draw(self, surface: pygame.Surface) -> None:
        heat = max(0.0, min(1.0, self.life / 0.6))
        color = (255, int(80 + 150 * heat), int(40 * heat))
        pygame.draw.circle(surface, color, (int(self.x), int(self.y)), 2)
        self.mark_dirty()


@dataclass
class Ship(Body):
    heading: float = -math.pi / 2
    thrusting: bool = False
    cooldown: float = 0.0

    def steer(self, turn: int, thrust: bool, dt: float) -> None:
        self.heading += turn * 4.0 * dt
        self.thrusting = thrust
        if thrust:
            self.vx += math.cos(self.heading) * 260 * dt
            self.vy += math.sin(self.heading) * 260 * dt
        self.vx *= 0.99
        self.vy *= 0.99

    def nose(self) -> tuple[float, float]:
        return (self.x + math.cos(self.heading) * 16, self.y + math.sin(self.heading) * 16)

    def draw(self, surface: pygame.Surface) -> None:
        h = self.heading
        points = [self.nose(),
                  (self.x + math.cos(h + 2.5) * 12, self.y + math.sin(h + 2.5) * 12),
                  (self.x + math.cos(h - 2.5) * 12, self.y + math.sin(h - 2.5) * 12)]
        if self.thrusting:
            flame = (self.x - math.cos(h) * 16, self.y - math.sin(h) * 16)
            pygame.draw.polygon(surface, (255, 140, 40), [points[1], flame, points[2]])
        pygame.draw.polygon(surface, (120, 220, 255), points, 2)
        self.mark_dirty()


class World:
    """Everything in play. ``update`` advances it by one fixed step; ``draw`` paints it."""

    def __init__(self, fx: Effects, seed: int = 7) -> None:
        self.fx = fx
        self.rng = random.Random(seed)
        self.ship = Ship(WIDTH / 2, HEIGHT / 2, radius=12)
        self.asteroids: list[Asteroid] = []
        self.bullets: list[Bullet] = []
        self.particles: list[Particle] = []
        self.score = 0
        self.steps = 0
        self.wave = 0
        self.turn, self.thrust, self.firing = 0, False, False
        self.frozen = False
        self.glitch = False
        self.banner = ""
        self._banner_rect: pygame.Rect | None = None
        self.background = self._starfield()
        self.font = pygame.font.Font(None, 28)

    # -- simulation ------------------------------------------------------------------------

    def update(self, dt: float) -> None:
        if self.glitch:
            self.glitch = False
            raise GlitchError("scripted glitch in World.update")
        if self.frozen:
            return
        self.steps += 1
        if not self.asteroids:
            self._spawn_wave()
        ship = self.ship
        ship.steer(self.turn, self.thrust, dt)
        ship.move(dt)
        if self.thrust:
            self.fx.sound("thrust")
        ship.cooldown -= dt
        if self.firing and ship.cooldown <= 0:
            self._fire()
        for body in (*self.asteroids, *self.bullets, *self.particles):
            body.move(dt)
        for asteroid in self.asteroids:
            asteroid.angle += asteroid.spin * dt
        for bullet in self.bullets:
            bullet.life -= dt
        for particle in self.particles:
            particle.life -= dt
        self._collide()
        self._expire([b for b in self.bullets if b.life <= 0], self.bullets)
        self._expire([p for p in self.particles if p.life <= 0], self.particles)
        self.fx.telemetry(key="ship", t="ship", step=self.steps, x=round(ship.x, 1),
                          y=round(ship.y, 1))

    def _fire(self) -> None:
        ship = self.ship
        ship.cooldown = 0.15
        nx, ny = ship.nose()
        speed = 480
        self.bullets.append(Bullet(nx, ny, ship.vx + math.cos(ship.heading) * speed,
                                   ship.vy + math.sin(ship.heading) * speed, radius=3))
        self.fx.sound("shoot")

    def _collide(self) -> None:
        for bullet in list(self.bullets):
            for asteroid in list(self.asteroids):
                if bullet.hits(asteroid):
                    self._expire([bullet], self.bullets)
                    self._break(asteroid)
                    break

    def _break(self, asteroid: Asteroid) -> None:
        self._expire([asteroid], self.asteroids)
        self.score += 10 * (4 - asteroid.size)
        self.fx.sound(f"boom{asteroid.size}")
        self.fx.telemetry(t="destroyed", step=self.steps, size=asteroid.size,
                          score=self.score)
        self.fx.caption(f"{TITLE} — score {self.score}")
        for _ in range(12):
            angle, speed = self.rng.uniform(0, 2 * math.pi), self.rng.uniform(40, 160)
            self.particles.append(Particle(asteroid.x, asteroid.y, math.cos(angle) * speed,
                                           math.sin(angle) * speed,
                                           life=self.rng.uniform(0.3, 0.6)))
        if asteroid.size > 1:
            for _ in range(2):
                self.asteroids.append(self._asteroid(asteroid.x, asteroid.y, asteroid.size - 1))

    def _expire(self, gone: list[B], pool: list[B]) -> None:
        for body in gone:
            if body in pool:
                pool.remove(body)
                if body.last_rect is not None:
                    request_redraw(body.last_rect)

    def _spawn_wave(self) -> None:
        self.wave += 1
        for _ in range(3 + self.wave):
            x, y = self.rng.choice([(self.rng.uniform(0, WIDTH), 0.0),
                                    (0.0, self.rng.uniform(0, HEIGHT))])
            self.asteroids.append(self._asteroid(x, y, 3))
        self.fx.telemetry(t="wave", step=self.steps, wave=self.wave)

    def _asteroid(self, x: float, y: float, size: int) -> Asteroid:
        angle, speed = self.rng.uniform(0, 2 * math.pi), self.rng.uniform(30, 90) * (4 - size)
        return Asteroid(x, y, math.cos(angle) * speed, math.sin(angle) * speed,
                        radius=SIZES[size], size=size, spin=self.rng.uniform(-1.5, 1.5),
                        shape=[self.rng.uniform(0.75, 1.15) for _ in range(9 + size)])

    # -- drawing ---------------------------------------------------------------------------

    def draw(self, surface: pygame.Surface) -> None:
        surface.blit(self.background, (0, 0))
        for body in (*self.particles, *self.asteroids, *self.bullets):
            body.draw(surface)
        self.ship.draw(surface)
        hud = self.font.render(f"SCORE {self.score}   WAVE {self.wave}", True, (240, 240, 240))
        spot = hud.get_rect(topright=(WIDTH - 12, 10))
        surface.blit(hud, spot)
        request_redraw(spot.inflate(60, 4))
        if self._banner_rect is not None:
            request_redraw(self._banner_rect)  # where the previous banner was
            self._banner_rect = None
        if self.banner:
            text = self.font.render(self.banner, True, (255, 210, 90))
            self._banner_rect = text.get_rect(midbottom=(WIDTH // 2, HEIGHT - 12))
            surface.blit(text, self._banner_rect)
            request_redraw(self._banner_rect)

    def _starfield(self) -> pygame.Surface:
        surface = pygame.Surface((WIDTH, HEIGHT))
        surface.fill((6, 8, 20))
        for _ in range(140):
            shade = self.rng.randint(60, 200)
            surface.set_at((self.rng.randrange(WIDTH), self.rng.randrange(HEIGHT)),
                           (shade, shade, shade + 30 if shade < 225 else 255))
        return surface
