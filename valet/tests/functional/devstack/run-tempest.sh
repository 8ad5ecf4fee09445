#!/usr/bin/env bash
# Run Valet's tempest tests against a running deployment.
#
#   run-tempest.sh TEMPEST_VENV SUBUNIT_OUT [tempest run options...]
#
# TEMPEST_CONFIG names the tempest.conf the deployment wrote (deploy.py
# sets it). A tempest workspace is made next to it; after the run, its
# results are written to SUBUNIT_OUT as a subunit v2 stream so that the
# caller can count them with its own (stestr load). Exits with tempest's
# status.

set -euo pipefail

TEMPEST_VENV=$(cd "$1" && pwd)
OUT=$2
shift 2
: "${TEMPEST_CONFIG:?TEMPEST_CONFIG must name the tempest.conf of the deployment}"

WORKSPACE=$(dirname "$TEMPEST_CONFIG")/tempest-workspace
rm -rf "$WORKSPACE" "$WORKSPACE.yaml"
# --workspace-path: keep tempest's registry out of the home directory.
"$TEMPEST_VENV/bin/tempest" init --workspace-path "$WORKSPACE.yaml" \
    "$WORKSPACE" >/dev/null
cp "$TEMPEST_CONFIG" "$WORKSPACE/etc/tempest.conf"
cd "$WORKSPACE"
rc=0
"$TEMPEST_VENV/bin/tempest" run --regex '^valet\.tests\.tempest\.' \
    "$@" || rc=$?
"$TEMPEST_VENV/bin/stestr" last --subunit > "$OUT" || true
exit "$rc"
