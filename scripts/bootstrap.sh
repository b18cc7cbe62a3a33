#!/usr/bin/env bash
# scripts/bootstrap.sh — make the pinned Zig and Deno available in .tools/bin/.
#
#   scripts/bootstrap.sh      install what is missing, link it into .tools/bin/
#   . scripts/bootstrap.sh    the same, then PATH starts with .tools/bin (for the other scripts)
#
# Silent when there is nothing to do; progress and errors go to stderr.
#
# Versions come from scripts/versions.env (the only place that names them).
# Toolchains live in a cache outside the repository, so every fresh clone reuses them:
#   ${LMM_CACHE:-~/.cache/lmm}/zig-<ver>/ziglang/zig        PyPI `ziglang==<ver>` (pip --target)
#   ${LMM_CACHE:-~/.cache/lmm}/deno-<ver>/node_modules/@deno/<platform>/deno
#                                                           npm `deno@<ver>` (platform package)
# A zig already on PATH is used when `zig version` equals the pin; a deno already on PATH when it
# is 2.x. Installs go into a temporary directory that is renamed into place only once complete,
# so an interrupted install is never mistaken for a finished one.

_lmm_say() { printf 'bootstrap: %s\n' "$*" >&2; }
_lmm_fail() {
	printf 'bootstrap: error: %s\n' "$*" >&2
	return 1
}

# Print the first executable named $1 on PATH, skipping the repo's own .tools/bin.
_lmm_on_path() {
	local dir dirs
	IFS=: read -r -a dirs <<<"$PATH"
	for dir in "${dirs[@]}"; do
		[[ -z $dir || $dir == "$_lmm_bin" ]] && continue
		if [[ -f $dir/$1 && -x $dir/$1 ]]; then
			printf '%s\n' "$dir/$1"
			return 0
		fi
	done
	return 1
}

# Rename a finished temporary install ($1) into place ($2). A stale, incomplete $2 is replaced;
# if another process finished first, its copy is kept.
_lmm_commit() {
	local tmp=$1 dest=$2
	if [[ -e $dest ]]; then
		mv -T "$dest" "$tmp.stale" 2>/dev/null && rm -rf "$tmp.stale"
	fi
	if ! mv -T "$tmp" "$dest" 2>/dev/null; then
		rm -rf "$tmp"
		[[ -d $dest ]] || _lmm_fail "could not move the install into $dest"
	fi
}

# Make and print a fresh temporary folder for installing $1 (e.g. zig-0.14.1) in the cache,
# after removing what interrupted installs of it left behind (folders older than an hour).
_lmm_stage() {
	local tmp
	mkdir -p "$_lmm_cache" || { _lmm_fail "cannot create $_lmm_cache"; return 1; }
	find "$_lmm_cache" -mindepth 1 -maxdepth 1 -name ".$1.*" -mmin +60 -exec rm -rf {} + 2>/dev/null
	tmp=$(mktemp -d "$_lmm_cache/.$1.XXXXXX") || return 1
	chmod 755 "$tmp"
	printf '%s\n' "$tmp"
}

# Run an installer command quietly; on failure show its output and clean up.
_lmm_run_install() {
	local tmp=$1 what=$2
	shift 2
	if ! "$@" >"$tmp.log" 2>&1; then
		cat "$tmp.log" >&2
		rm -rf "$tmp" "$tmp.log"
		_lmm_fail "installing $what failed (command: $*)"
		return 1
	fi
	rm -f "$tmp.log"
}

_lmm_install_zig() {
	local ver=$1 dest=$2 py tmp got
	py=$(command -v python3) || py=$(command -v python) ||
		{ _lmm_fail "Zig $ver is installed with pip, but no python3 is on PATH"; return 1; }
	"$py" -m pip --version >/dev/null 2>&1 ||
		{ _lmm_fail "Zig $ver is installed with pip, but '$py -m pip' does not work"; return 1; }
	tmp=$(_lmm_stage "zig-$ver") || return 1
	_lmm_say "installing Zig $ver (PyPI ziglang==$ver) into $dest"
	_lmm_run_install "$tmp" "Zig $ver" env PIP_ROOT_USER_ACTION=ignore \
		"$py" -m pip install --quiet --no-input --disable-pip-version-check \
		--no-warn-script-location --no-compile --target "$tmp" "ziglang==$ver" || return 1
	chmod +x "$tmp/ziglang/zig" 2>/dev/null
	got=$("$tmp/ziglang/zig" version 2>/dev/null)
	if [[ $got != "$ver" ]]; then
		rm -rf "$tmp"
		_lmm_fail "the installed zig reports version '${got:-nothing}', expected $ver"
		return 1
	fi
	_lmm_commit "$tmp" "$dest"
}

