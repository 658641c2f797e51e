"""After a permission change, wait (briefly, optionally) until mis-cache-sync applied it to Redis."""
import json, urllib.request

def revoke_and_wait(conn, user_id, menu_id, service="http://127.0.0.1:9477", wait="2s"):
    cur = conn.cursor()
    cur.execute("UPDATE user_auth SET read_yn = 'N' WHERE user_id = %s AND menu_id = %s", (user_id, menu_id))
    conn.commit()
    cur.execute("SELECT @@last_gtid")  # same session, right after the commit (MariaDB)
    gtid = cur.fetchone()[0]
    try:  # never required: on any failure the TTL and the stream still apply the change
        with urllib.request.urlopen(f"{service}/applied?gtid={gtid}&wait={wait}", timeout=5) as r:
            return json.load(r)["applied"]
    except OSError:
        return False
