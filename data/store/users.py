"""Who may log in: users, roles, password hashes, lockout and screen tokens.

Passwords are kept only as argon2id hashes (``argon2-cffi``, its default parameters; a
hash made with older parameters is re-hashed at the next good login). A ``screen`` user
logs in by a random URL token instead; the store keeps the token's SHA-256 (a 256-bit
random token needs no slow hash) and shows the token once, when it is made.

Lockout: ``max_failures`` wrong passwords in a row lock the account for
``lockout_minutes`` (both from settings, ``[auth]``); a good password resets the count.
While locked even the right password is refused, so guessing gains nothing.

The settings are passed in by the caller (``data`` never imports ``metrics``). Every
function that changes a user writes one row to the audit trail (``data.store.audit``)
in the same transaction.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, insert, inspect, select, update
from sqlalchemy.exc import SQLAlchemyError

from data.store import audit, clock
from data.store.schema import NAME, communities, users

# role -> what it is (shown by ``user list`` and the login banner)
ROLES = {
    "leader": "领导(全部页面与社区)",
    "community": "社区(只看本社区)",
    "reviewer": "考核(考勤、考核评议与诉求指标)",
    "admin": "管理员(数据管理、导入、用户)",
    "screen": "大屏(只看指挥中心大屏, 凭链接令牌)",
}
MIN_PASSWORD = 8


def _hasher():
    """argon2's hasher, imported on first use (the CLI's kpi never needs it)."""
    global _HASHER
    if _HASHER is None:
        from argon2 import PasswordHasher

        _HASHER = PasswordHasher()
    return _HASHER


_HASHER = None


class UserError(ValueError):
    """A bad user request (unknown role, name taken, short password): one Chinese line."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    community: str | None
    disabled: bool
    locked_until: datetime | None
    failed_logins: int
    created_at: datetime


@dataclass(frozen=True)
class LoginResult:
    """The outcome of a password check: ``user`` when it succeeded, else ``reason``."""

    user: User | None
    reason: str = ""


def _row(r) -> User:
    return User(r.name, r.role, r.community, bool(r.disabled), r.locked_until,
                int(r.failed_logins or 0), r.created_at)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def any_users(engine: Engine) -> bool:
    """Whether login is on: at least one user exists (disabled ones count: disabling the
    last user must not open the app to everyone)."""
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(users)).scalar_one() > 0
    except SQLAlchemyError:
        # a store from before migration 0008 (the app upgrades it first; a bare import of
        # a page, or a tool reading an old file) has no users: login off
        if inspect(engine).has_table(users.name):
            raise
        return False


def get(engine: Engine, name: str) -> User | None:
    with engine.connect() as conn:
        r = conn.execute(select(users).where(users.c.name == name)).first()
    return _row(r) if r else None


def listing(engine: Engine) -> list[User]:
    with engine.connect() as conn:
        return [_row(r) for r in conn.execute(select(users).order_by(users.c.name))]


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"密码太短: 至少 {MIN_PASSWORD} 个字符")


def check_new(engine: Engine, name: str, role: str, community: str | None = None) -> None:
    """Raise UserError unless ``add`` would take these (before asking for a password)."""
    name = (name or "").strip()
    if not name or len(name) > NAME or any(ch.isspace() for ch in name):
        raise UserError(f"用户名无效: 应为 1–{NAME} 个字符, 不含空格")
    if role not in ROLES:
        raise UserError(f"未知角色「{role}」: 可选 {', '.join(ROLES)}")
    if role == "community":
        if not community:
            raise UserError("社区用户需要 --community 社区名称")
        with engine.connect() as conn:
            known = conn.execute(select(communities.c.name)
                                 .where(communities.c.name == community)).first()
        if known is None:
            raise UserError(f"数据库中没有社区「{community}」")
    elif community:
        raise UserError(f"只有 community 角色可指定社区(「{role}」看全部社区)")
    if get(engine, name) is not None:
        raise UserError(f"用户「{name}」已存在")


