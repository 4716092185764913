#!/usr/bin/env bash
# vmtest.sh - build Go integration test binaries on the host and run them all
# as root inside throwaway VMs (scripts/vm.sh) with a real Debian kernel.
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
# LVSADM_BIN points at it). LVSADM_VMTEST=1 is set for the tests.
#
# The packages are spread over VMTEST_LANES VMs that run side by side, each
# with its own kernel. The differential corpus (TestIntegrationCorpus in
# cmd/cli) is split across all lanes: it runs one command at a time within a
# kernel (see commandMu there), so a second kernel is the way to use a second
# CPU. Lane K runs it with VMTEST_SHARD=K/N set; in lanes after the first
# only that test runs, in its own log (cmd_cli.shardK.log).
#
# Every binary runs with -test.v. Its whole output (stdout and stderr) is kept
# in $VMTEST_LOGDIR/<pkg>.log; the terminal gets only the interesting lines:
# failed and skipped tests with their output, panics, and the log's tail when
# the package failed. A package with any `--- SKIP` fails: in the VM nothing
# may be missing (tests skipped under -short are fine; the VM does not pass
# it). So does a package in which no test ran, unless VMTEST_RUN was set.
#
# Environment:
#   VMTEST_RUN      -test.run pattern (default TestIntegration)
#   VMTEST_VERBOSE  1 = print every package's whole log, not only the interesting lines
#   VMTEST_LOGDIR   where the logs go (default bin/vmtest)
#   VMTEST_FILES    extra files/dirs, space-separated HOSTPATH:VMPATH pairs
#   VMTEST_TIMEOUT  each VM's hard timeout in seconds (default 1500)
#   VMTEST_LANES    VMs run side by side (default 2)
#   VMTEST_SMP      virtual CPUs per VM (default 2: the corpus overlaps cases)
#   VMTEST_MEM      memory per VM in MB (default 1024)
#   VMTEST_ARGS     extra arguments for every test binary (e.g. -test.count=2)
#
# Prints a PASS/FAIL line per package (and per extra corpus shard) and
# "vmtest: N passed, N failed"; exits 0 only if every one passed.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
VM=$SCRIPT_DIR/vm.sh
RUN_PATTERN=${VMTEST_RUN:-TestIntegration}
MARK='@@VMTEST@@' # prefix of the result lines the VM prints
LANES=${VMTEST_LANES:-2}
# PACKAGE=TEST: the test split across the lanes (see above).
SHARDED_PKG=cmd/cli SHARDED_TEST=TestIntegrationCorpus

log() { printf 'vmtest: %s\n' "$*" >&2; }

cd "$ROOT"
[[ $LANES =~ ^[1-9][0-9]*$ ]] || { log "bad VMTEST_LANES: $LANES"; exit 2; }
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

