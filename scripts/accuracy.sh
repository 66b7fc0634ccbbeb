#!/usr/bin/env bash
# The accuracy figures of the README ("Accuracy over seeds"): trains the samples' default recipes
# over several seeds and prints, per recipe, mean ± standard deviation, min, max, the time per run
# and the CPU they ran on.
#
#   scripts/accuracy.sh [--out DIR] [--only PARTS] [--threads N] [--seeds "0 1 2 3 4"]
#
# PARTS (comma-separated, default all, in this order):
#   cnn        fmnist_cnn, every seed (--threads N, default 2), weights kept for the ensemble
#   mlp        fmnist_mlp, every seed
#   ensemble   the cnn runs' models combined (fmnist_cnn_ensemble): members, mean, ensemble
#   snapshots  one fmnist_cnn_snapshots run (seed 0): snapshot ensemble against its last snapshot
#   tour       the regularizer tour (samples/regularizer_tour), seeds 0-2, one thread
#   peer       time to 93 % test accuracy, fmnist_cnn against the same recipe in PyTorch
#              (scripts/peer_fmnist_cnn.py, needs python3-torch), seed 0, one run each
#
# Resumable: every finished run appends one line to DIR/results.tsv and is skipped when the
# script runs again; a cnn run stopped half-way continues from its last epoch's checkpoint. The
# summary (DIR/summary.md, also printed) is made from results.tsv alone, so it can be re-made
# with `--only summary`. Runs are niced (19: the machine may be shared, and accuracy does not
# depend on load) and run one at a time. Wall times on a loaded machine say little: the summary
# also gives CPU s / threads, the time a run would take on idle cores if its threads scaled
# perfectly (a lower bound of the idle wall time). Builds what it needs first (build/release).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/accuracy"
only="cnn,mlp,ensemble,snapshots,tour,peer"
threads=2
seeds="0 1 2 3 4"
tour_seeds="0 1 2"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --seeds) seeds="$2"; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "error: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$threads" =~ ^[1-9][0-9]*$ ]] || { echo "error: --threads: a positive count, got $threads" >&2; exit 2; }
for s in $seeds; do
  [[ "$s" =~ ^[0-9]+$ ]] || { echo "error: --seeds: non-negative integers, got '$s'" >&2; exit 2; }
done
for p in ${only//,/ }; do
  case "$p" in cnn|mlp|ensemble|snapshots|tour|peer|summary) ;;
    *) echo "error: --only: unknown part '$p' (cnn mlp ensemble snapshots tour peer summary)" >&2
       exit 2 ;;
  esac
done
wants() { [[ ",$only," == *",$1,"* ]]; }
mkdir -p "$out"
results="$out/results.tsv"
[[ -f "$results" ]] || printf 'part\trecipe\tseed\taccuracy\twall_s\tcpu_s\tload\textra\n' >"$results"
bin="$root/build/release/samples"

cpu_name() {
  local name
  name=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
  # The family tells AMD's generations apart when the name does not (25: Zen 3/4, 26: Zen 5).
  name="$name (family $(sed -n 's/^cpu family[[:space:]]*: //p' /proc/cpuinfo | head -1))"
  local isa="AVX2"
  grep -qw avx512f /proc/cpuinfo && isa="AVX-512"
  echo "$name, $(nproc) cores, $isa${OPENBLAS_CORETYPE:+, OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE}"
}
load1() { cut -d' ' -f1 /proc/loadavg; }
done_already() { awk -F'\t' -v p="$1" -v r="$2" -v s="$3" \
  '$1 == p && $2 == r && $3 == s { f = 1 } END { exit !f }' "$results"; }
# record PART RECIPE SEED ACCURACY WALL CPU LOAD EXTRA
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$results"; }
# The value of `key=` on the program's stdout (the last such line).
value() { sed -n "s/^$1=\\([0-9.]*\\).*/\\1/p" "$2" | tail -1; }

# run PART RECIPE SEED DIR COMMAND...: runs COMMAND niced, stdout/stderr into DIR, time and load
# around it into DIR/time; returns with $wall, $cpu and $load set.
run() {
  local part="$1" recipe="$2" seed="$3" dir="$4"
  shift 4
  mkdir -p "$dir"
  local before
  before=$(load1)
  echo "accuracy: $part $recipe seed $seed (load $before) ..." >&2
  /usr/bin/time -f '%e %U %S' -o "$dir/time" nice -n 19 "$@" >"$dir/stdout" 2>"$dir/stderr" || {
    echo "error: $part $recipe seed $seed failed; see $dir/stderr" >&2
    tail -3 "$dir/stderr" >&2
    exit 1
  }
  read -r wall user sys <"$dir/time"
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.1f", u + s }')
  load=$(awk -v a="$before" -v b="$(load1)" 'BEGIN { printf "%.2f", (a + b) / 2 }')
}

