#!/bin/bash
# The reference figure for the no-op benchmark: BuildKit (the builder in
# Debian's dockerd, via the Engine API with version=2) rebuilding a cached
# 6-step Dockerfile on the busybox base. Prints the median of N rebuilds.
# Needs a running dockerd (see ../shared/reference/buildkit-reference.sh for
# how the reference starts one). Usage: buildkit_noop.sh [N]
set -euo pipefail
n=${1:-7}
sock=/var/run/docker.sock
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$(dirname "$0")/../samples/llb/mkrootfs.sh" "$dir/busybox.tar"
docker import "$dir/busybox.tar" kiln-bench-busybox >/dev/null
mkdir "$dir/ctx"
cat > "$dir/ctx/Dockerfile" <<'DOCKERFILE'
FROM kiln-bench-busybox
RUN echo one > /one
RUN echo two > /two
COPY Dockerfile /df
WORKDIR /work
RUN echo three > three
ENV MODE=bench
DOCKERFILE
tar -C "$dir/ctx" -cf "$dir/ctx.tar" .
build() {
  curl -s --unix-socket $sock -X POST "http://localhost/v1.41/build?version=2&t=kiln-bench-noop" \
    -H "Content-Type: application/x-tar" --data-binary @"$dir/ctx.tar" >/dev/null
}
build  # cold
times=()
for _ in $(seq "$n"); do
  t0=$(date +%s%N); build; t1=$(date +%s%N)
  times+=($(( (t1 - t0) / 1000000 )))
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
echo "BuildKit no-op rebuild of a 6-step Dockerfile: median $(echo "$sorted" | sed -n "$(( (n + 1) / 2 ))p") ms (runs: ${times[*]})"
