"""Runtime switches: QBO's throttling, injected faults and OAuth timings."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass
class Knobs:
    auto_approve: bool = False
    rotation_interval_s: float = 86400.0
    rotation_grace_s: float = 0.0
    rate_limits: bool = False
    latency_ms: float = 0.0
    fail_5xx_rate: float = 0.0
    burst_429: int = 0
    drop_after_commit_rate: float = 0.0
    time_scale: float = 1.0


class KnobError(ValueError):
    pass


class KnobBoard:
    """Thread-safe holder of the current :class:`Knobs`."""

    def __init__(self, knobs: Knobs) -> None:
        self._knobs = knobs
        self._lock = threading.Lock()
        validate(knobs)

    def get(self) -> Knobs:
        with self._lock:
            return Knobs(**asdict(self._knobs))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self.get())

    def update(self, changes: dict[str, Any]) -> Knobs:
        names = {f.name: f.type for f in fields(Knobs)}
        with self._lock:
            current = asdict(self._knobs)
            for key, value in changes.items():
                if key not in names:
                    raise KnobError(f"unknown knob: {key}")
                current[key] = _coerce(key, value, current[key])
            candidate = Knobs(**current)
            validate(candidate)
            self._knobs = candidate
            return Knobs(**asdict(candidate))

    def take_burst(self) -> bool:
        """Consume one forced 429, if any are pending."""
        with self._lock:
            if self._knobs.burst_429 > 0:
                self._knobs.burst_429 -= 1
                return True
            return False


def _coerce(key: str, value: Any, current: Any) -> Any:
    if isinstance(current, bool):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise KnobError(f"{key} must be true or false")
    if isinstance(current, int):
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise KnobError(f"{key} must be a whole number")
        try:
            return int(value)
        except ValueError:
            raise KnobError(f"{key} must be a whole number") from None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise KnobError(f"{key} must be a number")
    try:
        return float(value)
    except ValueError:
        raise KnobError(f"{key} must be a number") from None


def validate(knobs: Knobs) -> None:
    for name in ("fail_5xx_rate", "drop_after_commit_rate"):
        value = getattr(knobs, name)
        if not 0.0 <= value <= 1.0:
            raise KnobError(f"{name} must be between 0 and 1")
    if knobs.time_scale <= 0:
        raise KnobError("time_scale must be positive")
    for name in ("latency_ms", "rotation_interval_s", "rotation_grace_s", "burst_429"):
        if getattr(knobs, name) < 0:
            raise KnobError(f"{name} must not be negative")
