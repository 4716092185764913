#!/usr/bin/env bash
# vm.sh - run commands as root inside a throwaway QEMU VM that boots a stock
# Debian cloud kernel (IPVS built as modules) from an initramfs.
#
# The VM has no disk and no network card; everything lives in the initramfs.
# It is meant for integration tests that need a real kernel with IPVS,
# network namespaces, veth pairs and so on, on hosts whose own kernel lacks
# them (or where we must not touch the host's networking).
#
#   scripts/vm.sh run [--timeout SECONDS] [--mem MB] [--smp N]
#                     [--file HOSTPATH:VMPATH]... [--dir HOSTDIR:VMDIR]...
#                     [--console] -- COMMAND [ARGS...]
#   scripts/vm.sh prepare          # deps + kernel + base initramfs; prints kver
#   scripts/vm.sh kernel-version   # prints the kernel version that run boots
#
# How it works:
#   * The kernel package (the one linux-image-cloud-amd64 currently depends
#     on) is downloaded with apt-get and unpacked once into a cache dir.
#   * A "base" initramfs (newc cpio) is built once per kernel version and
#     recipe: busybox, the real iproute2 `ip`, Debian's ipvsadm (+ -save and
#     -restore, which need bash), kmod as modprobe/depmod/insmod/lsmod, the
#     IPVS modules with their dependencies plus a few networking modules, and
#     an /init script.
#   * Every run adds a second, small cpio archive (concatenated after the
#     base one; the kernel unpacks both) holding the command and the caller's
#     files.
#   * Serial ports carry the data back: ttyS0 = kernel console (a log file),
#     ttyS1 = command stdout, ttyS2 = command stderr, ttyS3 = exit status.
#     The ports are put in raw mode so bytes arrive unchanged.
#
# Inside the VM: /bin/sh is dash (so `ip` found via $PATH is iproute2's, not
# busybox's netns-less applet; /sbin/ip is iproute2 either way), /bin/bash,
# Debian's ipvsadm 1.31 in /sbin and /usr/sbin, kmod's modprobe & co. in
# /sbin (the kernel autoloads modules through /sbin/modprobe), busybox for
# the rest (nc, httpd, timeout is GNU's). /tmp and /run are fresh tmpfs
# mounts (files passed there with --file/--dir are carried over); cgroup2 is
# on /sys/fs/cgroup. Nothing is loaded eagerly; there is no NIC, only lo (up).
#
# Exit status of `run`: the command's own status (0..255); 124 if the VM hit
# the hard timeout (qemu is killed); 125 if the VM failed to boot or the rig
# itself failed (the tail of the console log is shown on stderr); 2 for usage
# errors or missing host packages when not root.
#
# Environment:
#   LVSADM_VM_CACHE       cache dir (default ${XDG_CACHE_HOME:-/var/tmp}/lvsadm-vm)
#   LVSADM_VM_KERNEL_PKG  pin the kernel package (e.g. linux-image-6.1.0-48-cloud-amd64)
#   LVSADM_VM_TIMEOUT     default for --timeout (600)
#   LVSADM_VM_MEM         default for --mem (1024)
#   LVSADM_VM_SMP         default for --smp (1)
#   LVSADM_VM_CONSOLE_LOG if set, the kernel console log is copied to this path
#   LVSADM_VM_QEMU_ARGS   extra qemu arguments, split on spaces; for example
#                         "-icount shift=0,sleep=off" makes guest time count
#                         instructions, so user-space costs compare without
#                         the host's noise (development only)
set -euo pipefail

SCRIPT_PATH=$(readlink -f "${BASH_SOURCE[0]}")
PROG=vm.sh
CACHE_ROOT=${LVSADM_VM_CACHE:-${XDG_CACHE_HOME:-/var/tmp}/lvsadm-vm}
KERNEL_META_PKG=linux-image-cloud-amd64

# Kernel modules put into the VM besides everything in kernel/net/netfilter/ipvs.
# Their dependencies (and soft dependencies) are resolved automatically.
EXTRA_MODULES=(
	veth dummy bridge stp llc
	ipip ip_gre gre ip6_gre fou fou6 ip6_tunnel sit tunnel4 tunnel6 ip_tunnel
	udp_tunnel ip6_udp_tunnel
	nf_conntrack nf_defrag_ipv4 nf_defrag_ipv6
)

