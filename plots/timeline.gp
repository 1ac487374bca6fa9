# plots/timeline.gp: (c) pipeline timeline: one row per peer (stage-major: every replica
# of stage 0 first), one box per event coloured by kind; compute in the upper half of a
# row, transfers in the lower half, a peer that is down fills its row.
# Variables: title, npanels (1 or 2), nrows, ytics (a gnuplot tic list), and per panel i:
#   di (CSV: xlo,xhi,ylo,yhi,g; x in minutes), subi (panel title), xloi, xhii (minutes).
if (!exists("scriptdir")) scriptdir = 'plots'
width = 1700
height = 420 + 14 * nrows
load scriptdir.'/common.gp'
names = "forward backward/recompute fused(last-stage) optimizer send(act/grad) upload/download merge down"
colors = "#1f77b4 #ff7f0e #9467bd #2ca02c #17becf #e377c2 #8c564b #444444"
set style fill solid 1.0 noborder
set yrange [nrows - 0.5:-0.5]
eval('set ytics '.ytics.' font ",8"')
set ylabel 'peer (stage, replica)'
set xlabel 'simulated time (min)'
set grid xtics noytics
set bmargin 7
set multiplot layout 1, npanels title title.': pipeline timeline' font ',13'
do for [p=1:npanels] {
    d = value('d'.p)
    set title value('sub'.p)
    set xrange [value('xlo'.p):value('xhi'.p)]
    if (p == npanels) { set key outside below horizontal font ',10' } else { unset key }
    if (p > 1) { unset ylabel }
    plot for [g=1:8] d using (column('g') == g ? (column('xlo') + column('xhi')) / 2 : NaN):((column('ylo') + column('yhi')) / 2):(column('xlo')):(column('xhi')):(column('ylo')):(column('yhi')) \
        with boxxy lc rgb word(colors, g) title word(names, g)
}
unset multiplot
