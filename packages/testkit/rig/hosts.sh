#!/usr/bin/env bash
# quire's multi-host test rig: a replicated network filesystem served by 3 "server hosts" and mounted by N
# "client hosts", each host a network namespace of its own, all joined by a bridge that lives in a private "switch"
# namespace: a GlusterFS replica-3 volume. Nothing touches the root network namespace; every name is unique per run, so two runs (two CI jobs)
# can share one machine.
#
#   hosts.sh up DIR PROFILE [CLIENTS]   bring the rig up; all state lives in DIR (a fresh per-run directory)
#                                         PROFILE: strict (client caches and performance translators off) or
#                                         default (GlusterFS's defaults); CLIENTS: host names (default "a b c")
#   hosts.sh down DIR                   tear everything down; safe to run any number of times, and after a
#                                         failed or half-finished `up`
#   hosts.sh run DIR HOST CMD...        run CMD on client HOST: its network namespace, its own UTS (host name),
#                                         mount (private /etc/machine-id), PID namespaces and TMPDIR. Killing the
#                                         process this starts kills CMD (unshare --kill-child).
#   hosts.sh brick-kill DIR N           SIGKILL the brick process of server N (1-3)
#   hosts.sh brick-start DIR            restart dead bricks (`volume start … force`)
#   hosts.sh heal-wait DIR [TRIES]      start self-heal and wait (TRIES x 0.5 s) until nothing is left to heal
#   hosts.sh gl DIR N ARGS...           the gluster CLI on server N
#
# After `up`, DIR/rig.env names the mount of each client (MNT_<host>) and its address (IP_<host>).
# Needs root, /dev/fuse, iproute2, util-linux, glusterfs-server and glusterfs-client. Lessons this script encodes
# are in docs/several-hosts.md ("The test rig").
set -euo pipefail

die() { echo "hosts.sh: $*" >&2; exit 1; }
cmd=${1:-}; R=${2:-}
[ -n "$cmd" ] && [ -n "$R" ] || die "usage: hosts.sh up|down|run|brick-kill|brick-start|heal-wait|gl DIR ..."
R=$(realpath -m "$R")
NET=10.213.0   # exists only inside this run's namespaces, so every run may use the same subnet
VOL=qv

ns() { ip netns exec "$@"; }
srvpid() { cat "$R/hosts/s$1/run/glusterd.pid"; }
gl() { local n=$1; shift; nsenter -t "$(srvpid "$n")" -n -m gluster --mode=script "$@"; }
load() { [ -f "$R/rig.env" ] || die "$R/rig.env missing: not up"; . "$R/rig.env"; }
wait_for() { # tries (0.1 s each), then the test as a command
  local n=$1; shift
  for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}

up() {
  local profile=${3:-}; local clients=${4:-"a b c"}
  case "$profile" in strict | default) ;; *) die "profile must be strict or default" ;; esac
  command -v glusterd >/dev/null || die "needs glusterfs-server and glusterfs-client"
  [ ! -e "$R/rig.env" ] || die "$R is already up"
  mkdir -p "$R/hosts" "$R/mnt" "$R/logs"
  # A 6-hex-digit suffix makes the (machine-global) namespace names unique per run; names inside a namespace
  # (bridge, veth) are private to it. The longest name, q<6>-sw, is far below Linux's 15-character limit.
  local id; id=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
  P="q$id"
  {
    echo "P=$P"; echo "PROFILE=$profile"; echo "CLIENTS=\"$clients\""
  } >"$R/rig.env"
  # Server state and bricks on a tmpfs: fast, and teardown is one umount (rm -rf of .glusterfs is slow).
  mount -t tmpfs -o size=1g "quire-rig-$P" "$R/hosts"
  ip netns add "$P-sw"
  ns "$P-sw" ip link add br0 type bridge
  ns "$P-sw" ip link set br0 up
  addhost() { # netns address
    ip netns add "$1"
    ip -n "$P-sw" link add "v-${1#"$P"-}" type veth peer name eth0 netns "$1"
    ip -n "$P-sw" link set "v-${1#"$P"-}" master br0 up
    ip -n "$1" addr add "$2/24" dev eth0
    ip -n "$1" link set eth0 up
    ip -n "$1" link set lo up
  }
  local i k=101 c
  for i in 1 2 3; do addhost "$P-s$i" "$NET.$i"; done
  for c in $clients; do
    addhost "$P-c$c" "$NET.$k"
    echo "IP_$c=$NET.$k" >>"$R/rig.env"; k=$((k + 1))
    mkdir -p "$R/mnt/$c" "$R/local/$c/tmp"
    # Each client host its own machine id: what tells hosts apart on real machines.
    od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$R/local/$c/machine-id"
    echo >>"$R/local/$c/machine-id"
    echo "MNT_$c=$R/mnt/$c" >>"$R/rig.env"
  done
  gluster_up "$profile" "$clients"
  for c in $clients; do wait_for 300 stat -f "$R/mnt/$c/." || die "mount of $c did not come up"; done
  echo "UP=1" >>"$R/rig.env"
}

