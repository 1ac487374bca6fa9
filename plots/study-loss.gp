# plots/study-loss.gp: (g) a study's loss curves with their 95% bands: training loss (top
# row, mean over replicas per inner step) and validation loss (bottom row, after every
# cycle), one column per model width, one colour per boundary; line = mean over the
# seeds, band = mean -+ half-width of the Student-t 95% interval.
# Variables: prefix (data path up to -d<W>-b<j>-{train,val}.csv), widths (space-separated),
#   labels (space-separated boundaries, in file order j = 1..), title.
if (!exists("scriptdir")) scriptdir = 'plots'
nw = words(widths)
nb = words(labels)
width = 200 + 520 * nw
height = 900
load scriptdir.'/common.gp'
f(w, j, kind) = prefix.'-d'.word(widths, w).'-b'.j.'-'.kind.'.csv'
set multiplot layout 2, nw title 'Loss study '.title.': mean over seeds, band = 95% interval' font ',13'
set style fill transparent solid 0.2 noborder
set xlabel 'tokens trained (millions; mean over the seeds at each inner step)'
set ylabel 'training loss (nats/token)'
set key top right
do for [w=1:nw] {
    set title 'd_model '.word(widths, w).' (training)'
    plot for [j=1:nb] f(w, j, 'train') using 'mtokens':'lo':'hi' with filledcurves lc j, \
         for [j=1:nb] f(w, j, 'train') using 'mtokens':'mean' with lines lw 2 lc j title word(labels, j)
}
set ylabel 'validation loss (nats/token)'
do for [w=1:nw] {
    set title 'd_model '.word(widths, w).' (validation, after each cycle)'
    plot for [j=1:nb] f(w, j, 'val') using 'mtokens':'lo':'hi' with filledcurves lc j, \
         for [j=1:nb] f(w, j, 'val') using 'mtokens':'mean' with linespoints lw 2 pt 7 lc j title word(labels, j)
}
unset multiplot
