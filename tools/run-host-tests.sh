#!/bin/sh
# tools/run-host-tests.sh TEST... - run host test programs; each prints its
# own summary.  Ends with one `host: N passed, M failed` line (N, M programs).
set -u
pass=0; fail=0
for t in "$@"; do
	if "$t"; then
		pass=$((pass + 1))
	else
		echo "FAIL: $t (exit $?)"
		fail=$((fail + 1))
	fi
done
echo "host: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