gluster_up() { # PROFILE CLIENTS
  local profile=$1 clients=$2 i c
  # One glusterd per server, in its own network namespace and a mount namespace with private /run,
  # /var/lib/glusterd and /var/log/glusterfs (glusterd keeps its identity and peers there). Started in
  # parallel: each takes ~2.5 s to initialise.
  for i in 1 2 3; do
    local D=$R/hosts/s$i
    mkdir -p "$D/lib" "$D/log" "$D/run" "$D/bricks/b"
    cp -a /var/lib/glusterd/. "$D/lib/" 2>/dev/null || true
    rm -f "$D/lib/glusterd.info"
    ns "$P-s$i" unshare -m --propagation private sh -c "
      mount --bind '$D/run' /run && mkdir -p /run/gluster &&
      mount --bind '$D/lib' /var/lib/glusterd &&
      mount --bind '$D/log' /var/log/glusterfs &&
      exec glusterd -p /run/glusterd.pid" &
  done
  wait
  for i in 1 2 3; do wait_for 150 gl "$i" peer status || die "glusterd $i did not start"; done
  for i in 2 3; do gl 1 peer probe "$NET.$i" >/dev/null; done
  peers_in() { for i in 1 2 3; do [ "$(gl "$i" peer status | grep -c 'Peer in Cluster (Connected)')" -ge 2 ] || return 1; done; }
  wait_for 300 peers_in || die "peers did not connect"
  # `force`: bricks on the root filesystem (a tmpfs here) are refused otherwise.
  gl 1 volume create "$VOL" replica 3 "$NET.1:$R/hosts/s1/bricks/b" "$NET.2:$R/hosts/s2/bricks/b" \
    "$NET.3:$R/hosts/s3/bricks/b" force >/dev/null
  # Both profiles: a vanished server is noticed in ~5 s instead of 42 (network.ping-timeout); a vanished
  # client's locks go in ~4 s instead of ~41 (server.tcp-user-timeout + keepalive); no 1 s AFR post-op delay
  # when two clients write one file (cluster.post-op-delay-secs). See docs/several-hosts.md.
  local kv="network.ping-timeout 5 server.tcp-user-timeout 5 server.keepalive-time 2 server.keepalive-interval 1"
  kv="$kv server.keepalive-count 3 cluster.post-op-delay-secs 0"
  if [ "$profile" = strict ]; then
    local o
    for o in stat-prefetch quick-read io-cache read-ahead readdir-ahead open-behind write-behind; do
      kv="$kv performance.$o off"
    done
  fi
  gl 1 volume set "$VOL" $kv >/dev/null # one call for all pairs: each call costs ~0.7 s
  gl 1 volume start "$VOL" >/dev/null
  bricks_up() { [ "$(gl 1 volume status "$VOL" detail | grep -c 'Online.*: Y')" -ge 3 ]; }
  wait_for 300 bricks_up || die "bricks did not come up"
  # The glusterfs binary rather than mount.glusterfs: the latter mangles fopen-keep-cache=off.
  local copts=""
  [ "$profile" = strict ] && copts="--fopen-keep-cache=off --attribute-timeout=0 --entry-timeout=0 --negative-timeout=0"
  for c in $clients; do
    # shellcheck disable=SC2086
    nsenter --net="/run/netns/$P-c$c" glusterfs --process-name fuse --volfile-server="$NET.1" \
      --volfile-server="$NET.2" --volfile-server="$NET.3" --volfile-id="$VOL" \
      --log-file="$R/logs/client-$c.log" $copts "$R/mnt/$c"
  done
}

