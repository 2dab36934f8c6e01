#!/usr/bin/env bash
# Install the front-end assets from npm and copy the built files the pages use into web/static/vendor.
# Nothing is downloaded at run time (the server has no internet), and nothing built is committed.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules/govuk-frontend ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
V=src/openem/web/static/vendor
rm -rf "$V" && mkdir -p "$V/govuk/assets" "$V/moj" "$V/leaflet" "$V/axe" "$V/autocomplete" "$V/swagger-ui" "$V/pmtiles" "$V/protomaps-leaflet"
cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.css node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js "$V/govuk/"
cp -r node_modules/govuk-frontend/dist/govuk/assets/images "$V/govuk/assets/"   # no fonts: GDS Transport is reserved for GOV.UK
cp node_modules/@ministryofjustice/frontend/moj/moj-frontend.min.css node_modules/@ministryofjustice/frontend/moj/moj-frontend.min.js "$V/moj/"
cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css "$V/leaflet/"
cp -r node_modules/leaflet/dist/images "$V/leaflet/"
cp node_modules/axe-core/axe.min.js "$V/axe/"
cp node_modules/accessible-autocomplete/dist/accessible-autocomplete.min.js node_modules/accessible-autocomplete/dist/accessible-autocomplete.min.css "$V/autocomplete/"
# /api/docs: Swagger UI served from here, under the same content-security policy as every page
cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css "$V/swagger-ui/"
# a local base map (OPENEM_BASEMAP_PMTILES): the PMTiles reader and the vector renderer for Leaflet
cp node_modules/pmtiles/dist/pmtiles.js "$V/pmtiles/"
cp node_modules/protomaps-leaflet/dist/protomaps-leaflet.js "$V/protomaps-leaflet/"
# GDS Transport is reserved for GOV.UK: drop its @font-face rules so browsers do not ask for the font files.
python3 - "$V/govuk/govuk-frontend.min.css" <<'PY'
import re, sys
p = sys.argv[1]
css = open(p, encoding="utf-8").read()
open(p, "w", encoding="utf-8").write(re.sub(r"@font-face\{[^}]*\}", "", css))
PY
