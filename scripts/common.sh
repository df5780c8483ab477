# shellcheck shell=bash
# Shared settings and helpers for the scripts in this directory.
# Sourced, not run.

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KTREE=${KTREE:-$TOP/linux}		# kernel work tree (git, gitignored)
BUILD=${BUILD:-$TOP/build}		# build output (gitignored)
RESULTS=${RESULTS:-$TOP/results}	# console logs, KTAP (gitignored)
# Phase durations of a run, where scripts/boot --results does not move them
PHASES_FILE=${PHASES_FILE:-$RESULTS/phases.txt}
SERIES=${SERIES:-$TOP/series}	# the exported series
BASE_TAG=base

# shellcheck source=../base/pin
. "${PIN_FILE:-$TOP/base/pin}"

export ARCH=powerpc
export CROSS_COMPILE=powerpc64le-linux-gnu-
export KBUILD_BUILD_TIMESTAMP="Thu Jan  1 00:00:00 UTC 2026"
export KBUILD_BUILD_USER=ci KBUILD_BUILD_HOST=iommufd-spapr
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
export CCACHE_BASEDIR=$TOP
export CCACHE_SLOPPINESS=time_macros,include_file_mtime,include_file_ctime
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}
# Identity and dates used for the base commit, so that it has the same
# hash on every machine (the series' base-commit depends on it).
BASE_IDENT_NAME="Debian linux-source"
BASE_IDENT_EMAIL="base@localhost"
BASE_DATE="2025-01-01T00:00:00Z"

JOBS=${JOBS:-$(nproc)}

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Phase timing: phase_start NAME ... phase_end prints the duration.
_PHASE_NAME=""
_PHASE_T0=0
phase_start() { # PHASE_PREFIX (environment) names a second run's phases
	_PHASE_NAME=${PHASE_PREFIX:-}$1
	_PHASE_T0=$(date +%s)
	log "phase $_PHASE_NAME"
}
phase_end() {
	local t=$(( $(date +%s) - _PHASE_T0 ))
	printf 'phase %-24s %4d s\n' "$_PHASE_NAME" "$t" >&2
	mkdir -p "$(dirname "$PHASES_FILE")"
	printf '%s %d\n' "$_PHASE_NAME" "$t" >> "$PHASES_FILE"
}

# print_bench [RESULTS]: the TCE benchmark table of a guest run, if any.
print_bench() {
	local k=${1:-$RESULTS}/ktap/tce_bench.ktap
	[ -f "$k" ] || return 0
	echo "TCE benchmark, legacy v2 container vs iommufd (guest/tce_bench.c):"
	sed -n 's/^# tce_bench: /  /p' "$k"
}

# print_measured [RESULTS]: what vfio_spapr_edu measured and printed as
# "measured:" lines (RTAS calls of a legacy session, memcg charges), each
# with the test (fixture.variant.test) that printed it.
print_measured() {
	local k=${1:-$RESULTS}/ktap/vfio_spapr_edu.ktap
	[ -f "$k" ] || return 0
	echo "Measured by vfio_spapr_edu:"
	awk '/^# +RUN / { name = $3 }
	     /:measured: / { sub(/^#.*:measured: /, ""); print "  " name ": " $0 }' "$k"
}

# print_phases T0: one line with each phase's duration and the total.
print_phases() {
	echo "phases: $(awk '{printf "%s=%ss ", $1, $2}' "$PHASES_FILE")total=$(( $(date +%s) - $1 ))s"
}

# need_packages PKG...: install the Debian packages that are missing.
need_packages() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing Debian packages: ${missing[*]}"
	local sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >/dev/null
}

# The packages every job needs: the cross compiler, kernel build
# dependencies, QEMU and the base source.
BUILD_PACKAGES=(gcc-powerpc64le-linux-gnu libc6-dev-ppc64el-cross
	gcc libc6-dev make flex bison bc libssl-dev libelf-dev ccache cpio
	xz-utils gzip git python3 perl rsync)

# Private apt configuration (gitignored $APT_DIR): packages of other
# Debian suites (the base's suite, for instance trixie-backports) are
# downloaded through a sources list of our own, next to the machine's apt
# configuration, never by editing it. The mirror is the one the machine's
# own Debian sources use (read from apt, never written here).
APT_DIR=${APT_DIR:-$TOP/.apt}

# apt_mirror: the URI of the machine's Debian archive (the one that serves
# its own release), from apt's configured index targets.
apt_mirror() {
	local codename uri
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	uri=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null |
		awk -v c="$codename" '$2 == c { print $1; exit }')
	[ -n "$uri" ] || die "no apt source of this machine serves its release '$codename': cannot tell which Debian mirror to use"
	printf '%s\n' "${uri%/}"
}

