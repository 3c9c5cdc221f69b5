#!/usr/bin/env bash
# start.sh STATE_DIR PORT REDIRECT_URI POST_LOGOUT_URI CLIENT_ID CLIENT_SECRET
#
# LemonLDAP::NG 2.16 (Debian's packages) as an upstream OpenID provider on
# http://localhost:PORT (nginx on 127.0.0.1:PORT only, in front of the FastCGI portal),
# with one relying party (rp1: CLIENT_ID/CLIENT_SECRET, PKCE required, consent
# bypassed) and the Demo users given a national ID number, birthdate and gender
# (national-id.json, released under the national_id scope). Installs nothing: .ci/run
# installs the packages. stop.sh STATE_DIR stops what this started (pid files).
# Must run as root: LemonLDAP's configuration lives in /var/lib/lemonldap-ng/conf.
set -euo pipefail
[ $# -eq 6 ] || { echo "usage: $0 STATE_DIR PORT REDIRECT_URI POST_LOGOUT_URI CLIENT_ID CLIENT_SECRET" >&2; exit 2; }
STATE="$1"; PORT="$2"; REDIRECT_URI="$3"; POST_LOGOUT_URI="$4"; CLIENT_ID="$5"; CLIENT_SECRET="$6"
HOST=localhost
HERE="$(cd "$(dirname "$0")" && pwd)"
CONFDIR=/var/lib/lemonldap-ng/conf
CLI=/usr/share/lemonldap-ng/bin/lemonldap-ng-cli
ROTATE=/usr/share/lemonldap-ng/bin/rotateOidcKeys
[ "$(id -u)" = 0 ] || { echo "start.sh: must run as root" >&2; exit 1; }
for f in "$CLI" "$ROTATE" /usr/sbin/llng-fastcgi-server; do [ -x "$f" ] || { echo "$f missing (apt-get install lemonldap-ng lemonldap-ng-fastcgi-server)" >&2; exit 1; }; done
for c in nginx jq curl setpriv; do command -v "$c" >/dev/null || { echo "$c not found" >&2; exit 1; }; done
mkdir -p "$STATE/run" "$STATE/nginx-tmp"
step() { echo "[lemonldap $(date +%T.%N | cut -c1-12)] $*"; }
# the CLI switches to www-data and reads the merge file from here
chmod 755 "$STATE"
chown www-data:www-data "$STATE/run"

step "merging the configuration"
# ---- configuration (merged into LemonLDAP's one configuration; a new lmConf-N.json each run)
latest_conf() { ls "$CONFDIR"/lmConf-*.json | sed 's/.*lmConf-\([0-9]*\)\.json/\1/' | sort -n | tail -1; }
if [ "$(jq -r '.oidcServicePrivateKeySig // empty' "$CONFDIR/lmConf-$(latest_conf).json")" = "" ]; then
  "$ROTATE" >/dev/null
fi
# rotateOidcKeys (as root) writes root-only files; the CLI and the portal read them as www-data
chown www-data:www-data "$CONFDIR"/lmConf-*.json; chmod 640 "$CONFDIR"/lmConf-*.json
BASE="http://$HOST:$PORT"
MERGE="$STATE/llng-merge.json"
jq -n --arg portal "$BASE/" --arg iss "$BASE" --arg cid "$CLIENT_ID" --arg sec "$CLIENT_SECRET" \
      --arg ruri "$REDIRECT_URI" --arg pluri "$POST_LOGOUT_URI" --arg domain "$HOST" '{
  portal: $portal, domain: $domain, securedCookie: 0, https: 0,
  # For prompt=login LemonLDAP re-authenticates only when its login is older than this
  # (default 5 s, and within it answers from the old session). A day makes it the
  # source that ignores prompt=login, so the tests see nixa refuse the stale auth_time.
  portalForceAuthnInterval: 86400,
  issuerDBOpenIDConnectActivation: 1, issuerDBOpenIDConnectPath: "^/oauth2/",
  oidcServiceMetaDataIssuer: $iss, oidcServiceAllowAuthorizationCodeFlow: 1,
  oidcRPMetaDataOptions: { rp1: {
    oidcRPMetaDataOptionsClientID: $cid, oidcRPMetaDataOptionsClientSecret: $sec,
    oidcRPMetaDataOptionsRedirectUris: $ruri, oidcRPMetaDataOptionsPostLogoutRedirectUris: $pluri,
    oidcRPMetaDataOptionsPublic: 0,
    # 2.16 checks code_verifier only when RequirePKCE is set
    oidcRPMetaDataOptionsRequirePKCE: 1,
    oidcRPMetaDataOptionsBypassConsent: 1, oidcRPMetaDataOptionsIDTokenSignAlg: "RS256",
    oidcRPMetaDataOptionsIDTokenForceClaims: 0, oidcRPMetaDataOptionsUserIDAttr: "uid",
    oidcRPMetaDataOptionsDisplayName: "nixa"
  } },
  oidcRPMetaDataExportedVars: { rp1: { email: "mail", preferred_username: "uid" } }
}' > "$MERGE"
jq -s '.[0] * .[1]' "$MERGE" "$HERE/national-id.json" > "$MERGE.tmp" && mv "$MERGE.tmp" "$MERGE"
chown www-data "$MERGE"; chmod 600 "$MERGE"
# The CLI complains it cannot reach the default reload URL (localhost:80): harmless.
"$CLI" -yes 1 merge "$MERGE" > "$STATE/cli.log" 2>&1 || { cat "$STATE/cli.log" >&2; exit 1; }
chown www-data:www-data "$CONFDIR"/lmConf-*.json; chmod 640 "$CONFDIR"/lmConf-*.json

