#!/bin/sh
# tests/data/acpi/iasl/build.sh - recompile the data-table sources here with
# iasl (Debian's acpica-tools) into the committed *.aml the host tests load.
set -eu
cd "$(dirname "$0")"
for f in *.dsl; do
	iasl -p "${f%.dsl}" "$f" > /dev/null
done
ls -l *.aml
