#!/usr/bin/env bash
# vmtest.sh - build Go integration test binaries on the host and run them all
# as root inside one throwaway VM (scripts/vm.sh) with a real Debian kernel.
#
#   scripts/vmtest.sh [PACKAGE...]
#
# PACKAGE is a package directory relative to the module root (./internal/foo,
# internal/foo or ./internal/foo/...-free paths). Default: every package that
# has a .go file with an `integration` build constraint.
#
# For each package: CGO_ENABLED=0 go test -c -tags integration; the binary and
# the package's testdata/ are copied to /root/vmtest/<pkg>/ in the VM and the
# binary runs from there, so relative testdata paths work as under `go test`.
# If bin/lvsadm exists it is installed as /usr/local/sbin/lvsadm (and
# LVSADM_BIN points at it).
#
# Environment:
#   VMTEST_RUN      -test.run pattern (default TestIntegration)
#   VMTEST_VERBOSE  1 = pass -test.v
#   VMTEST_FILES    extra files/dirs, space-separated HOSTPATH:VMPATH pairs
#   VMTEST_TIMEOUT  VM hard timeout in seconds (default 1500)
#   VMTEST_SMP      virtual CPUs (default 2: the corpus runs cases in parallel)
#   VMTEST_MEM      VM memory in MB (default 1024)
#   VMTEST_ARGS     extra arguments for every test binary (e.g. -test.count=2)
#
# Prints a PASS/FAIL line per package and "vmtest: N passed, N failed";
# exits 0 only if every package passed.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
VM=$SCRIPT_DIR/vm.sh
RUN_PATTERN=${VMTEST_RUN:-TestIntegration}
MARK='@@VMTEST@@' # prefix of the result lines the VM prints

log() { printf 'vmtest: %s\n' "$*" >&2; }

cd "$ROOT"
[[ -f go.mod ]] || { log "no go.mod in $ROOT"; exit 2; }

