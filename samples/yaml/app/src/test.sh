# The wordcount tests: $1 is the tool.
set -e
printf 'one two\nthree\n' > /scratch/in
got=$("$1" /scratch/in)
want="/scratch/in: 2 lines, 3 words, 14 bytes"
[ "$got" = "$want" ] || { echo "got: $got"; echo "want: $want"; exit 1; }
echo "wordcount: all tests pass"
