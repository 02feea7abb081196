#!/usr/bin/env bash
# The same review as desired-state-ci.yml, for any CI or a reviewer's shell:
#   examples/ci/review.sh BASE_REV HEAD_REV [REPO]
# Validates HEAD_REV, then prints the Markdown diff of every host. Exits 1 on an invalid tree.
set -euo pipefail
base=${1:?usage: review.sh BASE_REV HEAD_REV [REPO]}
head=${2:?usage: review.sh BASE_REV HEAD_REV [REPO]}
repo=${3:-.}
kaipm validate --repo "$repo" --rev "$head"
set +e
kaipm diff --repo "$repo" --from "$base" --to "$head" --all-hosts --format markdown --detailed-exitcode
status=$?
set -e
[ "$status" -ne 1 ]
