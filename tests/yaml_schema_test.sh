#!/bin/bash
# `kiln debug yaml-schema` against the specs: the sample and every spec in
# frontends/yaml/testdata/good validate, every spec in testdata/bad does
# not. Uses Debian's python3-jsonschema and python3-yaml.
set -euo pipefail
kiln=$1
schema=$TEST_TMPDIR/schema.json
"$kiln" debug yaml-schema > "$schema"
/usr/bin/python3 - "$schema" samples/yaml/kiln.yaml frontends/yaml/testdata/good/*.yaml \
    -- frontends/yaml/testdata/bad/*.yaml <<'PY'
import json, sys
import jsonschema, yaml
schema = json.load(open(sys.argv[1]))
jsonschema.Draft7Validator.check_schema(schema)
v = jsonschema.Draft7Validator(schema)
args = sys.argv[2:]
split = args.index("--")
good, bad = args[:split], args[split + 1:]
assert good and bad, "no specs found"
failed = 0
for path in good:
    errors = list(v.iter_errors(yaml.safe_load(open(path))))
    if errors:
        failed += 1
        print(f"FAIL {path}: the schema rejects a good spec: {errors[0].message}")
    else:
        print(f"ok   {path}: valid")
for path in bad:
    if v.is_valid(yaml.safe_load(open(path))):
        failed += 1
        print(f"FAIL {path}: the schema accepts a bad spec")
    else:
        print(f"ok   {path}: rejected")
print(f"{len(good)} good, {len(bad)} bad, {failed} failed")
sys.exit(1 if failed else 0)
PY
