"""Command palette entries (ctrl+p) for every action of the app, and the key table.

Both come from the App's own ``BINDINGS`` (every binding with a description is a command)
plus ``App.PALETTE_ONLY`` (actions without a key), so an action added to the App with a
binding appears in the palette, the help screen and the footer without further work.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from textual.app import App
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider


@dataclass(frozen=True)
class AppCommand:
    """One user-facing action.

    Attributes:
        title: what the palette and help screen show, e.g. ``"New note"``.
        help: one line saying what it does.
        action: a Textual action string run on the App, e.g. ``"new_note"``.
        keys: display names of the keys bound to it (may be empty).
    """

    title: str
    help: str
    action: str
    keys: tuple[str, ...] = ()


def _key_display(app: App, binding: Binding) -> str:
    if binding.key_display:
        return binding.key_display
    try:
        return app.get_key_display(binding)
    except Exception:  # an app that is not running yet
        return binding.key


def app_commands(app: App) -> list[AppCommand]:
    """The App's commands in ``BINDINGS`` order, then ``PALETTE_ONLY`` ones.

    Bindings of the App subclass's own ``BINDINGS`` (not Textual's defaults) that have a
    description become commands; several keys for one action are merged. The title is the
    binding's ``tooltip`` head (before `` — ``) or its description; help is the tooltip.
    """
    by_action: dict[str, AppCommand] = {}
    order: list[str] = []
    for binding in Binding.make_bindings(type(app).BINDINGS):
        if not binding.description:
            continue
        key = _key_display(app, binding)
        if binding.action in by_action:
            old = by_action[binding.action]
            if key not in old.keys:
                by_action[binding.action] = AppCommand(old.title, old.help, old.action, (*old.keys, key))
            continue
        title, _, help_text = (binding.tooltip or binding.description).partition(" — ")
        by_action[binding.action] = AppCommand(title, help_text or title, binding.action, (key,))
        order.append(binding.action)
    for title, help_text, action in getattr(app, "PALETTE_ONLY", ()):
        if action not in by_action:
            by_action[action] = AppCommand(title, help_text, action)
            order.append(action)
    return [by_action[a] for a in order]


class JournalCommands(Provider):
    """Command palette provider: one hit per :func:`app_commands` entry."""

    def _commands(self) -> list[AppCommand]:
        return app_commands(self.app)

    def _run(self, action: str) -> None:
        self.app.call_later(self.app.run_action, action)

    async def discover(self) -> Hits:
        for cmd in self._commands():
            yield DiscoveryHit(_label(cmd), partial(self._run, cmd.action), help=cmd.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for cmd in self._commands():
            label = _label(cmd)
            score = max(matcher.match(cmd.title), matcher.match(label))
            if score > 0:
                yield Hit(score, matcher.highlight(label), partial(self._run, cmd.action), help=cmd.help)


def _label(cmd: AppCommand) -> str:
    return f"{cmd.title} ({', '.join(cmd.keys)})" if cmd.keys else cmd.title
