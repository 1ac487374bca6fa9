# plots/mfu.gp: (b) MFU over simulated time, with tokens/s on the right axis.
# Thin line: MFU per sampling interval (= tokens/s x FLOPs per token / peak, so the right
# axis reads the same curve in tokens/s); for long runs the driver bins the samples and
# draws instead a band spanning each bin's min..max (binned = 1, binw = its width). Thick line: MFU over the
# trailing window (the timeseries' mfu_window). Grey bands: synchronisation phases (when
# there are few enough to see). Blue band: the best sustained window.
# Variables: curve (CSV t,mfu,lo,hi,window; t in x units, MFU in %), phases (the trace's
#   phases table as CSV), shade (1: draw sync bands), title, k (tokens/s per 1 % MFU),
#   unit_ns (ns per x unit), tunit ('h' or 'min'), xmax, ymax (%), best0, best1 (x units),
#   best_mfu (%), window_h, mfu_train (%), binned (0/1), binw (text).
if (!exists("scriptdir")) scriptdir = 'plots'
load scriptdir.'/common.gp'
set style textbox opaque fc rgb '#ffffff' noborder
set title title.': MFU over time'
set xlabel 'simulated time ('.tunit.')'
set ylabel 'MFU (% of peak bf16 FLOP/s)'
set y2label 'throughput (tokens/s)'
set xrange [0:xmax]
set yrange [0:ymax]
set link y2 via y*k inverse y/k
set ytics nomirror
# tics of the linked right axis at round numbers of tokens/s
y2step = 10**floor(log10(ymax * k / 4))
if (ymax * k / y2step > 20) { y2step = 5 * y2step } else { if (ymax * k / y2step > 8) { y2step = 2 * y2step } }
set y2tics y2step
set key outside below horizontal
set object 1 rect from best0, graph 0 to best1, graph 1 fc rgb '#9ecae1' fs solid 0.35 noborder behind
if (best0 > 0.6 * xmax) {
    set label 1 sprintf('best %g h window: %.1f%%', window_h, best_mfu) at best1, graph 0.95 right offset -0.5,0 font ',10' front boxed
} else {
    set label 1 sprintf('best %g h window: %.1f%%', window_h, best_mfu) at best0, graph 0.95 left offset 0.5,0 font ',10' front boxed
}
plot phases using ((shade < 1 || column('phase') == 0) ? NaN : (column('t_start_ns') + column('t_end_ns')) / 2 / unit_ns):(ymax / 2):(column('t_start_ns') / unit_ns):(column('t_end_ns') / unit_ns):(0):(ymax) \
        with boxxy fs solid 0.25 noborder lc rgb '#aaaaaa' title (shade > 0 ? 'sync phases' : ''), \
     curve using (column('t')):(column('lo')):(column('hi')) with filledcurves fs solid 0.5 noborder lc rgb '#9ecae1' title (binned > 0 ? sprintf('range of per-sample MFU within %s bins (tokens/s on the right)', binw) : ''), \
     curve using (column('t')):(binned > 0 ? NaN : column('mfu')) with lines lw 1 lc rgb '#4292c6' title (binned > 0 ? '' : 'MFU per sample (tokens/s on the right)'), \
     curve using (column('t')):(column('window')) with lines lw 2.5 lc rgb '#08306b' title sprintf('MFU over the trailing %g h window', window_h), \
     mfu_train with lines dt 2 lw 1.5 lc rgb '#d62728' title sprintf('mean over training phases: %.1f%%', mfu_train)