def add(engine: Engine, name: str, role: str, community: str | None = None,
        password: str | None = None, by: str = "命令行") -> str | None:
    """Create a user; returns the screen token (shown once) for a ``screen`` user, else
    None. ``community`` is required for, and only for, the ``community`` role."""
    name = (name or "").strip()
    check_new(engine, name, role, community)
    token = None
    if role == "screen":
        token, pw_hash = secrets.token_urlsafe(32), None
    else:
        if password is None:
            raise UserError("需要密码")
        _check_password(password)
        pw_hash = hash_password(password)
    now = clock.now()
    with engine.begin() as conn:
        if conn.execute(select(users.c.name).where(users.c.name == name)).first():
            raise UserError(f"用户「{name}」已存在")
        conn.execute(insert(users).values(
            name=name, role=role, community=community if role == "community" else None,
            password_hash=pw_hash, token_hash=token_hash(token) if token else None,
            failed_logins=0, disabled=False, created_at=now, changed_at=now))
        audit.record(conn, by, "user.add", f"用户 {name} 角色 {role}"
                     + (f" 社区 {community}" if role == "community" else ""))
    return token


def _require(conn, name: str):
    r = conn.execute(select(users).where(users.c.name == name)).first()
    if r is None:
        raise UserError(f"没有用户「{name}」")
    return r


def set_password(engine: Engine, name: str, password: str, by: str = "命令行") -> None:
    """A new password; it also lifts a lockout (an administrator set it)."""
    _check_password(password)
    with engine.begin() as conn:
        r = _require(conn, name)
        if r.role == "screen":
            raise UserError("大屏用户没有密码(凭链接令牌登录)")
        conn.execute(update(users).where(users.c.name == name).values(
            password_hash=hash_password(password), failed_logins=0, locked_until=None,
            changed_at=clock.now()))
        audit.record(conn, by, "user.passwd", f"用户 {name} 修改密码")


def disable(engine: Engine, name: str, by: str = "命令行") -> bool:
    """Disable a user (it can no longer log in; its open sessions end at their next page
    load); False when it was disabled already."""
    with engine.begin() as conn:
        r = _require(conn, name)
        if r.disabled:
            return False
        conn.execute(update(users).where(users.c.name == name).values(
            disabled=True, changed_at=clock.now()))
        audit.record(conn, by, "user.disable", f"停用用户 {name}")
    return True


def login(engine: Engine, name: str, password: str, *, max_failures: int,
          lockout_minutes: float, now: datetime | None = None) -> LoginResult:
    """Check a password, count failures, lock after ``max_failures`` in a row; every
    attempt is written to the audit trail (``login.ok`` / ``login.fail``)."""
    now = now or clock.now()
    with engine.begin() as conn:
        r = conn.execute(select(users).where(users.c.name == name)).first()
        if r is None or r.role == "screen" or not r.password_hash:
            audit.record(conn, name or "(空)", "login.fail", "用户名或密码错误(无此用户)", at=now)
            return LoginResult(None, "用户名或密码错误")
        if r.disabled:
            audit.record(conn, name, "login.fail", "用户已停用", at=now)
            return LoginResult(None, "该用户已停用, 请联系管理员")
        if r.locked_until is not None and r.locked_until > now:
            audit.record(conn, name, "login.fail", "账户锁定中", at=now)
            return LoginResult(None, f"密码错误次数过多, 账户锁定至 {r.locked_until:%H:%M:%S}, "
                                     "请稍后再试或联系管理员")
        from argon2.exceptions import InvalidHashError, VerificationError

        try:
            _hasher().verify(r.password_hash, password)
        except (VerificationError, InvalidHashError):
            failed = int(r.failed_logins or 0) + 1
            locked = now + timedelta(minutes=lockout_minutes) if failed >= max_failures else None
            conn.execute(update(users).where(users.c.name == name).values(
                failed_logins=0 if locked else failed, locked_until=locked))
            audit.record(conn, name, "login.fail", f"密码错误(连续第 {failed} 次)"
                         + (f", 锁定至 {locked:%Y-%m-%d %H:%M:%S}" if locked else ""), at=now)
            if locked:
                return LoginResult(None, f"密码连续错误 {failed} 次, 账户锁定 "
                                         f"{lockout_minutes:g} 分钟")
            return LoginResult(None, "用户名或密码错误")
        values = {"failed_logins": 0, "locked_until": None}
        if _hasher().check_needs_rehash(r.password_hash):
            values["password_hash"] = hash_password(password)
        conn.execute(update(users).where(users.c.name == name).values(**values))
        audit.record(conn, name, "login.ok", f"登录成功(角色 {r.role})", at=now)
        return LoginResult(_row(r))


def by_token(engine: Engine, token: str) -> User | None:
    """The enabled ``screen`` user whose token this is, else None (no audit row for a bad
    token here: the caller records it)."""
    if not token:
        return None
    with engine.connect() as conn:
        r = conn.execute(select(users).where(users.c.token_hash == token_hash(token),
                                             users.c.role == "screen")).first()
    return _row(r) if r is not None and not r.disabled else None