# interesting LOG: the lines of a -test.v log worth reading. Output is
# attributed to tests by the "=== RUN/CONT/NAME/PAUSE" lines and printed
# only for tests that fail or skip, with their --- line; also panics (the
# first 30 lines of one) and whatever is printed outside tests, except the
# final PASS.
interesting() {
	awk '
		$1 == "===" { cur = $3; next }
		# A --- line may follow output that did not end with a newline.
		match($0, /--- (PASS|FAIL|SKIP): [^ ]+/) {
			split(substr($0, RSTART, RLENGTH), f, " ")
			if (f[2] != "PASS:") { printf "%s", out[f[3]]; print }
			delete out[f[3]]
			if (f[3] !~ /\//) cur = ""
			next
		}
		/^(panic: |fatal error: )/ { panicking = 30 }
		panicking > 0 { print; panicking--; next }
		cur != "" { out[cur] = out[cur] $0 "\n"; next }
		$0 != "PASS" { print }
	' "$1"
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

# --- jobs and lanes -----------------------------------------------------------
# A job is one test binary run: package, log name, -test.run pattern, lane and
# VMTEST_SHARD value. The sharded package has a job in every lane; the other
# packages go round the lanes, starting after the first (which has the
# sharded package's other tests).
declare -a job_pkg=() job_name=() job_pattern=() job_lane=() job_shard=()
add_job() { # PKG NAME PATTERN LANE SHARD
	job_pkg+=("$1") job_name+=("$2") job_pattern+=("$3") job_lane+=("$4") job_shard+=("$5")
}
next_lane=$((1 % LANES))
for p in "${torun[@]}"; do
	name=$(pkg_name "$p")
	if [[ $p == "$SHARDED_PKG" ]] && ((LANES > 1)); then
		add_job "$p" "$name" "$RUN_PATTERN" 0 "0/$LANES"
		for ((k = 1; k < LANES; k++)); do
			# With VMTEST_RUN set the caller chose the tests; every shard runs them.
			add_job "$p" "$name.shard$k" "${VMTEST_RUN:-^$SHARDED_TEST\$}" "$k" "$k/$LANES"
		done
	else
		add_job "$p" "$name" "$RUN_PATTERN" "$next_lane" ""
		next_lane=$(((next_lane + 1) % LANES))
	fi
done

# --- run the lanes' VMs side by side ------------------------------------------
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

declare -A job_result=() # job name -> PASS | FAIL (...) | NO-TESTS (...)
if ((${#job_pkg[@]})); then
	# One runner script per lane, executed by /bin/sh inside its VM. Each
	# binary's output is framed by marker lines: "MARK begin NAME" and
	# "MARK end NAME RC".
	# shellcheck disable=SC2016 # $vars below are for the VM's shell
	for ((lane = 0; lane < LANES; lane++)); do
		{
			echo 'export PATH=/usr/local/sbin:/usr/local/bin:$PATH TMPDIR=/tmp LVSADM_VMTEST=1'
			echo '[ -x /usr/local/sbin/lvsadm ] && export LVSADM_BIN=/usr/local/sbin/lvsadm'
			echo 'failed=0'
			# Each binary may run until a minute before the VM's hard timeout,
			# so that a hung test fails with Go's goroutine dump instead of a
			# silent VM timeout (VMTEST_ARGS can still set -test.timeout).
			echo "deadline=\$((\$(date +%s) + $vm_timeout - 60))"
			for i in "${!job_pkg[@]}"; do
				((job_lane[i] == lane)) || continue
				p=${job_pkg[i]} name=${job_name[i]}
				testargs="-test.v -test.run $(shquote "${job_pattern[i]}")"
				[[ -n ${VMTEST_ARGS:-} ]] && testargs+=" ${VMTEST_ARGS}"
				echo "echo $MARK begin $name"
				echo "left=\$((deadline - \$(date +%s))); [ \$left -gt 1 ] || left=1"
				echo "cd /root/vmtest/$(shquote "$p") && VMTEST_SHARD=$(shquote "${job_shard[i]}") ./$(shquote "$(pkg_name "$p").test") -test.timeout=\${left}s $testargs 2>&1; rc=\$?"
				# On a line of its own even if the output did not end with one.
				echo "echo; echo $MARK end $name \$rc"
				echo '[ $rc -eq 0 ] || failed=1'
			done
			echo 'exit $failed'
		} >"$stage/run$lane.sh"
	done

	logdir=${VMTEST_LOGDIR:-$ROOT/bin/vmtest}
	mkdir -p "$logdir"
	for name in "${job_name[@]}"; do rm -f "$logdir/$name.log"; done

	declare -a vm_pid=() vmrc=()
	for ((lane = 0; lane < LANES; lane++)); do
		vmrc[lane]=0
		[[ " ${job_lane[*]} " == *" $lane "* ]] || continue # nothing to run
		"$VM" run "${vmargs[@]}" -- sh "/root/vmtest/run$lane.sh" >"$work/out$lane" &
		vm_pid[lane]=$!
	done
	for lane in "${!vm_pid[@]}"; do
		wait "${vm_pid[lane]}" || vmrc[lane]=$?
	done

	# Split each lane's output into one log per job (without the blank line
	# echoed before each end marker); print what is outside any job.
	# Writes "NAME RC" for each job that ended to $work/ended.
	: >"$work/ended"
	for lane in "${!vm_pid[@]}"; do
		awk -v mark="$MARK" -v dir="$logdir" -v ended="$work/ended" '
			function flush_blank() { if (blank) { print "" >>file; blank = 0 } }
			$1 == mark && $2 == "begin" { file = dir "/" $3 ".log"; blank = 0; next }
			$1 == mark && $2 == "end" { print $3, $4 >>ended; close(file); file = ""; blank = 0; next }
			file == "" { print; next }
			$0 == "" { flush_blank(); blank = 1; next }
			{ flush_blank(); print >>file }
		' "$work/out$lane"
	done
	while read -r name rc; do
		if [[ $rc == 0 ]]; then job_result[$name]=PASS; else job_result[$name]="FAIL (exit $rc)"; fi
	done <"$work/ended"

	for i in "${!job_pkg[@]}"; do
		name=${job_name[i]} lane=${job_lane[i]}
		log=$logdir/$name.log
		if [[ -z ${job_result[$name]:-} ]]; then
			case ${vmrc[lane]} in
			124) job_result[$name]="FAIL (VM timed out)" ;;
			125) job_result[$name]="FAIL (VM failed)" ;;
			*) job_result[$name]="FAIL (no result, vm.sh exit ${vmrc[lane]})" ;;
			esac
		fi
		[[ -f $log ]] || continue
		nskip=$(grep -c -- '--- SKIP: ' "$log" || true)
		if [[ ${job_result[$name]} == PASS ]]; then
			if ((nskip)); then
				job_result[$name]="FAIL ($nskip skipped)"
			elif ! grep -q -- '--- PASS: ' "$log"; then
				if [[ -n ${VMTEST_RUN:-} ]]; then
					job_result[$name]="NO-TESTS (none matched VMTEST_RUN)"
				else
					job_result[$name]="FAIL (no test ran)"
				fi
			fi
		fi
		echo "=== vmtest: ${job_pkg[i]} (lane $lane, log: $log)"
		if [[ ${VMTEST_VERBOSE:-0} == 1 ]]; then
			cat "$log"
		else
			interesting "$log"
		fi
		if [[ ${job_result[$name]} != PASS && ${job_result[$name]} != NO-TESTS* ]]; then
			echo "--- vmtest: tail of $log"
			tail -n 40 "$log"
		fi
	done
fi

# --- summary ----------------------------------------------------------------
npass=0 nfail=0
echo "--- vmtest summary"
# report LABEL RESULT
report() {
	case $2 in
	PASS) npass=$((npass + 1)) ;;
	NO-TESTS*) ;;
	*) nfail=$((nfail + 1)) ;;
	esac
	printf '%-12s %s\n' "${2%% *}" "$1${2#"${2%% *}"}"
}
for p in "${pkgs[@]}"; do
	if [[ -n ${result[$p]:-} ]]; then # not built
		report "$p" "${result[$p]}"
		continue
	fi
	for i in "${!job_pkg[@]}"; do
		[[ ${job_pkg[i]} == "$p" ]] || continue
		label=$p
		[[ ${job_name[i]} == *.shard* ]] && label="$p (shard ${job_shard[i]})"
		report "$label" "${job_result[${job_name[i]}]}"
	done
done
echo "vmtest: $npass passed, $nfail failed"
((nfail == 0))
