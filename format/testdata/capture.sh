#!/usr/bin/env bash
# Re-captures the golden files of package format from the reference
# ipvsadm 1.31 (Debian's /sbin/ipvsadm) on a real kernel, in the VM of
# scripts/vm.sh. Run from anywhere; it rewrites format/testdata/*.golden,
# *.stderr and *.rc. The table set-ups and the commands are in capture-vm.sh;
# the /proc/net/ip_vs_conn inputs for -c are the *.conn files here.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

args=(--file "$here/capture-vm.sh:capture-vm.sh")
for f in "$here"/*.conn; do
	args+=(--file "$f:conn/$(basename "$f")")
done

raw=$(mktemp)
trap 'rm -f "$raw"' EXIT
"$root/scripts/vm.sh" run "${args[@]}" -- 'sh capture-vm.sh' >"$raw"

rm -f "$here"/*.golden "$here"/*.stderr "$here"/*.rc
sed -n '/^@@@@ BEGIN$/,/^@@@@ END$/{/^@@@@/d;p}' "$raw" | base64 -d | tar -xf - -C "$here"
ls "$here"/*.golden | wc -l
