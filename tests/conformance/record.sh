#!/usr/bin/env bash
# Records what `kubectl kustomize` makes of conformance cases, for tests/e2e/kustomize.rs.
#
#   tests/conformance/record.sh              re-record every case already recorded
#   tests/conformance/record.sh DIR...       record these directories (making them cases)
#
# Writes DIR/expected.yaml (kubectl's stdout) when kubectl succeeds, else
# DIR/kubectl-error.txt (its stderr, with this repository's path removed). Extra kubectl
# flags come from DIR/kubectl-flags.txt. Needs kubectl (kustomize v5.5.0 as in kubectl 1.32).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
roots=(tests/conformance tests/fixtures/kustomize tests/fixtures/overlay tests/fixtures/image-tags/kustomize)

if [ $# -gt 0 ]; then
  cases=("$@")
else
  mapfile -t cases < <(find "${roots[@]}" \( -name expected.yaml -o -name kubectl-error.txt \) \
    -printf '%h\n' | sort -u)
fi

for case in "${cases[@]}"; do
  case=${case%/}
  flags=()
  if [ -f "$case/kubectl-flags.txt" ]; then
    read -ra flags < "$case/kubectl-flags.txt"
  fi
  if kubectl kustomize "${flags[@]}" "$case" > "$case/expected.yaml.new" 2> "$case/kubectl-error.txt.new"; then
    mv "$case/expected.yaml.new" "$case/expected.yaml"
    rm -f "$case/kubectl-error.txt" "$case/kubectl-error.txt.new"
    echo "recorded   $case"
  else
    sed "s|$repo/||g" "$case/kubectl-error.txt.new" > "$case/kubectl-error.txt"
    rm -f "$case/expected.yaml" "$case/expected.yaml.new" "$case/kubectl-error.txt.new"
    echo "fails      $case: $(head -c 200 "$case/kubectl-error.txt")"
  fi
done
