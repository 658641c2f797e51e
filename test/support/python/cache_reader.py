"""A cache-aside reader written like the MIS application (Python, values stored with pickle).

Usage: cache_reader.py REDIS_URL DB MYSQL_URL
Reads master:brands the way the application does: a cache hit is unpickled; a miss (or a value
that does not unpickle) is built from MySQL and stored with pickle and the master TTL. Prints
one JSON line: {"hit": bool, "decode_error": str|null, "equal": bool, "value": [...]}.
Needs only Debian's python3 + python3-redis; MySQL is read with the mariadb client.
"""
import json
import pickle
import subprocess
import sys
from urllib.parse import urlparse

import redis

SQL = ("SELECT brand_id, brand_name, brand_code FROM brands WHERE use_yn = 'Y' "
       "ORDER BY sort, brand_id")


def from_mysql(url):
    u = urlparse(url)
    out = subprocess.run(
        ["mariadb", "--protocol=tcp", "-h", u.hostname, "-P", str(u.port or 3306),
         "-u", u.username, "-p" + (u.password or ""), "-N", "-B",
         "--default-character-set=utf8mb4", u.path.lstrip("/"), "-e", SQL],
        check=True, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        brand_id, name, code = line.split("\t")
        rows.append({"id": int(brand_id), "name": name, "code": code})
    return rows


def main():
    redis_url, db, mysql_url = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    r = redis.Redis.from_url(redis_url, db=db)
    raw = r.get("master:brands")
    hit, error, value = False, None, None
    if raw is not None:
        try:
            value, hit = pickle.loads(raw), True
        except Exception as e:  # the application falls back to MySQL on a decode error
            error = repr(e)
    truth = from_mysql(mysql_url)
    if not hit:
        value = truth
        r.set("master:brands", pickle.dumps(truth), ex=21600)
    print(json.dumps({"hit": hit, "decode_error": error, "equal": value == truth,
                      "value": value, "mysql": truth}, ensure_ascii=False))


main()
