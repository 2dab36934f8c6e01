"""The DuckDB spatial extension peer for benchmarks/crime_match.py, run in its own interpreter (the
`duckdb-extension-spatial` wheel pins its own DuckDB, older than the project's):

    PY -m pip install duckdb==1.5.5 duckdb-extension-spatial==1.5.5 pyarrow
    PY benchmarks/crime_spatial_peer.py LAKE CRIMES.parquet RADIUS MAX_ACCURACY

Prints one JSON line: seconds, crime-wearer matches, DuckDB version. The question is the matcher's "near" step
(no gap analysis, no passes): `ST_DWithin_Spheroid` on radius + accuracy cap and the window, then the exact
`ST_Distance_Sphere <= radius + accuracy`; both take points in [latitude, longitude] axis order.
"""

import glob
import json
import os
import sys
import time

import duckdb
import duckdb_extension_spatial

lake, crimes_file, radius, max_acc = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
ext = glob.glob(
    os.path.dirname(duckdb_extension_spatial.__file__) + "/extensions/*/spatial.duckdb_extension"
)[0]
con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
con.execute(f"LOAD '{ext}'")
con.execute(
    f"CREATE TEMP TABLE cr AS SELECT key, clat, clon, t0, t1, ST_Point(clat, clon) AS g_latlon "
    f"FROM read_parquet('{crimes_file}')"
)
t = time.perf_counter()
n = con.execute(
    f"""SELECT count(DISTINCT (c.key, p.device_id)) FROM read_parquet('{lake}/date=*/*.parquet') p JOIN cr c
    ON ST_DWithin_Spheroid(ST_Point(p.lat, p.lon), c.g_latlon, {radius} + {max_acc})
    AND p.device_time BETWEEN c.t0 AND c.t1
    WHERE p.accuracy_m <= {max_acc} AND ST_Distance_Sphere(ST_Point(p.lat, p.lon), c.g_latlon) <= {radius} + p.accuracy_m"""
).fetchall()[0][0]
print(json.dumps({"s": time.perf_counter() - t, "matches": int(n), "duckdb": duckdb.__version__}))