# --- which packages ---------------------------------------------------------
declare -a pkgs=()
if (($#)); then
	for p in "$@"; do
		p=${p#./}
		p=${p%/}
		[[ -z $p ]] && p=.
		[[ -d $p ]] || { log "no such package directory: $p"; exit 2; }
		pkgs+=("$p")
	done
else
	# Directories holding a .go file whose build constraint mentions
	# `integration` (skipping vendor/, testdata/ and hidden dirs).
	while IFS= read -r d; do
		pkgs+=("${d#./}")
	done < <(find . \( -name vendor -o -name testdata -o -name '.?*' \) -prune -o \
		-type f -name '*.go' -print0 |
		xargs -0 -r grep -lE '^//go:build .*\bintegration\b' |
		xargs -r -n1 dirname | sort -u)
fi
if ((${#pkgs[@]} == 0)); then
	log "no integration test packages found (no //go:build integration files)"
	echo "vmtest: 0 passed, 0 failed"
	exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/vmtest.XXXXXX")
trap 'rm -rf "$work"' EXIT
stage=$work/stage # becomes /root/vmtest in the VM
mkdir -p "$stage"

declare -A result=() # pkg -> PASS | FAIL | BUILD-FAIL | ...
declare -a torun=()

# shquote S: S quoted for a POSIX shell.
shquote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

# name for a package: its path with / replaced, "root" for the module root.
pkg_name() {
	local n=${1//\//_}
	[[ $n == . ]] && n=root
	echo "$n"
}

# --- build ------------------------------------------------------------------
for p in "${pkgs[@]}"; do
	name=$(pkg_name "$p")
	dest=$stage/$p
	mkdir -p "$dest"
	log "building $p"
	if ! CGO_ENABLED=0 go test -c -tags integration -o "$dest/$name.test" "./$p"; then
		result[$p]=BUILD-FAIL
		continue
	fi
	if [[ ! -f $dest/$name.test ]]; then
		# go test -c writes nothing for a package without tests.
		log "$p has no test files; skipped"
		result[$p]=NO-TESTS
		continue
	fi
	[[ -d $p/testdata ]] && cp -a "$p/testdata" "$dest/testdata"
	torun+=("$p")
done

# The repository's top-level testdata (the differential corpus) is shared by
# packages, which reach it as ../../testdata from their own directory.
[[ -d testdata ]] && cp -a testdata "$stage/testdata"

# --- run in one VM ----------------------------------------------------------
declare -a vmargs=(--dir "$stage:/root/vmtest")
if [[ -x bin/lvsadm ]]; then
	vmargs+=(--file "bin/lvsadm:/usr/local/sbin/lvsadm")
	log "including bin/lvsadm as /usr/local/sbin/lvsadm"
fi
for spec in ${VMTEST_FILES:-}; do
	[[ $spec == *:* ]] || { log "VMTEST_FILES entry is not HOSTPATH:VMPATH: $spec"; exit 2; }
	if [[ -d ${spec%%:*} ]]; then
		vmargs+=(--dir "$spec")
	else
		vmargs+=(--file "$spec")
	fi
done
vm_timeout=${VMTEST_TIMEOUT:-1500}
vmargs+=(--timeout "$vm_timeout" --mem "${VMTEST_MEM:-1024}" --smp "${VMTEST_SMP:-2}")

if ((${#torun[@]})); then
	# The runner script executed by /bin/sh inside the VM.
	testargs="-test.run $(shquote "$RUN_PATTERN")"
	[[ ${VMTEST_VERBOSE:-0} == 1 ]] && testargs+=" -test.v"
	[[ -n ${VMTEST_ARGS:-} ]] && testargs+=" ${VMTEST_ARGS}"
	# shellcheck disable=SC2016 # $vars below are for the VM's shell
	{
		echo 'export PATH=/usr/local/sbin:/usr/local/bin:$PATH TMPDIR=/tmp LVSADM_VMTEST=1'
		echo '[ -x /usr/local/sbin/lvsadm ] && export LVSADM_BIN=/usr/local/sbin/lvsadm'
		echo 'failed=0'
		# Each binary may run until a minute before the VM's hard timeout,
		# so that a hung test fails with Go's goroutine dump instead of a
		# silent VM timeout (VMTEST_ARGS can still set -test.timeout).
		echo "deadline=\$((\$(date +%s) + $vm_timeout - 60))"
		for p in "${torun[@]}"; do
			qp=$(shquote "$p")
			echo "echo === vmtest: $qp"
			echo "left=\$((deadline - \$(date +%s))); [ \$left -gt 1 ] || left=1"
			echo "cd /root/vmtest/$qp && ./$(shquote "$(pkg_name "$p").test") -test.timeout=\${left}s $testargs; rc=\$?"
			echo "echo $MARK $qp \$rc"
			echo '[ $rc -eq 0 ] || failed=1'
		done
		echo 'exit $failed'
	} >"$stage/run.sh"

	vmrc=0
	"$VM" run "${vmargs[@]}" -- sh /root/vmtest/run.sh >"$work/out" || vmrc=$?
	# Show the tests' output without our result markers.
	grep -v "^$MARK " "$work/out" || true
	while read -r _ p rc; do
		if [[ $rc == 0 ]]; then result[$p]=PASS; else result[$p]="FAIL (exit $rc)"; fi
	done < <(grep -a "^$MARK " "$work/out" || true)
	for p in "${torun[@]}"; do
		if [[ -z ${result[$p]:-} ]]; then
			case $vmrc in
			124) result[$p]="FAIL (VM timed out)" ;;
			125) result[$p]="FAIL (VM failed)" ;;
			*) result[$p]="FAIL (no result, vm.sh exit $vmrc)" ;;
			esac
		fi
	done
fi

# --- summary ----------------------------------------------------------------
npass=0 nfail=0
echo "--- vmtest summary"
for p in "${pkgs[@]}"; do
	r=${result[$p]}
	case $r in
	PASS) npass=$((npass + 1)) ;;
	NO-TESTS) ;;
	*) nfail=$((nfail + 1)) ;;
	esac
	printf '%-12s %s\n' "${r%% *}" "$p${r#"${r%% *}"}"
done
echo "vmtest: $npass passed, $nfail failed"
((nfail == 0))
