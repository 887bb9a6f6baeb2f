#!/usr/bin/env bash
# Installs what the PDF reports need when it is missing: Pango (WeasyPrint draws text with it)
# and poppler-utils (pdftotext, pdftoppm: the tests read PDFs with them). Debian packages.
set -euo pipefail
if command -v pdftotext >/dev/null 2>&1 && ldconfig -p | grep -q libpangoft2-1.0; then
  exit 0
fi
echo "== installing Pango (WeasyPrint's PDF reports) and poppler-utils (pdftotext)"
if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
if ! $SUDO apt-get update -qq || ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
    libpango-1.0-0 libpangoft2-1.0-0 poppler-utils >/dev/null; then
  echo "Could not install libpango-1.0-0 libpangoft2-1.0-0 poppler-utils: PDF reports" \
       "will not work until they are installed." >&2
  exit 1
fi