# A kiln_add_trainer sample over the seeds: weights and metrics.csv kept in DIR/<part>/seed<k>;
# a run interrupted after an epoch resumes from its checkpoint (its wall time is then that of
# the resumed part, marked resumed=1).
trainer_seeds() {
  local part="$1" program="$2"
  for s in $seeds; do
    done_already "$part" "$program" "$s" && continue
    local dir="$out/$part/seed$s" resume=() extra=""
    rm -f "$dir/model.safetensors"
    if [[ -f "$dir/checkpoint.safetensors" ]]; then
      resume=(--resume "$dir/checkpoint.safetensors")
      extra="resumed=1;"
    fi
    run "$part" "$program" "$s" "$dir" "$bin/$program" --seed "$s" --threads "$threads" \
      --out "$dir" --quiet "${resume[@]}"
    local acc
    acc=$(value test_accuracy "$dir/stdout")
    [[ -n "$acc" && -f "$dir/model.safetensors" ]] || { echo "error: no result in $dir" >&2; exit 1; }
    record "$part" "$program" "$s" "$acc" "$wall" "$cpu" "$load" "${extra}threads=$threads"
  done
}

targets=()
wants cnn && targets+=(fmnist_cnn)
wants mlp && targets+=(fmnist_mlp)
wants ensemble && targets+=(fmnist_cnn_ensemble)
wants snapshots && targets+=(fmnist_cnn_snapshots)
wants tour && targets+=(regularizer_tour)
wants peer && targets+=(fmnist_cnn)
if [[ ${#targets[@]} -gt 0 ]]; then
  # A user's build: every Highway target (scripts/test.sh may have narrowed the samples').
  cmake --preset release -S "$root" -DKILN_SAMPLE_TARGETS= >/dev/null
  cmake --build "$root/build/release" --target "${targets[@]}" >&2
fi

wants cnn && trainer_seeds cnn fmnist_cnn
wants mlp && trainer_seeds mlp fmnist_mlp

if wants ensemble && ! done_already ensemble fmnist_cnn_ensemble "$(echo $seeds | tr ' ' ,)"; then
  files=()
  for s in $seeds; do
    f="$out/cnn/seed$s/model.safetensors"
    [[ -f "$f" ]] || { echo "error: ensemble: $f missing (run --only cnn first)" >&2; exit 1; }
    files+=("$f")
  done
  dir="$out/ensemble"
  run ensemble fmnist_cnn_ensemble all "$dir" "$bin/fmnist_cnn_ensemble" --threads "$threads" \
    "${files[@]}"
  record ensemble fmnist_cnn_ensemble "$(echo $seeds | tr ' ' ,)" \
    "$(value test_accuracy "$dir/stdout")" "$wall" "$cpu" "$load" \
    "mean_member=$(value mean_member_test_accuracy "$dir/stdout");vote=$(value vote_test_accuracy "$dir/stdout");unanimous=$(value unanimous "$dir/stdout");any_member=$(value any_member_test_accuracy "$dir/stdout");members_right=$(value members_right "$dir/stdout" | tr , /)"
fi

if wants snapshots && ! done_already snapshots fmnist_cnn_snapshots 0; then
  dir="$out/snapshots/seed0"
  run snapshots fmnist_cnn_snapshots 0 "$dir" "$bin/fmnist_cnn_snapshots" --seed 0 \
    --threads "$threads" --out "$dir" --quiet
  record snapshots fmnist_cnn_snapshots 0 "$(value snapshot_ensemble_test_accuracy "$dir/stdout")" \
    "$wall" "$cpu" "$load" "last_snapshot=$(value test_accuracy "$dir/stdout");threads=$threads"
fi

if wants tour; then
  for s in $tour_seeds; do
    done_already tour none "$s" && continue
    dir="$out/tour/seed$s"
    run tour regularizer_tour "$s" "$dir" "$bin/regularizer_tour" --seed "$s" --out "$dir"
    # Rows of tour.md: | name | what | train acc | test acc | gap | CPU s / epoch |
    awk -F'|' -v s="$s" -v w="$wall" -v c="$cpu" -v l="$load" 'NR > 2 && NF > 6 {
        gsub(/[ %]/, "", $2); gsub(/[ %]/, "", $4); gsub(/[ %]/, "", $5); gsub(/ /, "", $7)
        printf "tour\t%s\t%s\t%.4f\t%s\t%s\t%s\ttrain=%.4f;cpu_s_per_epoch=%s\n",
               $2, s, $5 / 100, w, c, l, $4 / 100, $7 }' "$dir/tour.md" >>"$results"
  done
fi

if wants peer && ! done_already peer time_to_93 0; then
  dir="$out/peer"
  # kiln and PyTorch one after the other, the same recipe, seed 0, $threads threads each.
  run peer kiln 0 "$dir/kiln" "$bin/fmnist_cnn" --seed 0 --threads "$threads" --out "$dir/kiln" \
    --quiet
  kiln_wall="$wall" kiln_load="$load"
  run peer torch 0 "$dir/torch" /usr/bin/python3 "$root/scripts/peer_fmnist_cnn.py" --seed 0 \
    --threads "$threads" --out "$dir/torch/metrics.csv"
  torch_wall="$wall" torch_load="$load"
  # Seconds of training (the epochs' training loops, evaluation left out) until the first epoch
  # whose test accuracy reaches 93 %, from each side's metrics.csv (same columns).
  # A run that never reaches it gives nan (and so does the ratio).
  to93() { awk -F, 'NR > 1 { t += $7; if ($6 >= 0.93) { printf "%.1f %d %.4f", t, $1, $6; hit = 1; exit } }
                    END { if (!hit) print "nan - -" }' "$1"; }
  read -r k_s k_epoch k_acc <<<"$(to93 "$dir/kiln/metrics.csv")"
  read -r t_s t_epoch t_acc <<<"$(to93 "$dir/torch/metrics.csv")"
  ratio=$(awk -v k="$k_s" -v t="$t_s" 'BEGIN { if (k == "nan" || t == "nan") print "nan"; else printf "%.3f", k / t }')
  record peer time_to_93 0 "$ratio" "$kiln_wall" "-" "$kiln_load" \
    "kiln_s=$k_s;kiln_epoch=$k_epoch;torch_s=$t_s;torch_epoch=$t_epoch;torch_wall=$torch_wall;torch_load=$torch_load;kiln_final=$(value test_accuracy "$dir/kiln/stdout");torch_final=$(value test_accuracy "$dir/torch/stdout")"
fi

# --- summary ---------------------------------------------------------------------------------
{
  echo "CPU: $(cpu_name)"
  echo
  echo "| part | recipe | runs | mean ± sd (%) | min (%) | max (%) | wall s / run | CPU s / run | CPU s / threads | load |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  awk -F'\t' 'NR > 1 && $1 != "peer" && $1 != "ensemble" && $1 != "snapshots" {
      k = $1 SUBSEP $2
      if (!(k in n)) order[++keys] = k
      th = match($8, /threads=[0-9]+/) ? substr($8, RSTART + 8, RLENGTH - 8) : 1
      n[k]++; sum[k] += $4; sq[k] += $4 * $4; wall[k] += $5; cpu[k] += $6; load[k] += $7
      idle[k] += $6 / th
      if (!(k in lo) || $4 < lo[k]) lo[k] = $4
      if (!(k in hi) || $4 > hi[k]) hi[k] = $4
    }
    END {
      for (i = 1; i <= keys; i++) {
        k = order[i]; split(k, pr, SUBSEP); m = sum[k] / n[k]
        sd = n[k] > 1 ? sqrt((sq[k] - n[k] * m * m) / (n[k] - 1)) : 0
        printf "| %s | %s | %d | %.2f ± %.2f | %.2f | %.2f | %.0f | %.0f | %.0f | %.1f |\n", pr[1],
               pr[2], n[k], 100 * m, 100 * sd, 100 * lo[k], 100 * hi[k], wall[k] / n[k],
               cpu[k] / n[k], idle[k] / n[k], load[k] / n[k]
      }
    }' "$results"
  echo
  echo "Per run (accuracy %, wall s, CPU s, load):"
  awk -F'\t' 'NR > 1 && ($1 == "cnn" || $1 == "mlp") {
      printf "- %s seed %s: %.2f %%, %.0f s, %.0f CPU s, load %.1f\n", $2, $3, 100 * $4, $5, $6, $7 }' "$results"
  awk -F'\t' 'NR > 1 && $1 == "ensemble" {
      printf "- ensemble of %s (seeds %s): %.2f %%; %s\n", "fmnist_cnn", $3, 100 * $4, $8 }
    NR > 1 && $1 == "snapshots" {
      printf "- snapshot ensemble (fmnist_cnn_snapshots, seed %s): %.2f %%; %s; %.0f s\n", $3, 100 * $4, $8, $5 }
    NR > 1 && $1 == "peer" {
      printf "- time to 93 %%, kiln / PyTorch: %s; %s\n", $4, $8 }' "$results"
} | tee "$out/summary.md"
