"""Who sees what: roles, the pages each role opens, what each may do, and the community
scope a viewer is held to. The one place of these rules (no Streamlit here): the app's
navigation and each page's check (``pages/ui/access.py``), the query context
(``metrics.context.Query.allowed``) and the cadre-name rule all read this module.

- **leader**: every page, every community, every action.
- **community**: the figure pages of its own community only (the scope is enforced by
  ``Query``: whatever the URL or a widget asks for is intersected with it).
- **reviewer**: the cadre pages (考勤与日志, 考核评议), the cases figures and the glossary;
  every community; may publish an appraisal.
- **admin**: data management (inventory, import, quality, office settings, users and the
  audit trail) and the glossary.
- **screen**: the big screen only (aggregates, no names), by a URL token.
- ``open`` is no role of a user: login is off (no user exists) and the app is as it was.
"""
from __future__ import annotations

from dataclasses import dataclass

from data.store.users import ROLES

OPEN = "open"
# page key (the page script's stem; the hidden /overview link goes with the cockpit) ->
# the roles that open it
PAGES = {
    "cockpit": ("leader", "community"),
    "cases": ("leader", "community", "reviewer"),
    "safety": ("leader", "community"),
    "benefits": ("leader", "community"),   # benefit exceptions are sensitive: no reviewer
    "cadres": ("leader", "community", "reviewer"),
    "appraisal": ("leader", "community", "reviewer"),
    "bigscreen": ("leader", "screen"),
    "glossary": ("leader", "community", "reviewer", "admin"),
    "data_status": ("leader", "admin"),
}
# what a role may do besides reading its pages
ACTIONS = {
    "publish": ("leader", "reviewer"),          # freeze a month's appraisal
    "import": ("leader", "admin"),              # import files, office settings, demo removal
    "audit": ("leader", "admin"),               # read the audit trail, list users
}
assert all(set(r) <= set(ROLES) for r in [*PAGES.values(), *ACTIONS.values()])


class OutOfScope(PermissionError):
    """A request for figures outside the viewer's communities (one Chinese line)."""


@dataclass(frozen=True)
class Viewer:
    """Who is looking: a user's name, role and (role community) community; ``OPEN_VIEWER``
    when login is off."""

    name: str
    role: str
    community: str | None = None

    @property
    def allowed(self) -> tuple[str, ...] | None:
        """The communities this viewer may see; None: all."""
        if self.role == "community":
            return (self.community,) if self.community else ()
        return None

    def may_open(self, page: str) -> bool:
        return self.role == OPEN or self.role in PAGES.get(page, ())

    def may(self, action: str) -> bool:
        return self.role == OPEN or self.role in ACTIONS.get(action, ())

    def pages(self) -> list[str]:
        return [p for p in PAGES if self.may_open(p)]

    @property
    def actor(self) -> str:
        """The name the audit trail records."""
        return self.name


OPEN_VIEWER = Viewer("未登录", OPEN)


def restrict(scope, allowed: tuple[str, ...] | None) -> tuple[str, ...]:
    """The communities a query may read: ``scope`` (empty: all) intersected with
    ``allowed`` (None: no limit). An empty scope with a limit becomes the limit; a scope
    that keeps nothing of the limit raises ``OutOfScope`` (never silently all)."""
    scope = tuple(dict.fromkeys(scope or ()))
    if allowed is None:
        return scope
    if not allowed:
        raise OutOfScope("当前账号没有可查看的社区, 请联系管理员")
    if not scope:
        return tuple(allowed)
    kept = tuple(c for c in scope if c in allowed)
    if not kept:
        raise OutOfScope(f"无权查看所选社区; 当前账号只能查看: {'、'.join(allowed)}")
    return kept


def check_community(community: str | None, allowed: tuple[str, ...] | None) -> None:
    """One community asked for by name (a list's unit, a cadre's community)."""
    if allowed is not None and community not in allowed:
        raise OutOfScope(f"无权查看该社区的数据; 当前账号只能查看: {'、'.join(allowed) or '无'}")


def cadre_name_visible(cadre_community: str | None, allowed: tuple[str, ...] | None) -> bool:
    """Cadre names: every one for a viewer without a community limit (leader, reviewer,
    admin; login off), else only the cadres of the viewer's own communities."""
    return allowed is None or (cadre_community is not None and cadre_community in allowed)


HIDDEN_NAME = "(非本社区人员)"