# Host programs copied into the VM (with their shared libraries), as
# VM path = host command name. The real tools win over busybox applets of the
# same name; busybox provides everything else.
HOST_PROGRAMS=(
	/usr/sbin/ipvsadm=ipvsadm
	/usr/sbin/ipvsadm-save=ipvsadm-save
	/usr/sbin/ipvsadm-restore=ipvsadm-restore
	/usr/sbin/ip=ip
	/usr/sbin/tc=tc
	/usr/sbin/bridge=bridge
	/usr/bin/ss=ss
	/usr/bin/kmod=kmod
	/usr/bin/bash=bash
	/usr/bin/dash=dash
	/usr/bin/grep=grep
	/usr/bin/timeout=timeout
)
# Names that busybox must never provide, even if the real tool is missing
# (busybox's ip lacks netns support; kmod provides the module tools).
NO_BUSYBOX_APPLETS=" ip tc ss bridge modprobe depmod insmod lsmod rmmod modinfo sh "

# Kernel command line. console on ttyS0 only; be quiet; on panic reboot at
# once, which -no-reboot turns into a qemu exit; no_timer_check because the
# IO-APIC timer check can fail under TCG on a busy host ("IO-APIC + timer
# doesn't work!" panic).
KERNEL_CMDLINE="console=ttyS0 quiet loglevel=1 panic=-1 oops=panic no_timer_check 8250.nr_uarts=4 i8042.noaux i8042.nokbd i8042.nopnp rdinit=/init"

