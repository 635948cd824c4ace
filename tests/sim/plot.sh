#!/bin/sh
# Renders the simulator's plots: one PNG per scenario from the CSV files and
# gnuplot scripts that partd-sim wrote into SIMDIR.
#   tests/sim/plot.sh SIMDIR OUTDIR
# Needs gnuplot with the pngcairo terminal (Debian: gnuplot-nox).
set -eu
simdir=${1:?usage: plot.sh SIMDIR OUTDIR}
outdir=${2:?usage: plot.sh SIMDIR OUTDIR}
if ! command -v gnuplot >/dev/null 2>&1; then
    echo "plot.sh: gnuplot not found (Debian: apt-get install gnuplot-nox)" >&2
    exit 1
fi
mkdir -p "$outdir"
for gp in "$simdir"/*.gp; do
    [ -e "$gp" ] || { echo "plot.sh: no gnuplot script in $simdir (run partd-sim first)" >&2; exit 1; }
    gnuplot -e "datadir='$simdir'; outdir='$outdir'" "$gp"
    echo "$outdir/$(basename "$gp" .gp).png"
done
