# shellcheck shell=bash
# Shared settings and helpers for the scripts in this directory.
# Sourced, not run.

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KTREE=${KTREE:-$TOP/linux}		# kernel work tree (git, gitignored)
BUILD=${BUILD:-$TOP/build}		# build output (gitignored)
RESULTS=${RESULTS:-$TOP/results}	# console logs, KTAP (gitignored)
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
phase_start() {
	_PHASE_NAME=$1
	_PHASE_T0=$(date +%s)
	log "phase $_PHASE_NAME"
}
phase_end() {
	local t=$(( $(date +%s) - _PHASE_T0 ))
	printf 'phase %-24s %4d s\n' "$_PHASE_NAME" "$t" >&2
	mkdir -p "$RESULTS"
	printf '%s %d\n' "$_PHASE_NAME" "$t" >> "$RESULTS/phases.txt"
}

# print_bench: the TCE hypercall figures of the last guest run, if any.
print_bench() {
	local k=$RESULTS/ktap/tce_bench.ktap
	[ -f "$k" ] || return 0
	echo "TCE hypercalls per operation (HCALL_STATS, guest/tce_bench.c):"
	sed -n 's/^# tce_bench: /  /p' "$k"
}

# print_phases T0: one line with each phase's duration and the total.
print_phases() {
	echo "phases: $(awk '{printf "%s=%ss ", $1, $2}' "$RESULTS/phases.txt")total=$(( $(date +%s) - $1 ))s"
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
	xz-utils gzip git python3 perl rsync qemu-system-ppc)

# need_base: make sure the pinned base tarball is here (installing the
# pinned source package if it is not) and has the pinned sha256.
need_base() {
	need_packages "${BUILD_PACKAGES[@]}"
	if [ ! -f "$TARBALL" ] ||
	   [ "$(sha256sum "$TARBALL" | cut -d' ' -f1)" != "$SHA256" ]; then
		local sudo=""
		[ "$(id -u)" -eq 0 ] || sudo=sudo
		log "installing $PACKAGE=$VERSION"
		$sudo apt-get update -qq
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
			--no-install-recommends --allow-downgrades \
			"$PACKAGE=$VERSION" >/dev/null ||
			die "the pinned base $PACKAGE=$VERSION is not installable here ('apt-cache policy $PACKAGE' shows what is offered); change base/pin deliberately, never silently"
	fi
	[ -f "$TARBALL" ] || die "$TARBALL missing after installing $PACKAGE=$VERSION"
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
