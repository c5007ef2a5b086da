#!/usr/bin/env bash
# Install the Debian/Ubuntu packages caredesk needs, only those missing.
# Usage: scripts/system-deps.sh [run|test]
set -euo pipefail

# WeasyPrint renders statement and report PDFs with Pango and HarfBuzz.
want=(python3-venv libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)
if [ "${1:-run}" = test ]; then
    # The browser tests drive Debian's Chromium; pdftoppm turns PDFs into images.
    want+=(chromium poppler-utils)
    # The WordPress end-to-end tests run Debian's WordPress under php's own server
    # against the local MariaDB; backups go through restic.
    want+=(wordpress php-cli php-mysql php-zip mariadb-server restic)
fi

missing=()
for package in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$package")
done
# python3-venv is only needed where the interpreter lacks ensurepip.
if python3 -c "import ensurepip, venv" 2>/dev/null; then
    missing=("${missing[@]/python3-venv}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null; then
    echo "caredesk needs these system packages: ${missing[*]} (no apt-get here; install them yourself)" >&2
    exit 1
fi
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "Installing system packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
