# Prints the lines, words and bytes of each file given.
for f in "$@"; do
  set -- $(wc -l -w -c < "$f")
  echo "$f: $1 lines, $2 words, $3 bytes"
done