# papt SUITE ARGS...: apt-get with a private configuration for SUITE (its
# own sources list, lists, cache and an empty status file).
# (SUITE may carry an architecture: "bookworm:ppc64el".)
papt_opts() {
	local d=$APT_DIR/${1/:/-}
	printf '%s\n' -o "Dir::Etc::sourcelist=$d/sources.list" \
		-o Dir::Etc::sourceparts=/nonexistent \
		-o "Dir::State::Lists=$d/lists" -o "Dir::Cache=$d/cache" \
		-o "Dir::State::status=$d/status" -o APT::Sandbox::User=root
	case $1 in *:*) printf '%s\n' -o "APT::Architectures::=${1#*:}" ;; esac
}
papt_setup() {
	local suite=${1%%:*} d=$APT_DIR/${1/:/-} mirror
	mirror=$(apt_mirror)
	mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
	: > "$d/status"
	printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
		"$mirror" "$suite" > "$d/sources.list"
	mapfile -t _o < <(papt_opts "$1")
	apt-get "${_o[@]}" -qq update || die "apt-get update of $1 (private configuration in $d) failed"
}

# apt_served HINT PACKAGE VERSION SUITE APT-OPTION...: fail unless the
# apt configuration of the options lists PACKAGE=VERSION, naming the
# newest version SUITE serves and HINT (what to bump).
apt_served() {
	local hint=$1 pkg=$2 ver=$3 suite=$4 newest
	shift 4
	apt-cache "$@" madison "$pkg" |
		awk -F' *[|] *' -v v="$ver" '$2 == v { f = 1 } END { exit !f }' &&
		return 0
	newest=$(apt-cache "$@" madison "$pkg" |
		awk -F' *[|] *' -v s="$suite" '$3 ~ s { print $2; exit }')
	die "$pkg $ver is no longer served by $suite (newest served: ${newest:-none}); $hint"
}

