# Shared by the scripts in this folder: where state lives and how cargo is called.
# Sourced, not executed.

# shellcheck disable=SC2034
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Everything the scripts install or build lives outside the clone, so that fresh clones (and CI)
# reuse it: the build cache, the wasm toolchain fallback and the dev chain's database.
STATE_DIR="${CONTRACT_EQUILIBRIUM_HOME:-$HOME/.cache/contract-equilibrium}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$STATE_DIR/target}"
# The target directory is outside the clone: tell the wasm builder where Cargo.lock is, so that the
# wasm runtime is built with the locked dependency versions too.
export WASM_BUILD_WORKSPACE_HINT="$REPO_ROOT"
NODE_BIN="$CARGO_TARGET_DIR/release/equilibrium-node"

# What `scripts/setup` decided (the wasm toolchain to use), if it ran.
if [ -f "$STATE_DIR/env" ]; then
	# shellcheck source=/dev/null
	. "$STATE_DIR/env"
fi

# Rustup's cargo, even where a distribution cargo comes first in PATH.
if [ -d "$HOME/.cargo/bin" ]; then
	export PATH="$HOME/.cargo/bin:$PATH"
fi

log() {
	printf '\033[1m==> %s\033[0m\n' "$*" >&2
}

die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# Runs a command as root: directly when we are root, through sudo otherwise.
as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		die "need root to run: $* (install sudo or run as root)"
	fi
}
