"""The one reader of environment variables: every settings loader (Kafka and topics, ingress,
worker) reads through it, so a blank value means the default everywhere and every error names
the variable and says what it accepts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from kafkaio.secret import Secret
from schemas.errors import UsageError


class SettingsError(UsageError, ValueError):
    """An environment variable holds a value alertpipe cannot use."""


@dataclass(frozen=True)
class Env:
    """Typed reads of ``values`` (os.environ or a test's dict). Blank counts as unset."""

    values: Mapping[str, str]

    def text(self, name: str, default: str) -> str:
        return self.values.get(name, "").strip() or default

    def optional(self, name: str) -> str | None:
        return self.values.get(name, "").strip() or None

    def flag(self, name: str) -> bool:
        return self.text(name, "").lower() in ("1", "true", "yes", "on")

    def number(
        self, name: str, default: float, low: float | None = None, high: float | None = None
    ) -> float:
        """A float in [low, high] (either end open when None)."""
        raw = self.optional(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise SettingsError(f"{name}={raw!r} is not a number") from None
        _check_range(name, value, low, high)
        return value

    def positive(self, name: str, default: float) -> float:
        value = self.number(name, default)
        if value <= 0:
            raise SettingsError(f"{name}={value:g} must be positive")
        return value

    def integer(
        self, name: str, default: int, low: int | None = None, high: int | None = None
    ) -> int:
        """An integer in [low, high] (either end open when None)."""
        raw = self.optional(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"{name}={raw!r} is not an integer") from None
        _check_range(name, value, low, high)
        return value

    def choice(self, name: str, default: str, options: Sequence[str]) -> str:
        value = self.text(name, default)
        if value not in options:
            raise SettingsError(f"{name}={value!r} must be one of {', '.join(options)}")
        return value

    def directory(self, name: str) -> Path | None:
        """An existing directory, or None when unset."""
        raw = self.optional(name)
        if raw is None:
            return None
        if not Path(raw).is_dir():
            raise SettingsError(f"{name}={raw!r} is not a directory")
        return Path(raw)

    def file(self, name: str) -> Path | None:
        """An existing, readable file (a CA, a certificate, a key), or None when unset."""
        raw = self.optional(name)
        if raw is None:
            return None
        path = Path(raw)
        if not path.is_file():
            raise SettingsError(f"{name}={raw!r}: no such file")
        try:
            with path.open("rb"):
                pass
        except OSError as exc:
            raise SettingsError(f"{name}={raw!r} cannot be read ({exc.strerror})") from None
        return path

    def secret(self, name: str, file_name: str) -> Secret | None:
        """A password or key from ``name`` or, for Kubernetes Secrets mounted as files, from
        the file ``file_name`` names (its trailing newline dropped); never both."""
        inline, path = self.optional(name), self.optional(file_name)
        if inline is not None and path is not None:
            raise SettingsError(f"set {name} or {file_name}, not both")
        if inline is not None:
            return Secret(inline)
        if path is None:
            return None
        try:
            text = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise SettingsError(f"{file_name}={path!r} cannot be read ({reason})") from None
        if not text:
            raise SettingsError(f"{file_name}={path!r} is empty")
        return Secret(text, source=Path(path))


def _check_range(name: str, value: float, low: float | None, high: float | None) -> None:
    if low is not None and high is not None and not low <= value <= high:
        raise SettingsError(f"{name}={value:g} must be between {low:g} and {high:g}")
    if low is not None and value < low:
        raise SettingsError(f"{name}={value:g} must be at least {low:g}")
    if high is not None and value > high:
        raise SettingsError(f"{name}={value:g} must be at most {high:g}")