down() {
  [ -f "$R/rig.env" ] || { rm -rf "$R"; return 0; }
  . "$R/rig.env"
  local m n pids
  for m in "$R"/mnt/*; do
    mountpoint -q "$m" 2>/dev/null && { umount "$m" 2>/dev/null || umount -l "$m"; }
  done
  # Only processes inside this run's namespaces: glusterd, bricks, self-heal daemons, FUSE clients, servers.
  for sig in TERM KILL; do
    for n in $(ip netns list | awk -v p="$P-" 'index($1, p) == 1 {print $1}'); do
      pids=$(ip netns pids "$n" 2>/dev/null || true)
      [ -z "$pids" ] || kill -s "$sig" $pids 2>/dev/null || true
    done
    [ "$sig" = TERM ] && sleep 1
  done
  for n in $(ip netns list | awk -v p="$P-" 'index($1, p) == 1 {print $1}'); do
    for _ in $(seq 50); do [ -z "$(ip netns pids "$n" 2>/dev/null)" ] && break; sleep 0.1; done
    ip netns del "$n" 2>/dev/null || true
  done
  mountpoint -q "$R/hosts" && { umount "$R/hosts" 2>/dev/null || umount -l "$R/hosts"; }
  rm -rf "$R"
}

run() { # HOST CMD...
  load
  local h=$3; shift 3
  local L=$R/local/$h
  [ -d "$L" ] || die "no client host $h"
  # A fresh UTS, mount and PID namespace: the host's own name, machine id, temp dir and process ids, as on a
  # machine of its own. --kill-child: SIGKILL of this process takes the command with it.
  exec ip netns exec "$P-c$h" unshare --uts --mount --propagation slave --pid --fork --kill-child \
    sh -c 'hostname "$0" && mount --bind "$1/machine-id" /etc/machine-id && TMPDIR="$1/tmp" &&
      export TMPDIR && shift && exec "$@"' "quire-$h" "$L" "$@"
}

brick_pid() { # N: the glusterfsd of server N (the only one in its namespace)
  local p
  for p in $(ip netns pids "$P-s$1"); do
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = glusterfsd ] && { echo "$p"; return 0; }
  done
  return 1
}

case "$cmd" in
  # A failed `up` (any error, in any function, or die) leaves nothing behind.
  up) trap 'rc=$?; [ "$rc" = 0 ] || down' EXIT; up "$@" ;;
  down) down ;;
  run) run "$@" ;;
  brick-kill) load; kill -9 "$(brick_pid "$3")" ;;
  brick-start) load; gl 1 volume start "$VOL" force >/dev/null ;;
  heal-wait)
    load
    # The self-heal daemon looks only every 10 minutes by itself (cluster.heal-timeout): ask it now, and again
    # every few seconds while entries remain.
    healed() { gl 1 volume heal "$VOL" info | awk '/^Number of entries:/ { n += $4 } END { exit n != 0 }'; }
    for k in $(seq "${3:-120}"); do
      healed && exit 0
      [ $((k % 10)) = 1 ] && gl 1 volume heal "$VOL" >/dev/null 2>&1 || true
      sleep 0.5
    done
    die "self-heal did not finish"
    ;;
  gl) load; shift 2; gl "$@" ;;
  *) die "unknown command $cmd" ;;
esac
