#!/usr/bin/env bash
# Copy the pinned front-end packages from npm into homefirst/static/vendor.
# Hospital networks block CDNs, so the built files are committed and served by the app itself.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
vendor="$root/homefirst/static/vendor"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

version() { python3 -c "import json,sys; print(json.load(open('$root/package.json'))['dependencies'][sys.argv[1]])" "$1"; }

cd "$work"
npm pack --silent "nhsuk-frontend@$(version nhsuk-frontend)" "htmx.org@$(version htmx.org)" >/dev/null
mkdir nhsuk htmx
tar xzf nhsuk-frontend-*.tgz -C nhsuk
tar xzf htmx.org-*.tgz -C htmx

rm -rf "$vendor" && mkdir -p "$vendor/nhsuk-frontend/assets" "$vendor/htmx"
dist=nhsuk/package/dist/nhsuk
# Source maps are not vendored, so drop the comments that point at them (collectstatic's
# manifest storage refuses references to missing files).
sed -E 's|//# sourceMappingURL=.*$||' "$dist/nhsuk-frontend.min.js" > "$vendor/nhsuk-frontend/nhsuk-frontend.min.js"
cp -r "$dist/assets/images" "$vendor/nhsuk-frontend/assets/"
cp nhsuk/package/LICENSE* "$vendor/nhsuk-frontend/" 2>/dev/null || true
# Point image URLs at the vendored copies and drop the web fonts served from a CDN:
# the design system falls back to Arial, which is what a locked-down ward PC shows anyway.
python3 - "$dist/nhsuk-frontend.min.css" "$vendor/nhsuk-frontend/nhsuk-frontend.min.css" <<'PY'
import re, sys
css = open(sys.argv[1], encoding="utf-8").read()
css = re.sub(r"@font-face\{[^}]*assets\.nhs\.uk[^}]*\}", "", css)
css = css.replace("url(/assets/", "url(assets/")
css = re.sub(r"/\*# sourceMappingURL=[^*]*\*/", "", css)
open(sys.argv[2], "w", encoding="utf-8").write(css)
PY
sed -E 's|//# sourceMappingURL=.*$||' htmx/package/dist/htmx.min.js > "$vendor/htmx/htmx.min.js"
cp htmx/package/LICENSE "$vendor/htmx/" 2>/dev/null || true
# Chart.js for the flow dashboards: the UMD build, which a module imports for its global.
npm pack --silent "chart.js@$(version chart.js)" >/dev/null
mkdir chartjs && tar xzf chart.js-*.tgz -C chartjs
mkdir -p "$vendor/chartjs"
sed -E 's|//# sourceMappingURL=.*$||' chartjs/package/dist/chart.umd.min.js > "$vendor/chartjs/chart.umd.min.js"
cp chartjs/package/LICENSE.md "$vendor/chartjs/" 2>/dev/null || true
echo "Vendored into $vendor"
