#!/usr/bin/env bash
# One prepared run for a lent GPU machine (the `device` tool's H200). Its python3 already holds
# torch, numpy, scipy, opencv-headless, pillow and scikit-image, and the pure cores need nothing
# else, so nothing is installed. It measures on CUDA what the 2-core machines cannot (capture,
# upscale and texture speed, the goals' "GPU" figures), then fine-tunes the x4 PSNR model on the
# rest of the time. Everything lands under $OUT (log.txt, capture.json, superres.json,
# train_log.jsonl, x4_psnr.pt: within the tool's 8 files back). Call it as
#     run(command="bash bench/gpu_session.sh", timeout_s=590)
# Each section is time-boxed, so the whole run ends inside one call (~9 min). QUICK=1 shrinks every
# section to try the script on a CPU machine: QUICK=1 OUT=/tmp/gpu_try bash bench/gpu_session.sh
set -u -o pipefail
OUT=${OUT:-/tmp/gpu_session}
mkdir -p "$OUT"
PY=${PY:-python3}
QUICK=${QUICK:-0}
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
LOG=$OUT/log.txt

log() { echo "== $(date +%T) $*" | tee -a "$LOG"; }
# section NAME SECONDS COMMAND...: run with a time limit, all output to the log.
section() {
    local name=$1 limit=$2
    shift 2
    log "$name (limit ${limit} s): $*"
    timeout "$limit" "$@" >>"$LOG" 2>&1
    log "$name exit $?"
}

if [ "$QUICK" = 1 ]; then
    CAPTURE=(--size 512x384 --period 64 --materials tiles --conditions hard)
    SR=(--scales 4 --size 64 --no-real --no-speed)
    TEX=(--textures stones --exemplar 64 --size 128 --seeds 1)
    TRAIN=(--psnr-steps 3 --corpus-count 8 --real-repeat 0)
    LIMIT=300
else
    CAPTURE=(--materials tiles,leather --conditions clean,hard)
    SR=(--scales 2 4)
    TEX=(--textures bricks,wood,photo:gravel)
    TRAIN=(--psnr-minutes 2.5 --batch 32 --bf16 --warmup-steps 200 --lr 1e-4)
    LIMIT=1
fi

log "start; OUT=$OUT QUICK=$QUICK"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv >>"$LOG" 2>&1
$PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" >>"$LOG" 2>&1
section capture $((QUICK == 1 ? LIMIT : 170)) $PY bench/capture.py "${CAPTURE[@]}" --json "$OUT/capture.json"
section superres $((QUICK == 1 ? LIMIT : 120)) $PY bench/superres.py "${SR[@]}" --json "$OUT/superres.json"
section textures $((QUICK == 1 ? LIMIT : 60)) $PY bench/textures.py "${TEX[@]}"
section train_x4 $((QUICK == 1 ? LIMIT : 200)) $PY -m superres.train --scale 4 --init superres/weights/x4_psnr.pt \
    "${TRAIN[@]}" --out-dir "$OUT" --work-dir "$OUT/work"
cp "$OUT/work/log.jsonl" "$OUT/train_log.jsonl" 2>/dev/null
rm -rf "$OUT/work"  # checkpoints: too many files to come back, and x4_psnr.pt holds the best
log "done"
