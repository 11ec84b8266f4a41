#!/usr/bin/env python3
"""Signing hooks: Windows (signtool), macOS (codesign, notarytool, stapler).

    python3 packaging/sign.py windows FILE...        # the programs, then the installer
    python3 packaging/sign.py macos "dist/Factor Desktop.app"
    python3 packaging/sign.py notarize dist/FactorDesktop-<version>-macos.dmg

Identities come from the environment only, never from the repository:

  Windows  WINDOWS_CERTIFICATE (a .pfx file) and WINDOWS_CERTIFICATE_PASSWORD, or
           WINDOWS_CERTIFICATE_SHA1 (a certificate in the user's store, e.g. on a token);
           SIGNTOOL (default: signtool on PATH); TIMESTAMP_URL (default: DigiCert's).
  macOS    MACOS_SIGN_IDENTITY ("Developer ID Application: Firm (TEAMID)"), with the
           certificate in the keychain; notarisation: MACOS_NOTARY_PROFILE (a keychain profile
           made by `xcrun notarytool store-credentials`), or MACOS_NOTARY_APPLE_ID,
           MACOS_NOTARY_TEAM_ID and MACOS_NOTARY_PASSWORD (an app-specific password).

With no identity configured each step says so and is skipped (exit 0): builds without a
certificate (forks, local builds) still finish, unsigned. A configured identity whose tool is
missing or fails is an error (exit 1): a release must not go out unsigned by accident.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_TIMESTAMP_URL = "http://timestamp.digicert.com"
ENTITLEMENTS = Path(__file__).resolve().parent / "macos" / "entitlements.plist"
# Mach-O files inside an .app that codesign must sign before the bundle itself.
_MACHO_SUFFIXES = (".so", ".dylib")

Runner = Callable[[Sequence[str]], None]


class SigningError(RuntimeError):
    """A configured signing step could not be done; the message says why."""


@dataclass(frozen=True)
class SignResult:
    step: str
    signed: tuple[str, ...] = ()
    skipped: str | None = None

    def line(self) -> str:
        if self.skipped:
            return f"{self.step}: skipped ({self.skipped})"
        return f"{self.step}: signed {len(self.signed)} file(s)"


def _run(command: Sequence[str]) -> None:
    done = subprocess.run(list(command), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        # The tools' output never holds the password (it is passed on the command line only to
        # signtool, whose own messages do not repeat it); keep the last lines for the log.
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-5:])
        raise SigningError(f"{Path(command[0]).name} failed ({done.returncode}): {tail}")


def _tool(name: str, env: Mapping[str, str], variable: str | None = None) -> str:
    found = (env.get(variable) if variable else None) or shutil.which(name, path=env.get("PATH"))
    if not found:
        raise SigningError(f"{name} is not installed, but a signing identity is configured")
    return found


def sign_windows(
    files: Sequence[Path], env: Mapping[str, str] = os.environ, run: Runner = _run
) -> SignResult:
    pfx, sha1 = env.get("WINDOWS_CERTIFICATE"), env.get("WINDOWS_CERTIFICATE_SHA1")
    if not pfx and not sha1:
        return SignResult(
            "windows", skipped="no certificate: set WINDOWS_CERTIFICATE or WINDOWS_CERTIFICATE_SHA1"
        )
    signtool = _tool("signtool", env, "SIGNTOOL")
    command = [signtool, "sign", "/fd", "SHA256", "/td", "SHA256"]
    command += ["/tr", env.get("TIMESTAMP_URL", DEFAULT_TIMESTAMP_URL)]
    if pfx:
        command += ["/f", pfx]
        if env.get("WINDOWS_CERTIFICATE_PASSWORD"):
            command += ["/p", env["WINDOWS_CERTIFICATE_PASSWORD"]]
    else:
        command += ["/sha1", str(sha1)]
    for file in files:
        run([*command, str(file)])
    return SignResult("windows", tuple(str(f) for f in files))


def macho_files(app: Path) -> list[Path]:
    """The libraries and programs inside `app`, deepest first (codesign signs inside out)."""
    found = [
        p
        for p in app.rglob("*")
        if p.is_file()
        and not p.is_symlink()
        and (p.suffix in _MACHO_SUFFIXES or (p.parent.name == "MacOS" and os.access(p, os.X_OK)))
    ]
    return sorted(found, key=lambda p: (-len(p.parts), str(p)))


def sign_macos(app: Path, env: Mapping[str, str] = os.environ, run: Runner = _run) -> SignResult:
    identity = env.get("MACOS_SIGN_IDENTITY")
    if not identity:
        return SignResult("macos", skipped="no identity: set MACOS_SIGN_IDENTITY")
    codesign = _tool("codesign", env)
    # Hardened runtime (--options runtime) and a secure timestamp: both needed to notarise.
    base = [codesign, "--force", "--timestamp", "--options", "runtime", "--sign", identity]
    files = macho_files(app)
    for file in files:
        run([*base, "--entitlements", str(ENTITLEMENTS), str(file)])
    run([*base, "--entitlements", str(ENTITLEMENTS), str(app)])
    run([codesign, "--verify", "--deep", "--strict", "--verbose=2", str(app)])
    return SignResult("macos", (*(str(f) for f in files), str(app)))


def notarize_macos(
    target: Path, env: Mapping[str, str] = os.environ, run: Runner = _run
) -> SignResult:
    profile = env.get("MACOS_NOTARY_PROFILE")
    apple_id = env.get("MACOS_NOTARY_APPLE_ID")
    if not env.get("MACOS_SIGN_IDENTITY") or not (profile or apple_id):
        return SignResult(
            "notarize",
            skipped="set MACOS_SIGN_IDENTITY and MACOS_NOTARY_PROFILE (or MACOS_NOTARY_APPLE_ID)",
        )
    xcrun = _tool("xcrun", env)
    command = [xcrun, "notarytool", "submit", str(target), "--wait"]
    if profile:
        command += ["--keychain-profile", profile]
    else:
        team, password = env.get("MACOS_NOTARY_TEAM_ID"), env.get("MACOS_NOTARY_PASSWORD")
        if not team or not password:
            raise SigningError("MACOS_NOTARY_TEAM_ID and MACOS_NOTARY_PASSWORD are needed too")
        command += ["--apple-id", str(apple_id), "--team-id", team, "--password", password]
    run(command)
    run([xcrun, "stapler", "staple", str(target)])
    return SignResult("notarize", (str(target),))


def main(argv: Sequence[str]) -> int:
    if len(argv) < 2 or argv[0] not in ("windows", "macos", "notarize"):
        print(__doc__, file=sys.stderr)
        return 2
    step, paths = argv[0], [Path(p) for p in argv[1:]]
    try:
        if step == "windows":
            result = sign_windows(paths)
        elif step == "macos":
            result = sign_macos(paths[0])
        else:
            result = notarize_macos(paths[0])
    except SigningError as exc:
        print(f"sign {step}: {exc}", file=sys.stderr)
        return 1
    print(result.line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
