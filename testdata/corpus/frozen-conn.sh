#!/bin/sh
# frozen-conn.sh SNAPSHOT COMMAND [ARGS...]
#
# Runs COMMAND with /proc/net/ip_vs_conn replaced by the file SNAPSHOT, so a
# connection listing (ipvsadm -c) can be compared byte for byte: the live
# file's expiry column ticks every second, at a different moment for every
# connection. Everything else under /proc stays real: COMMAND runs in a
# private mount namespace where /proc is a directory of symlinks into a fresh
# proc mount, except net/, which holds only the snapshot.
set -e
snapshot=$(realpath "${1:?usage: frozen-conn.sh SNAPSHOT COMMAND...}")
shift
work=$PWD/.frozen-proc.$$
mkdir -p "$work/real" "$work/fake/net"
cp "$snapshot" "$work/fake/net/ip_vs_conn"
exec unshare -m sh -c '
	set -e
	work=$1
	shift
	mount --make-rprivate /
	mount -t proc proc "$work/real"
	for entry in "$work"/real/*; do
		name=${entry##*/}
		case $name in
		[0-9]* | net) ;;
		*) ln -s "$entry" "$work/fake/$name" ;;
		esac
	done
	mount --bind "$work/fake" /proc
	exec "$@"
' frozen-conn "$work" "$@"