step "starting the FastCGI portal"
# ---- FastCGI portal, as www-data, in the foreground of its own session ($! is the manager)
rm -f "$STATE/run/llng.sock"
( cd / && exec setsid setpriv --reuid=www-data --regid=www-data --init-groups \
    env LLNG_DEFAULTLOGGER=Lemonldap::NG::Common::Logger::Std \
    /usr/sbin/llng-fastcgi-server --foreground -n 2 -s "$STATE/run/llng.sock" -p "$STATE/run/llng-fastcgi.pid" \
  ) > "$STATE/llng-fastcgi.log" 2>&1 < /dev/null &
echo $! > "$STATE/llng-fastcgi.pid"
for _ in $(seq 1 100); do [ -S "$STATE/run/llng.sock" ] && break; sleep 0.1; done
[ -S "$STATE/run/llng.sock" ] || { echo "FastCGI socket did not appear:" >&2; tail -20 "$STATE/llng-fastcgi.log" >&2; exit 1; }

step "starting nginx"
# ---- nginx, own config and pid file (not /etc/nginx/nginx.conf)
cat > "$STATE/nginx.conf" <<NGINX
user www-data;
worker_processes 1;
pid $STATE/nginx.pid;
error_log $STATE/nginx-error.log warn;
events { worker_connections 256; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log off;
  client_body_temp_path $STATE/nginx-tmp/body;
  fastcgi_temp_path $STATE/nginx-tmp/fastcgi;
  proxy_temp_path $STATE/nginx-tmp/proxy;
  uwsgi_temp_path $STATE/nginx-tmp/uwsgi;
  scgi_temp_path $STATE/nginx-tmp/scgi;
  # No upstream keepalive: each Perl FCGI worker serves one connection at a time, so
  # an idle kept connection would pin a worker and stall requests.
  upstream llng_portal { server unix:$STATE/run/llng.sock; }
  server {
    listen 127.0.0.1:$PORT default_server;
    server_name $HOST;
    root /usr/share/lemonldap-ng/portal/htdocs/;
    if (\$uri !~ ^/((static|javascript|favicon).*|.*\.psgi)) { rewrite ^/(.*)\$ /index.psgi/\$1 break; }
    location ~ ^(?<sc>/.*\.psgi)(?:\$|/) {
      include /etc/nginx/fastcgi_params;
      fastcgi_pass llng_portal;
      # keep the port in Host (Debian's vhost passes \$host, which drops it)
      fastcgi_param HTTP_HOST \$http_host;
      fastcgi_param LLTYPE psgi;
      fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
      fastcgi_split_path_info ^(.*\.psgi)(/.*)\$;
      fastcgi_param PATH_INFO \$fastcgi_path_info;
      location ~ ^/index.psgi/(adminSessions|proxy|sessions|config|notification) { deny all; }
    }
    location /static/ { alias /usr/share/lemonldap-ng/portal/htdocs/static/; }
    location /javascript/ { alias /usr/share/javascript/; }
  }
}
NGINX
# nginx keeps its stderr after daemonizing: not the caller's pipe, or the caller waits for ever
nginx -c "$STATE/nginx.conf" < /dev/null > /dev/null 2>> "$STATE/nginx-error.log"
for _ in $(seq 1 50); do [ -s "$STATE/nginx.pid" ] && break; sleep 0.1; done
[ -s "$STATE/nginx.pid" ] || { echo "nginx did not start:" >&2; cat "$STATE/nginx-error.log" >&2; exit 1; }

step "waiting for discovery"
# The portal's first answer compiles its configuration: slow on a busy machine, and a
# client giving up early would only queue more work for the two workers. Wait long
# for an answer, retry quickly while nginx refuses; 45 s in all.
deadline=$((SECONDS + 45))
while [ "$SECONDS" -lt "$deadline" ]; do
  curl -sS -f --max-time 30 "$BASE/.well-known/openid-configuration" > "$STATE/discovery.json" 2>> "$STATE/curl.log" && break
  sleep 0.25
done
if [ ! -s "$STATE/discovery.json" ]; then
  echo "discovery not reachable at $BASE:" >&2
  tail -5 "$STATE/curl.log" >&2; tail -20 "$STATE/llng-fastcgi.log" "$STATE/nginx-error.log" >&2
  exit 1
fi
echo "lemonldap issuer $(jq -r .issuer "$STATE/discovery.json"), fastcgi $(cat "$STATE/llng-fastcgi.pid"), nginx $(cat "$STATE/nginx.pid")"
