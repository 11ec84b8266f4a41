#!/bin/sh
# Make a compressed .dmg holding Factor Desktop.app and a link to /Applications.
#
#   sh packaging/macos/make_dmg.sh "dist/Factor Desktop.app" dist/FactorDesktop-<version>-macos-arm64.dmg
#
# build_installer.py runs it on macOS after signing the .app (packaging/sign.py macos), and
# notarises and staples the .dmg afterwards (packaging/sign.py notarize). Needs hdiutil (macOS).
set -eu
app="$1"
dmg="$2"
if ! command -v hdiutil >/dev/null 2>&1; then
  echo "hdiutil is not available (it comes with macOS): no .dmg" >&2
  exit 1
fi
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
cp -R "$app" "$stage/"
ln -s /Applications "$stage/Applications"
rm -f "$dmg"
hdiutil create -volname "Factor Desktop" -srcfolder "$stage" -fs HFS+ -format UDZO \
  -imagekey zlib-level=9 -ov "$dmg"
if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
  codesign --force --timestamp --sign "$MACOS_SIGN_IDENTITY" "$dmg"
fi
echo "$dmg"
