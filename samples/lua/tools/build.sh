#!/bin/sh
# Builds module $MODULE from source directory $1 into $2/$MODULE.
set -eu
mkdir -p "$2/$MODULE"
{ echo '#!/bin/sh'; cat "$1/main.sh"; } > "$2/$MODULE/run"
chmod 0755 "$2/$MODULE/run"
cp "$1/VERSION" "$2/$MODULE/VERSION"
# The cache mount outlives the build: it counts this module's builds.
n=$(cat "/root/.cache/modules/$MODULE" 2>/dev/null || echo 0)
echo $((n + 1)) > "/root/.cache/modules/$MODULE"
