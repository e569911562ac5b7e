# Sourced by tests that need a dockerd of their own (docker_load_test,
# interop_test): starts one with its own data root and socket and no
# network setup, beside any other. Sets `work` (a fresh directory, removed
# on exit with the daemon and its mounts), `sock` and `docker` (the CLI
# pointed at it). Where dockerd is not installed or cannot start, it says
# SKIP and why, and exits the test with 0. Usage: start_private_dockerd NAME
start_private_dockerd() {
  if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
    echo "SKIP: dockerd is not installed (Debian's docker.io)"; exit 0
  fi
  work=$(mktemp -d "/tmp/kiln-$1.XXXXXX")  # short: socket paths are limited
  sock=$work/docker.sock
  trap stop_private_dockerd EXIT
  dockerd --data-root "$work/data" --exec-root "$work/exec" --pidfile "$work/pid" \
    -H "unix://$sock" --iptables=false --ip-masq=false --bridge=none \
    --storage-driver=vfs >"$work/dockerd.log" 2>&1 &
  docker=(docker -H "unix://$sock")
  for _ in $(seq 60); do "${docker[@]}" info >/dev/null 2>&1 && break; sleep 0.5; done
  if ! "${docker[@]}" info >/dev/null 2>&1; then
    echo "SKIP: dockerd did not start here:"; tail -5 "$work/dockerd.log"; exit 0
  fi
}

stop_private_dockerd() {
  [ -f "$work/pid" ] && kill "$(cat "$work/pid")" 2>/dev/null || true
  for _ in $(seq 30); do [ -f "$work/pid" ] || break; sleep 0.5; done
  grep "$work" /proc/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$work" 2>/dev/null || true
}
