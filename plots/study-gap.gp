# plots/study-gap.gp: (g) the ResBM loss gap of a study against the bottleneck width k
# (left) and the compression ratio d_model / k (right), one colour per model width:
# solid with error bars = final validation-loss gap to the uncompressed run of the same
# seed (mean over seeds, 95% Student-t interval), dashed = the training-loss gap.
# Variables: prefix (data path up to -gap-d<S>.csv), widths (the series S, space-separated:
# a model width, or W-hH for a fixed ResBM hidden width H), labels (one per series), title.
if (!exists("scriptdir")) scriptdir = 'plots'
nw = words(widths)
width = 1500
height = 650
load scriptdir.'/common.gp'
g(w) = prefix.'-gap-d'.word(widths, w).'.csv'
lab(w) = exists("labels") ? word(labels, w) : 'd'.word(widths, w)
set multiplot layout 1, 2 title 'ResBM loss gap '.title.' (error bars: 95% interval over seeds, paired by seed)' font ',13'
set logscale x 2
set ylabel 'loss gap to uncompressed (nats/token)'
set key top right
set xzeroaxis lt 1 lc rgb '#888888' lw 1
set xlabel 'bottleneck width k (channels crossing the boundary)'
set title 'gap vs k'
set offsets graph 0.05, graph 0.05, 0, 0
plot for [w=1:nw] g(w) using 'k':'val_gap':'val_gap_ci' with yerrorlines lw 2 pt 7 lc w title lab(w).' validation', \
     for [w=1:nw] g(w) using 'k':'gap' with linespoints dt 2 lw 1.5 pt 6 lc w title lab(w).' training'
set xlabel 'compression ratio d_model / k'
set title 'gap vs ratio'
plot for [w=1:nw] g(w) using 'ratio':'val_gap':'val_gap_ci' with yerrorlines lw 2 pt 7 lc w title lab(w).' validation', \
     for [w=1:nw] g(w) using 'ratio':'gap' with linespoints dt 2 lw 1.5 pt 6 lc w title lab(w).' training'
unset multiplot