# Temporary dirs removed on exit.
CLEANUP=()
cleanup() { ((${#CLEANUP[@]})) && rm -rf "${CLEANUP[@]}"; return 0; }
trap cleanup EXIT

# Stop a running VM when we are interrupted.
QEMU_PID=
on_signal() {
	if [[ -n $QEMU_PID ]]; then
		kill -TERM "$QEMU_PID" 2>/dev/null || true
		wait "$QEMU_PID" 2>/dev/null || true
	fi
	log "interrupted"
	exit 130
}

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { log "error: $*"; exit 125; }
usage_error() { log "$*"; usage >&2; exit 2; }
bad_arg() { log "$*"; exit 2; }

usage() {
	cat <<'EOF'
usage:
  vm.sh run [--timeout SECONDS] [--mem MB] [--smp N] [--console]
            [--file HOSTPATH:VMPATH]... [--dir HOSTDIR:VMDIR]... -- COMMAND [ARGS...]
      Boot a throwaway VM and run COMMAND (args joined with spaces) as root via
      /bin/sh -c, cwd /root, PATH=/sbin:/usr/sbin:/bin:/usr/bin. Its stdout and
      stderr come back on ours; we exit with its status. 124 = VM timed out
      (default 600 s), 125 = VM failed to boot or run the command.
      --console prints the kernel console log on stderr afterwards.
      Relative VM paths are taken relative to /root.
  vm.sh prepare         install deps, fetch the kernel, build the base
                        initramfs; prints the kernel version
  vm.sh kernel-version  print the kernel version that `run` boots
EOF
}

# ---------------------------------------------------------------------------
# Host dependencies
# ---------------------------------------------------------------------------

# find_bin NAME: print the path of a host program, looking beyond $PATH into
# the sbin dirs that non-root users often lack.
find_bin() {
	local name=$1 d
	if command -v "$name" >/dev/null 2>&1; then
		command -v "$name"
		return 0
	fi
	for d in /usr/sbin /sbin /usr/bin /bin /usr/local/sbin /usr/local/bin; do
		[[ -x $d/$name ]] && { echo "$d/$name"; return 0; }
	done
	return 1
}

# ensure_deps: install missing host packages (root) or tell which ones to
# install and exit 2 (non-root).
ensure_deps() {
	local -a missing=()
	local pair cmd pkg
	for pair in qemu-system-x86_64:qemu-system-x86 busybox:busybox-static \
		ipvsadm:ipvsadm kmod:kmod depmod:kmod modprobe:kmod cpio:cpio \
		ip:iproute2 dpkg-deb:dpkg apt-get:apt flock:util-linux \
		timeout:coreutils dash:dash bash:bash grep:grep; do
		cmd=${pair%%:*} pkg=${pair#*:}
		find_bin "$cmd" >/dev/null || missing+=("$pkg")
	done
	[[ -r /etc/services && -r /etc/protocols ]] || missing+=(netbase)
	((${#missing[@]})) || return 0
	# shellcheck disable=SC2207 # de-duplicate package names
	missing=($(printf '%s\n' "${missing[@]}" | sort -u))
	if ((EUID != 0)); then
		log "missing host packages; install them with:"
		log "  apt-get install -y --no-install-recommends ${missing[*]}"
		exit 2
	fi
	log "installing host packages: ${missing[*]}"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; then
		log "install failed; running apt-get update and retrying"
		apt-get update -q >&2 || true
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
			die "could not install: ${missing[*]}"
	fi
}

# ---------------------------------------------------------------------------
# Kernel
# ---------------------------------------------------------------------------

# resolve_kernel_pkg: print the name of the kernel package to use, e.g.
# linux-image-6.1.0-48-cloud-amd64.
resolve_kernel_pkg() {
	if [[ -n ${LVSADM_VM_KERNEL_PKG:-} ]]; then
		echo "$LVSADM_VM_KERNEL_PKG"
		return 0
	fi
	local pkg
	pkg=$(apt_cache_kernel_pkg)
	if [[ -z $pkg && $EUID -eq 0 ]]; then
		log "apt-cache knows no $KERNEL_META_PKG; running apt-get update"
		apt-get update -q >&2 || true
		pkg=$(apt_cache_kernel_pkg)
	fi
	if [[ -z $pkg ]]; then
		# Offline fallback: the newest kernel already in the cache.
		local newest
		newest=$(find "$CACHE_ROOT" -mindepth 2 -maxdepth 2 -name vmlinuz -printf '%h\n' 2>/dev/null |
			xargs -r -n1 basename | sort -V | tail -n1)
		[[ -n $newest ]] || die "cannot resolve the kernel package (apt-cache depends $KERNEL_META_PKG found nothing)"
		log "apt-cache has no $KERNEL_META_PKG; using cached kernel $newest"
		pkg=linux-image-$newest
	fi
	echo "$pkg"
}

apt_cache_kernel_pkg() {
	apt-cache depends "$KERNEL_META_PKG" 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-.*-cloud-amd64$/ { print $2; exit }'
}

# ensure_kernel KVER: make sure $CACHE_ROOT/KVER holds the kernel .deb and
# vmlinuz. Caller holds the cache lock.
ensure_kernel() {
	local kver=$1 kdir=$CACHE_ROOT/$1
	mkdir -p "$kdir"
	if ! compgen -G "$kdir/linux-image-*.deb" >/dev/null; then
		log "downloading linux-image-$kver"
		local dl
		dl=$(mktemp -d "$kdir/.dl.XXXXXX")
		local -a aptopts=(-q)
		# As root, apt drops to its _apt user, which cannot write here.
		((EUID == 0)) && aptopts+=(-o APT::Sandbox::User=root)
		if ! (cd "$dl" && apt-get download "${aptopts[@]}" "linux-image-$kver" >&2); then
			rm -rf "$dl"
			die "apt-get download linux-image-$kver failed"
		fi
		mv "$dl"/linux-image-*.deb "$kdir/"
		rm -rf "$dl"
	fi
	if [[ ! -s $kdir/vmlinuz ]]; then
		local deb tmp
		deb=$(compgen -G "$kdir/linux-image-*.deb" | head -n1)
		tmp=$(mktemp -d "$kdir/.vmlinuz.XXXXXX")
		dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards './boot/vmlinuz-*'
		mv "$tmp"/boot/vmlinuz-* "$kdir/vmlinuz.tmp"
		mv "$kdir/vmlinuz.tmp" "$kdir/vmlinuz"
		rm -rf "$tmp"
	fi
}

# ---------------------------------------------------------------------------
# Base initramfs
# ---------------------------------------------------------------------------

# recipe_hash: changes whenever this script or one of the host programs that
# go into the image changes, so the cached image is rebuilt.
recipe_hash() {
	local -a files=("$SCRIPT_PATH")
	local entry bin
	for entry in "${HOST_PROGRAMS[@]}" busybox=busybox; do
		bin=$(find_bin "${entry#*=}" 2>/dev/null) && files+=("$(readlink -f "$bin")")
	done
	sha256sum "${files[@]}" | awk '{print $1}' | sha256sum | cut -c1-16
}

# copy_with_libs SRC DST ROOT: copy host file SRC to ROOT/DST and every shared
# library ldd names for it (and the dynamic loader) to the same path in ROOT.
copy_with_libs() {
	local src=$1 dst=$2 root=$3 lib
	install -D -m 755 "$(readlink -f "$src")" "$root$dst"
	# Scripts and static binaries have no libraries; ldd fails for them.
	local libs
	libs=$(ldd "$src" 2>/dev/null | awk '
		$2 == "=>" && $3 ~ /^\// { print $3 }
		$1 ~ /^\// { print $1 }') || true
	[[ -n $libs ]] || return 0
	while read -r lib; do
		[[ -e $root$lib ]] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done <<<"$libs"
}

# collect_modules PKGROOT KVER: print the paths (relative to the module dir)
# of all wanted modules and their hard and soft dependencies.
collect_modules() {
	local pkgroot=$1 kver=$2 moddir=$1/lib/modules/$2
	local -a wanted=()
	local f m line
	for f in "$moddir"/kernel/net/netfilter/ipvs/*.ko*; do
		m=${f##*/}
		wanted+=("${m%%.ko*}")
	done
	wanted+=("${EXTRA_MODULES[@]}")
	for m in "${wanted[@]}"; do
		# --show-depends follows depends and softdeps and resolves aliases;
		# it prints "insmod PATH" for modules and "builtin NAME" otherwise.
		if ! line=$(modprobe -d "$pkgroot" -S "$kver" --show-depends --ignore-install "$m" 2>/dev/null); then
			log "warning: module $m not found in $kver; skipped"
			continue
		fi
		awk '$1 == "insmod" { print $2 }' <<<"$line"
	done | sed "s|^$moddir/||" | sort -u
}

# build_base KVER OUT: build the base initramfs for KVER into OUT.
build_base() {
	local kver=$1 out=$2 kdir=$CACHE_ROOT/$1
	local work root pkgroot deb
	work=$(mktemp -d "$kdir/.build.XXXXXX")
	CLEANUP+=("$work")
	root=$work/root pkgroot=$work/pkg
	deb=$(compgen -G "$kdir/linux-image-*.deb" | head -n1)

	log "building base initramfs for $kver"
	# --- kernel modules -------------------------------------------------
	dpkg-deb -x "$deb" "$pkgroot"
	# Newer packages may ship modules in /usr/lib/modules; depmod -b and
	# modprobe -d look in BASE/lib/modules.
	if [[ ! -d $pkgroot/lib/modules/$kver && -d $pkgroot/usr/lib/modules/$kver ]]; then
		ln -sfn usr/lib "$pkgroot/lib"
	fi
	[[ -d $pkgroot/lib/modules/$kver ]] || die "no modules for $kver in $deb"
	depmod -b "$pkgroot" "$kver"

	# Merged-/usr layout like a current Debian system.
	mkdir -p "$root"/usr/{bin,sbin,lib,lib64} "$root"/usr/local/{bin,sbin}
	ln -s usr/bin "$root/bin"
	ln -s usr/sbin "$root/sbin"
	ln -s usr/lib "$root/lib"
	ln -s usr/lib64 "$root/lib64"
	mkdir -p "$root"/{proc,sys,dev,tmp,run,root,etc,var,mnt}
	chmod 1777 "$root/tmp"
	chmod 700 "$root/root"
	ln -s ../run "$root/var/run"
	mkdir -p "$root/var/tmp" && chmod 1777 "$root/var/tmp"

	local src=$pkgroot/lib/modules/$kver dst=$root/lib/modules/$kver rel n=0
	while read -r rel; do
		mkdir -p "$dst/$(dirname "$rel")"
		# Store modules uncompressed so any modprobe/insmod can load them.
		case $rel in
		*.ko) cp "$src/$rel" "$dst/$rel" ;;
		*.ko.xz) xz -dc "$src/$rel" >"$dst/${rel%.xz}" ;;
		*.ko.gz) gzip -dc "$src/$rel" >"$dst/${rel%.gz}" ;;
		*.ko.zst) zstd -q -dc "$src/$rel" >"$dst/${rel%.zst}" ;;
		*) die "unknown module format: $rel" ;;
		esac
		n=$((n + 1))
	done < <(collect_modules "$pkgroot" "$kver")
	((n > 0)) || die "no kernel modules collected"
	for f in modules.order modules.builtin modules.builtin.modinfo; do
		[[ -e $src/$f ]] && cp "$src/$f" "$dst/$f"
	done
	depmod -b "$root" "$kver"
	log "$n kernel modules included"

	# --- programs ---------------------------------------------------------
	local entry vmpath bin
	for entry in "${HOST_PROGRAMS[@]}"; do
		vmpath=${entry%%=*}
		bin=$(find_bin "${entry#*=}") || die "host program ${entry#*=} not found"
		copy_with_libs "$bin" "$vmpath" "$root"
	done
	# Debian's /bin/sh is dash. Busybox sh would run its own applets (e.g. its
	# netns-less `ip`) before looking at $PATH, so it is not /bin/sh here.
	ln -s dash "$root/usr/bin/sh"
	# kmod multi-call binary; the kernel autoloads modules via /sbin/modprobe.
	for n in modprobe depmod insmod lsmod rmmod modinfo; do
		ln -s ../bin/kmod "$root/usr/sbin/$n"
	done
	# glibc NSS "files" module, in case it is separate from libc.
	for f in /lib/x86_64-linux-gnu/libnss_files.so.2 /usr/lib/x86_64-linux-gnu/libnss_files.so.2; do
		if [[ -e $f && ! -e $root$f ]]; then
			mkdir -p "$root$(dirname "$f")"
			cp -L "$f" "$root$f"
		fi
	done

	# busybox for everything else; never shadow a real tool.
	local bb applet name
	bb=$(find_bin busybox)
	copy_with_libs "$bb" /usr/bin/busybox "$root"
	while read -r applet; do
		name=${applet##*/}
		[[ $NO_BUSYBOX_APPLETS == *" $name "* ]] && continue
		[[ -e $root/usr/bin/$name || -e $root/usr/sbin/$name || -L $root/usr/bin/$name || -L $root/usr/sbin/$name ]] && continue
		case $applet in
		sbin/* | usr/sbin/*) ln -s ../bin/busybox "$root/usr/sbin/$name" ;;
		*) ln -s busybox "$root/usr/bin/$name" ;;
		esac
	done < <("$bb" --list-full)

	# --- /etc ----------------------------------------------------------------
	cp /etc/services /etc/protocols "$root/etc/"
	printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
	printf 'passwd: files\ngroup: files\nhosts: files\nservices: files\nprotocols: files\nnetworks: files\n' >"$root/etc/nsswitch.conf"
	printf 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$root/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
	echo lvsadm-vm >"$root/etc/hostname"
	: >"$root/etc/fstab"
	mkdir -p "$root/etc/ipvsadm" # harmless; some tools like it existing
	echo "$kver" >"$root/etc/lvsadm-vm-kernel"

	write_init "$root/init"

	# --- archive -------------------------------------------------------------
	(cd "$root" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc -R 0:0 --quiet) >"$out.tmp"
	mv "$out.tmp" "$out"
	rm -rf "$work"
	log "base initramfs: $(du -h "$out" | cut -f1)"
}

# write_init PATH: the VM's /init. Runs under busybox sh as PID 1.
write_init() {
	cat >"$1" <<'INIT'
#!/usr/bin/busybox sh
# /init of the lvsadm test VM (generated by scripts/vm.sh).
# Serial ports: ttyS0 console, ttyS1 stdout, ttyS2 stderr, ttyS3 exit status.
bb=/usr/bin/busybox
$bb mount -t devtmpfs -o mode=0755 devtmpfs /dev
exec </dev/console >/dev/console 2>&1
$bb mount -t proc -o nosuid,nodev,noexec proc /proc
$bb mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
# cgroup v2 where systemd puts it (the benchmark driver measures memory.peak).
$bb mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup
# Fresh tmpfs on /tmp and /run; carry over files the payload put there.
for d in /tmp /run; do
	mode=0755
	[ "$d" = /tmp ] && mode=1777
	$bb mv "$d" "$d.initramfs"
	$bb mkdir "$d"
	$bb mount -t tmpfs -o mode=$mode,nosuid,nodev tmpfs "$d"
	$bb cp -a "$d.initramfs/." "$d/" && $bb rm -rf "$d.initramfs"
	$bb chmod "$mode" "$d"
done
$bb chmod 0755 /
$bb chmod 0700 /root
$bb mkdir -p /dev/pts /dev/shm /run/netns
$bb mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
$bb mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
[ -d /sys/kernel/debug ] && $bb mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
$bb hostname lvsadm-vm
/sbin/ip link set lo up
# Load the IPVS schedulers and persistence engines now, not on demand. The
# kernel loads one while it holds the IPVS mutex; a module that registers
# per-namespace state (lblc, lblcr, pe_sip's conntrack) then waits for any
# namespace being dismantled, which itself waits for that mutex. Tests
# delete namespaces all the time, and such a command has hung until killed.
mods=
for f in /lib/modules/$($bb uname -r)/kernel/net/netfilter/ipvs/ip_vs_*.ko; do
	m=${f##*/}
	m=${m%.ko}
	[ "$m" = ip_vs_ftp ] || mods="$mods $m" # ftp alters NAT traffic on port 21
done
[ -z "$mods" ] || /sbin/modprobe -a $mods || echo "lvsadm-vm: modprobe$mods failed"

# Keep the data ports open for the whole run and make them 8-bit clean:
# no \n -> \r\n translation, no echo, no flow control.
exec 3>/dev/ttyS1 4>/dev/ttyS2 5>/dev/ttyS3
for fd in 3 4 5; do
	$bb stty raw -echo -echoe -echok -echoctl -echoke cs8 -parenb -crtscts clocal 115200 <&$fd 2>/dev/null ||
		echo "lvsadm-vm: stty on fd $fd failed"
done

rc=125
if [ -r /lvsadm-vm/cmd ]; then
	echo "lvsadm-vm: running payload"
	# The command writes to pipes, as it would on the host, not to the
	# serial TTYs; a cat per pipe copies the bytes to the port.
	$bb mkfifo -m 600 /run/lvsadm-vm.out /run/lvsadm-vm.err
	$bb cat /run/lvsadm-vm.out >&3 3>&- 4>&- 5>&- &
	cat_out=$!
	$bb cat /run/lvsadm-vm.err >&4 3>&- 4>&- 5>&- &
	cat_err=$!
	cd /root
	$bb env -i HOME=/root PATH=/sbin:/usr/sbin:/bin:/usr/bin TERM=dumb USER=root LOGNAME=root SHELL=/bin/sh \
		/bin/sh -c "$($bb cat /lvsadm-vm/cmd)" </dev/null \
		>/run/lvsadm-vm.out 2>/run/lvsadm-vm.err 3>&- 4>&- 5>&-
	rc=$?
	cd /
	echo "lvsadm-vm: payload exited with status $rc"
	# The cats end when every writer is gone; give processes the command
	# left behind (holding the pipes) 2 s before they are killed below.
	i=0
	while [ $i -lt 20 ] && { $bb kill -0 $cat_out || $bb kill -0 $cat_err; } 2>/dev/null; do
		$bb sleep 0.1
		i=$((i + 1))
	done
else
	echo "lvsadm-vm: no payload (/lvsadm-vm/cmd missing)"
fi

# Stop whatever the command left running so that nobody else holds the
# ports; then closing them waits until the UARTs have drained.
$bb kill -TERM -1 2>/dev/null
$bb sleep 0.1
$bb kill -KILL -1 2>/dev/null
$bb sleep 0.1
exec 3>&- 4>&-
echo "$rc" >&5
exec 5>&-
$bb sync
echo "lvsadm-vm: poweroff"
$bb poweroff -f
INIT
	chmod 755 "$1"
}

# prepare [COPY]: deps, kernel, base initramfs. Sets KVER and BASE_INITRD.
# With COPY, the base image is copied there under the cache lock, so that a
# checkout with another recipe cannot delete it half-way.
prepare() {
	local copy=${1:-}
	ensure_deps
	local pkg
	pkg=$(resolve_kernel_pkg)
	KVER=${pkg#linux-image-}
	mkdir -p "$CACHE_ROOT" 2>/dev/null || true
	[[ -d $CACHE_ROOT && -w $CACHE_ROOT ]] ||
		die "cache dir $CACHE_ROOT is not writable (set LVSADM_VM_CACHE)"
	local lockfd
	exec {lockfd}>"$CACHE_ROOT/.lock"
	flock "$lockfd"
	ensure_kernel "$KVER"
	local hash
	hash=$(recipe_hash)
	BASE_INITRD=$CACHE_ROOT/$KVER/base-$hash.cpio
	if [[ ! -s $BASE_INITRD ]]; then
		build_base "$KVER" "$BASE_INITRD"
		# Forget images of other recipes (older versions of this script)
		# that no run has used for a day.
		find "$CACHE_ROOT/$KVER" -maxdepth 1 -name 'base-*.cpio' ! -name "base-$hash.cpio" -mmin +1440 -delete 2>/dev/null || true
	fi
	touch "$BASE_INITRD" # its mtime says when it was last used
	[[ -z $copy ]] || cp "$BASE_INITRD" "$copy"
	exec {lockfd}>&-
}

# ---------------------------------------------------------------------------
# run
# ---------------------------------------------------------------------------

# vm_path P: absolute VM path (relative ones are taken relative to /root).
vm_path() {
	case $1 in
	/*) echo "$1" ;;
	*) echo "/root/$1" ;;
	esac
}

# boot_vm RUNDIR TIMEOUT MEM SMP: boot the VM on RUNDIR/initrd; the serial
# ports land in RUNDIR/{console.log,stdout,stderr,status}. Returns timeout's
# exit status (124/137 when the VM was killed).
boot_vm() {
	local run=$1 timeout=$2 mem=$3 smp=$4 qemu rc=0 f
	for f in console.log stdout stderr status; do : >"$run/$f"; done
	qemu=$(find_bin qemu-system-x86_64)
	# qemu runs in the background (timeout puts it in its own process group)
	# so that we can stop it if we are interrupted.
	timeout --kill-after=10 "$timeout" "$qemu" \
		-accel tcg -cpu max -smp "$smp" -m "$mem" ${LVSADM_VM_QEMU_ARGS:-} \
		-nodefaults -no-user-config -display none -vga none -nic none -no-reboot \
		-kernel "$CACHE_ROOT/$KVER/vmlinuz" -initrd "$run/initrd" \
		-append "$KERNEL_CMDLINE" \
		-chardev file,id=con,path="$run/console.log" -serial chardev:con \
		-chardev file,id=out,path="$run/stdout" -serial chardev:out \
		-chardev file,id=err,path="$run/stderr" -serial chardev:err \
		-chardev file,id=st,path="$run/status" -serial chardev:st \
		</dev/null >"$run/qemu.log" 2>&1 &
	QEMU_PID=$!
	trap on_signal INT TERM HUP
	wait "$QEMU_PID" || rc=$?
	QEMU_PID=
	trap - INT TERM HUP
	return "$rc"
}

cmd_run() {
	local timeout=${LVSADM_VM_TIMEOUT:-600} mem=${LVSADM_VM_MEM:-1024} smp=${LVSADM_VM_SMP:-1}
	local show_console=0
	local -a files=() dirs=()
	while (($#)); do
		case $1 in
		--timeout) timeout=${2:?--timeout needs a value}; shift 2 ;;
		--timeout=*) timeout=${1#*=}; shift ;;
		--mem) mem=${2:?--mem needs a value}; shift 2 ;;
		--mem=*) mem=${1#*=}; shift ;;
		--smp) smp=${2:?--smp needs a value}; shift 2 ;;
		--smp=*) smp=${1#*=}; shift ;;
		--file) files+=("${2:?--file needs HOSTPATH:VMPATH}"); shift 2 ;;
		--file=*) files+=("${1#*=}"); shift ;;
		--dir) dirs+=("${2:?--dir needs HOSTDIR:VMDIR}"); shift 2 ;;
		--dir=*) dirs+=("${1#*=}"); shift ;;
		--console) show_console=1; shift ;;
		--) shift; break ;;
		-h | --help) usage; exit 0 ;;
		*) usage_error "unknown run option: $1" ;;
		esac
	done
	(($#)) || usage_error "run: no command given"
	[[ $timeout =~ ^[0-9]+$ && $timeout -gt 0 ]] || usage_error "bad --timeout: $timeout"
	[[ $mem =~ ^[0-9]+$ && $mem -ge 128 ]] || usage_error "bad --mem: $mem"
	[[ $smp =~ ^[0-9]+$ && $smp -ge 1 ]] || usage_error "bad --smp: $smp"

	# Check the caller's files before the (possibly slow) preparation.
	local spec host
	for spec in "${files[@]}"; do
		[[ $spec == *:* ]] || usage_error "--file wants HOSTPATH:VMPATH, got: $spec"
		host=${spec%%:*}
		[[ -f $host ]] || bad_arg "--file: no such file: $host"
	done
	for spec in "${dirs[@]}"; do
		[[ $spec == *:* ]] || usage_error "--dir wants HOSTDIR:VMDIR, got: $spec"
		host=${spec%%:*}
		[[ -d $host ]] || bad_arg "--dir: no such directory: $host"
	done

	local run
	run=$(mktemp -d "${TMPDIR:-/tmp}/lvsadm-vm-run.XXXXXX")
	CLEANUP+=("$run")
	prepare "$run/initrd"

	local payload=$run/payload vmp
	mkdir -p "$payload/lvsadm-vm" "$payload/root"
	printf '%s' "$*" >"$payload/lvsadm-vm/cmd"
	for spec in "${dirs[@]}"; do
		vmp=$(vm_path "${spec#*:}")
		mkdir -p "$payload$vmp"
		cp -a "${spec%%:*}/." "$payload$vmp/"
	done
	for spec in "${files[@]}"; do
		vmp=$(vm_path "${spec#*:}")
		[[ $vmp == */ ]] && vmp=$vmp$(basename "${spec%%:*}")
		mkdir -p "$payload$(dirname "$vmp")"
		cp -p "${spec%%:*}" "$payload$vmp"
	done
	# The payload archive goes after the base one (copied by prepare); the
	# kernel unpacks both, later files overriding earlier ones.
	# Pad to a 4-byte boundary so the next cpio header is where the kernel
	# looks for it (GNU cpio pads to 512 bytes anyway).
	local size pad
	size=$(stat -c %s "$run/initrd")
	pad=$(((4 - size % 4) % 4))
	((pad)) && head -c "$pad" /dev/zero >>"$run/initrd"
	(cd "$payload" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc -R 0:0 --quiet) >>"$run/initrd"

	# A boot that never reaches the payload (e.g. TCG timer trouble on a
	# loaded host) is retried once.
	local rc attempt
	for attempt in 1 2; do
		rc=0
		boot_vm "$run" "$timeout" "$mem" "$smp" || rc=$?
		((rc == 124 || rc == 137)) && break
		[[ -s $run/status ]] && break
		grep -q 'lvsadm-vm: running payload' "$run/console.log" && break
		if ((attempt == 1)); then
			log "VM did not reach the payload (qemu exit status $rc); retrying once. Console tail:"
			tail -n 5 "$run/console.log" | tr -d '\r' >&2
		fi
	done

	# Hand the command's output to the caller, whatever happened.
	cat "$run/stdout"
	cat "$run/stderr" >&2
	[[ -n ${LVSADM_VM_CONSOLE_LOG:-} ]] && cp "$run/console.log" "$LVSADM_VM_CONSOLE_LOG"
	if ((show_console)); then
		log "---- kernel console ----"
		cat "$run/console.log" >&2
		log "---- end of kernel console ----"
	fi

	if ((rc == 124 || rc == 137)); then
		log "VM timed out after ${timeout}s; qemu killed (command output so far shown above)"
		exit 124
	fi
	local status
	status=$(tr -dc '0-9' <"$run/status")
	if [[ -z $status ]]; then
		log "VM failed to boot or run the command (qemu exit status $rc)"
		if [[ -s $run/qemu.log ]]; then
			log "---- qemu output ----"
			tail -n 20 "$run/qemu.log" >&2
		fi
		log "---- tail of kernel console ----"
		tail -n 40 "$run/console.log" | tr -d '\r' >&2
		exit 125
	fi
	exit "$status"
}

# ---------------------------------------------------------------------------

main() {
	local cmd=${1:-}
	(($#)) && shift
	case $cmd in
	run) cmd_run "$@" ;;
	prepare)
		prepare
		echo "$KVER"
		;;
	kernel-version)
		local pkg
		pkg=$(resolve_kernel_pkg)
		echo "${pkg#linux-image-}"
		;;
	-h | --help | help) usage ;;
	*) usage_error "unknown command: ${cmd:-(none)}" ;;
	esac
}

main "$@"
