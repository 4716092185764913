#!/bin/sh
# refcheck.sh CASES: runs the reference ipvsadm once per line of CASES inside
# the VM (scripts/vm.sh) and prints, per case, the exit status, the first
# lines of stdout, all of stderr and the resulting state (-Sn, daemons,
# non-default timeouts); every printed line ends in '$'. A case line is a
# shell-quoted argument list; "SETUP ;; SETUP ;; ARGS" runs setup commands
# first. The state is reset after every case. reference_test.go reads the
# output (testdata/reference-results.txt).
while IFS= read -r line; do
	case "$line" in ''|'#'*) continue ;; esac
	echo "=== $line"
	rest=$line
	while :; do
		case "$rest" in *' ;; '*) ;; *) break ;; esac
		setup=${rest%% ;; *}
		rest=${rest#* ;; }
		eval "set -- $setup"
		ipvsadm "$@" >/dev/null 2>&1 || echo "setup failed: $setup"
	done
	eval "set -- $rest"
	timeout 5 ipvsadm "$@" >/tmp/out 2>/tmp/err </dev/null
	echo "rc=$?"
	sed 's/^/out: /;s/$/$/' /tmp/out | head -5
	sed 's/^/err: /;s/$/$/' /tmp/err
	ipvsadm -Sn | sed 's/^/S: /;s/$/$/'
	ipvsadm -L --daemon | sed 's/^/D: /;s/$/$/'
	ipvsadm -L --timeout | grep -v ' 900 120 300$' | sed 's/^/T: /;s/$/$/'
	ipvsadm -C
	ipvsadm --stop-daemon master 2>/dev/null
	ipvsadm --stop-daemon backup 2>/dev/null
	ipvsadm --set 900 120 300
done < "$1"
