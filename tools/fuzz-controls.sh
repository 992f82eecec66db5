#!/bin/sh
# tools/fuzz-controls.sh [SECONDS] - shows the fuzzers find the bugs they
# are meant to find.  Each tests/fuzz/controls/<harness>-<name>.patch puts
# an old bug back (e.g. kfree junk-filling a page before checking it); the
# patch is applied to a copy of the tree, <harness> is built from the copy
# and run for at most SECONDS (default 60), from the kept corpus
# (tests/fuzz/corpus/<harness>) as make fuzz would.  A control passes when the
# harness reports a failure in time; the script prints how long it took
# and fails if any bug went unnoticed.
set -eu
secs=${1:-60}
top=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for p in tests/fuzz/controls/*.patch; do
	name=$(basename "$p" .patch)
	harness=${name%%-*}
	tree=$work/$name
	mkdir -p "$tree"
	git ls-files -z | (cd "$top" && xargs -0 cp --parents -t "$tree")
	(cd "$tree" && patch -s -p1 < "$top/$p")
	make -s -C "$tree" BUILD="$tree/build" "$tree/build/fuzz/bin/$harness" > "$work/$name.build" 2>&1 ||
		{ cat "$work/$name.build"; echo "fuzz-control: $name: build failed"; status=1; continue; }
	mkdir -p "$tree/corpus"
	seeds=
	[ -d "tests/fuzz/corpus/$harness" ] && seeds="tests/fuzz/corpus/$harness"
	start=$(date +%s)
	# shellcheck disable=SC2086 # seeds is one path or nothing
	if "$tree/build/fuzz/bin/$harness" -max_total_time="$secs" -max_len=131072 -timeout=10 \
		-artifact_prefix="$work/$name-" "$tree/corpus" $seeds > "$work/$name.log" 2>&1; then
		echo "fuzz-control: $name: NOT FOUND in ${secs}s (the harness misses this bug)"
		status=1
	else
		why=$(grep -m1 -E "^$harness:|ERROR: AddressSanitizer|runtime error|panic:" "$work/$name.log" || true)
		echo "fuzz-control: $name: found in $(( $(date +%s) - start ))s: $why"
	fi
done
exit $status
