#!/usr/bin/env bash
# Create .venv with netfence's pinned toolchain. A second run with unchanged pins is a fast no-op.
#
# Interpreter: the newest Python >= 3.12 found (PATH or pyenv), because the current Ansible
# (ansible-core 2.21) needs it; otherwise the default python3 with the older pins it supports.
# Collections: the `ansible` package bundles kubernetes.core, so no Galaxy access is needed;
# where Galaxy is reachable, requirements.yml may still be installed on top by the user.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${NETFENCE_VENV:-.venv}

pick_python() {
  local cand ver root
  local -a cands=()
  for ver in 3.14 3.13 3.12; do
    command -v "python$ver" >/dev/null 2>&1 && cands+=("$(command -v "python$ver")")
    if command -v pyenv >/dev/null 2>&1; then
      root=$(pyenv root)
      for cand in "$root"/versions/"$ver".*/bin/python"$ver"; do
        [ -x "$cand" ] && cands+=("$cand")
      done
    fi
  done
  for cand in "${cands[@]}"; do
    # pyenv shims exist for versions that are not selected; ask the interpreter itself.
    if "$cand" -c 'import sys, venv; assert sys.version_info >= (3, 12)' >/dev/null 2>&1; then
      echo "$cand"; return 0
    fi
  done
  command -v python3
}

PY=$(pick_python)
PYVER=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)'; then
  PINS=requirements/py312.txt
else
  PINS=requirements/py311.txt
  echo "setup: no Python >= 3.12 found; falling back to $PY ($PYVER) with $PINS (ansible-core 2.19)." >&2
fi

STAMP="$VENV/.netfence-setup"
want="$PYVER $(cat "$PINS" pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -x "$VENV/bin/ansible-playbook" ]; then
  echo "setup: $VENV is up to date (Python $PYVER, $PINS)."
  exit 0
fi

echo "setup: creating $VENV with $PY (Python $PYVER) and $PINS ..."
if [ -x "$VENV/bin/python" ] && ! "$VENV/bin/python" -c "import sys; sys.exit(0 if '%d.%d' % sys.version_info[:2] == '$PYVER' else 1)"; then
  rm -rf "$VENV"
fi
"$PY" -m venv "$VENV"
pip_quiet() {
  # This machine's pip configuration names local mirrors that may be absent: hide only those warnings.
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$@" 2> >(grep -v "^WARNING: Location 'file:" >&2)
}
T0=$SECONDS
step() { echo "setup: [$1/3] $2 ($((SECONDS - T0))s so far)"; }
# What is being installed, so minutes of pip are not minutes of silence: the direct pins by name.
count=$(grep -cE '^[A-Za-z0-9]' "$PINS")
names=$(grep -oE '^[A-Za-z0-9][A-Za-z0-9._-]*==[^ ;\]+' "$PINS" | grep -iE '^(ansible|ansible-core|ansible-lint|kubernetes|molecule|jinja2|jsonschema|kubernetes-validate|pytest|hypothesis)==' | tr '\n' ' ' || true)
step 1 "installing $count pinned packages from $PINS (${names% }); a cold cache takes a few minutes"
# pip --quiet says nothing until it ends: a line every 30 s that it is still going, and how far
ticker() {
  while sleep 30; do
    installed=$(find "$VENV"/lib/python*/site-packages -maxdepth 1 -name '*.dist-info' 2>/dev/null | wc -l)
    echo "setup: [1/3] still installing: $((SECONDS - T0))s so far, $installed packages in $VENV"
  done
}
ticker &
TICKER=$!
trap 'kill "$TICKER" 2>/dev/null || true' EXIT
pip_quiet -r "$PINS"
kill "$TICKER" 2>/dev/null || true
step 2 "installing netfence itself (editable)"
# compat mode: a plain path entry in a .pth file. The default editable finder is an import hook
# that costs every netfence start ~15 ms (pathlib and friends), more than a small prediction.
pip_quiet --no-deps --config-settings editable_mode=compat -e .
step 3 "checking the Ansible collections (requirements.yml)"
# requirements.yml: satisfied by the bundled collections ("Nothing to do"); where a newer minimum
# is asked for and Galaxy is reachable, ansible-galaxy fetches it; where it is not, say so and go on
# with the bundled copies, which the checks below require anyway.
if ! timeout 120 "$VENV/bin/ansible-galaxy" collection install -r requirements.yml >"$VENV/.galaxy.log" 2>&1; then
  echo "setup: ansible-galaxy could not satisfy requirements.yml (Galaxy unreachable?); using the collections bundled with the ansible package. Details: $VENV/.galaxy.log" >&2
fi
"$VENV/bin/ansible-galaxy" collection list kubernetes.core 2>/dev/null | grep -q kubernetes.core \
  || { echo "setup: kubernetes.core is missing from the ansible package" >&2; exit 1; }
echo "$want" > "$STAMP"
echo "setup: done in $((SECONDS - T0))s. Python $PYVER ($PY), ansible-core $("$VENV/bin/python" -c 'import ansible.release as r; print(r.__version__)')."