# papt_fetch SUITE PACKAGE VERSION DIR: download PACKAGE=VERSION from SUITE
# into DIR and unpack it there (dpkg-deb -x: no maintainer scripts, the
# machine's package database is not touched). When the archive no longer
# serves VERSION, fail naming it and the newest version that is served.
papt_fetch() {
	local suite=$1 pkg=$2 ver=$3 dir=$4
	case $suite in *:*) pkg=$pkg:${suite#*:} ;; esac
	papt_setup "$suite"
	mapfile -t _o < <(papt_opts "$suite")
	apt_served "bump the version (and its sha256) in base/pin" \
		"$pkg" "$ver" "${suite%%:*}" "${_o[@]}"
	rm -rf "$dir"
	mkdir -p "$dir"
	(cd "$dir" && apt-get "${_o[@]}" -qq download "$pkg=$ver") ||
		die "downloading $pkg=$ver from ${suite%%:*} failed"
	dpkg-deb -x "$dir"/*.deb "$dir" && rm -f "$dir"/*.deb
}

# need_qemu: install the pinned QEMU (base/pin: QEMU_*) unless it is the
# one installed. It comes from another suite of the machine's release
# (bookworm-backports), through a private apt configuration in
# $APT_DIR/QEMU_SUITE-install: a sources list of the machine's own suites
# (as apt's index targets name them) plus QEMU_SUITE on the machine's
# mirror, lists and cache of its own, and the machine's real package
# database, so that dpkg installs it like any Debian package.
need_qemu() {
	local have d=$APT_DIR/$QEMU_SUITE-install mirror sudo=""
	have=$(dpkg-query -W -f='${Version}' "$QEMU_PACKAGE" 2>/dev/null || true)
	[ "$have" = "$QEMU_VERSION" ] && return 0
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	log "installing $QEMU_PACKAGE=$QEMU_VERSION from $QEMU_SUITE (installed: ${have:-none})"
	mirror=$(apt_mirror)
	mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
	{
		apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' |
			sort -u | awk 'NF == 3 { k = $1 " " $2; if (!(k in c)) o[n++] = k; c[k] = c[k] " " $3 }
				END { for (i = 0; i < n; i++)
					printf "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s%s\n", o[i], c[o[i]] }'
		printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
			"$mirror" "$QEMU_SUITE"
	} > "$d/sources.list"
	local o=(-o "Dir::Etc::sourcelist=$d/sources.list"
		-o Dir::Etc::sourceparts=/nonexistent
		-o "Dir::State::Lists=$d/lists" -o "Dir::Cache=$d/cache")
	$sudo apt-get "${o[@]}" -qq update ||
		die "apt-get update with the private configuration in $d failed"
	apt_served "bump QEMU_VERSION in base/pin" "$QEMU_PACKAGE" \
		"$QEMU_VERSION" "$QEMU_SUITE" "${o[@]}"
	DEBIAN_FRONTEND=noninteractive $sudo apt-get "${o[@]}" install -y -qq \
		--no-install-recommends -t "$QEMU_SUITE" \
		"$QEMU_PACKAGE=$QEMU_VERSION" >/dev/null ||
		die "installing $QEMU_PACKAGE=$QEMU_VERSION from $QEMU_SUITE failed"
}

# need_target_libs: the ppc64el libraries the selftests link statically
# (7.3's iommufd selftest uses libcap), unpacked from the machine's own
# release into a sysroot of our own ($PPC_SYSROOT), never installed.
PPC_SYSROOT=$APT_DIR/ppc64el-sysroot
TARGET_LIBS=(libcap-dev)
need_target_libs() {
	local codename stamp=$PPC_SYSROOT/.fetched pkg
	[ -f "$stamp" ] && [ "$(cat "$stamp")" = "${TARGET_LIBS[*]}" ] && return 0
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	papt_setup "$codename:ppc64el"
	mapfile -t _o < <(papt_opts "$codename:ppc64el")
	rm -rf "$PPC_SYSROOT"
	mkdir -p "$PPC_SYSROOT/debs"
	for pkg in "${TARGET_LIBS[@]}"; do
		(cd "$PPC_SYSROOT/debs" && apt-get "${_o[@]}" -qq download "$pkg:ppc64el") ||
			die "downloading $pkg:ppc64el from $codename failed"
	done
	for pkg in "$PPC_SYSROOT"/debs/*.deb; do
		dpkg-deb -x "$pkg" "$PPC_SYSROOT"
	done
	echo "${TARGET_LIBS[*]}" > "$stamp"
}

# need_debian_config: prints the path of Debian's ppc64el kernel config
# (base/pin: DEBIAN_CONFIG_*), downloading the package if needed.
need_debian_config() {
	local dir=$APT_DIR/debian-config
	if [ ! -f "$dir/$DEBIAN_CONFIG_FILE" ] ||
	   [ "$(cat "$dir/.version" 2>/dev/null)" != "$DEBIAN_CONFIG_VERSION" ]; then
		papt_fetch "$DEBIAN_CONFIG_SUITE" "$DEBIAN_CONFIG_PACKAGE" \
			"$DEBIAN_CONFIG_VERSION" "$dir" >&2
		[ -f "$dir/$DEBIAN_CONFIG_FILE" ] ||
			die "$DEBIAN_CONFIG_FILE missing from $DEBIAN_CONFIG_PACKAGE $DEBIAN_CONFIG_VERSION"
		echo "$DEBIAN_CONFIG_VERSION" > "$dir/.version"
	fi
	printf '%s\n' "$dir/$DEBIAN_CONFIG_FILE"
}

# need_base: make sure the pinned base tarball is here (downloading the
# pinned source package if it is not) and has the pinned sha256.
need_base() {
	need_packages "${BUILD_PACKAGES[@]}"
	if [ ! -f "$TARBALL" ] ||
	   [ "$(sha256sum "$TARBALL" | cut -d' ' -f1)" != "$SHA256" ]; then
		log "downloading $PACKAGE=$VERSION from $SUITE"
		papt_fetch "$SUITE" "$PACKAGE" "$VERSION" "$APT_DIR/base"
	fi
	[ -f "$TARBALL" ] || die "$TARBALL missing after unpacking $PACKAGE=$VERSION"
	local sum
	sum=$(sha256sum "$TARBALL" | cut -d' ' -f1)
	[ "$sum" = "$SHA256" ] ||
		die "$TARBALL has sha256 $sum, but base/pin pins $SHA256 ($PACKAGE=$VERSION)"
}

# Apply order of the series: every numbered patch but the cover letter.
series_patches() {
	find "$SERIES" -maxdepth 1 -name '[0-9][0-9][0-9][0-9]-*.patch' \
		! -name '0000-cover-letter.patch' | sort
}

# format_series DIR: the work tree's commits on top of the base, as
# format-patch output (stable: zero commit ids, no signature).
format_series() {
	local out=$1
	mkdir -p "$out"
	git -C "$KTREE" format-patch -q --zero-commit --no-signature \
		--cover-letter --base="$BASE_TAG" -o "$out" "$BASE_TAG..HEAD"
}

# tree_unexported: prints what in the work tree is not in series/.
tree_unexported() {
	[ -d "$KTREE/.git" ] || return 0
	local dirty tmp f
	dirty=$(git -C "$KTREE" status --porcelain --untracked-files=normal | head -n 20)
	[ -n "$dirty" ] && printf 'uncommitted edits in %s:\n%s\n' "$KTREE" "$dirty"
	git -C "$KTREE" rev-parse -q --verify "refs/tags/$BASE_TAG" >/dev/null ||
		{ echo "no '$BASE_TAG' tag in $KTREE"; return 0; }
	tmp=$(mktemp -d)
	format_series "$tmp"
	for f in "$tmp"/*.patch; do
		[ "$(basename "$f")" = 0000-cover-letter.patch ] && continue
		cmp -s "$f" "$SERIES/$(basename "$f")" ||
			echo "commit not exported: $(basename "$f")"
	done
	rm -rf "$tmp"
}