_lmm_install_deno() {
	local ver=$1 dest=$2 platform=$3 tmp got
	command -v npm >/dev/null 2>&1 ||
		{ _lmm_fail "Deno $ver is installed with npm, but npm is not on PATH"; return 1; }
	tmp=$(_lmm_stage "deno-$ver") || return 1
	_lmm_say "installing Deno $ver (npm deno@$ver) into $dest"
	# The platform package carries the binary; the wrapper's postinstall script is not needed.
	_lmm_run_install "$tmp" "Deno $ver" npm install --prefix "$tmp" --no-audit --no-fund \
		--no-update-notifier --save-exact --include=optional --ignore-scripts \
		--loglevel=error "deno@$ver" || return 1
	chmod +x "$tmp/node_modules/@deno/$platform/deno" 2>/dev/null
	got=$("$tmp/node_modules/@deno/$platform/deno" --version 2>/dev/null)
	if [[ $got != "deno $ver "* ]]; then
		rm -rf "$tmp"
		_lmm_fail "the installed deno reports '${got%%$'\n'*}', expected deno $ver"
		return 1
	fi
	_lmm_commit "$tmp" "$dest"
}

# Point .tools/bin/$1 at $2 unless it already does.
_lmm_link() {
	if [[ $(readlink "$_lmm_bin/$1" 2>/dev/null) != "$2" ]]; then
		ln -sfn "$2" "$_lmm_bin/$1" || { _lmm_fail "cannot link $_lmm_bin/$1"; return 1; }
	fi
}

_lmm_bootstrap() {
	local root ZIG_VERSION DENO_VERSION zig deno dir platform
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P) || return 1
	_lmm_bin=$root/.tools/bin
	_lmm_cache=${LMM_CACHE:-$HOME/.cache/lmm}
	# shellcheck source=scripts/versions.env
	. "$root/scripts/versions.env" || { _lmm_fail "cannot read scripts/versions.env"; return 1; }
	[[ -n ${ZIG_VERSION:-} && -n ${DENO_VERSION:-} ]] ||
		{ _lmm_fail "scripts/versions.env must set ZIG_VERSION and DENO_VERSION"; return 1; }

	# Zig: the exact pin, from PATH or the cache.
	zig=$(_lmm_on_path zig) && [[ $("$zig" version 2>/dev/null) == "$ZIG_VERSION" ]] || zig=
	if [[ -z $zig ]]; then
		dir=$_lmm_cache/zig-$ZIG_VERSION
		zig=$dir/ziglang/zig
		[[ -x $zig ]] || _lmm_install_zig "$ZIG_VERSION" "$dir" || return 1
	fi

	# Deno: any 2.x from PATH, else the pin from the cache.
	deno=$(_lmm_on_path deno) && [[ $("$deno" --version 2>/dev/null) == "deno 2."* ]] || deno=
	if [[ -z $deno ]]; then
		case $(uname -s)-$(uname -m) in
		Linux-x86_64) platform=linux-x64-glibc ;;
		Linux-aarch64 | Linux-arm64) platform=linux-arm64-glibc ;;
		*) _lmm_fail "no Deno package for $(uname -s) $(uname -m); install Deno 2.x on PATH" ;
			return 1 ;;
		esac
		dir=$_lmm_cache/deno-$DENO_VERSION
		deno=$dir/node_modules/@deno/$platform/deno
		[[ -x $deno ]] || _lmm_install_deno "$DENO_VERSION" "$dir" "$platform" || return 1
	fi

	mkdir -p "$_lmm_bin" || { _lmm_fail "cannot create $_lmm_bin"; return 1; }
	# Link to the real files, not to other symlinks (e.g. another clone's .tools/bin on PATH).
	_lmm_link zig "$(readlink -f "$zig")" && _lmm_link deno "$(readlink -f "$deno")"
}

_lmm_cleanup() {
	unset -f _lmm_say _lmm_fail _lmm_on_path _lmm_commit _lmm_stage _lmm_run_install _lmm_install_zig \
		_lmm_install_deno _lmm_link _lmm_bootstrap _lmm_cleanup
	unset _lmm_bin _lmm_cache
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	# Run as a program.
	set -uo pipefail
	_lmm_bootstrap
	exit $?
fi

# Sourced: put .tools/bin first on PATH (once) and keep the caller's shell options untouched.
if _lmm_bootstrap; then
	case ":$PATH:" in
	":$_lmm_bin:"*) ;;
	*) PATH=$_lmm_bin:$PATH ;;
	esac
	export PATH
	export DENO_NO_UPDATE_CHECK=1
	_lmm_cleanup
	true
else
	_lmm_cleanup
	return 1
fi
