# plots/uploads.gp: (d) per-peer pseudo-gradient upload times in the sync phases.
# Bars: mean upload time per peer over the cycles in the events table; dots: each cycle;
# red crosses (right axis): the peer's upload bandwidth. Bandwidth-limited stragglers are
# the tall bars over low crosses.
# Variables: each (CSV row,peer,cycle,seconds), per (CSV row,peer,label,mean_s,max_s,
#   up_mbps), title, nrows, ncycles.
if (!exists("scriptdir")) scriptdir = 'plots'
width = 600 + 22 * nrows
if (width < 1000) width = 1000
load scriptdir.'/common.gp'
set title title.': pseudo-gradient upload time per peer ('.sprintf('%d', ncycles).' cycle'.(ncycles > 1 ? 's' : '').' of events)'
set xlabel 'peer (stage, replica)'
set ylabel 'upload time (s)'
set y2label 'upload bandwidth (Mbit/s)'
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
set xrange [-0.7:nrows - 0.3]
set xtics rotate by 90 right font ',9'
set style fill solid 0.7 border lc rgb '#333333'
set boxwidth 0.7
set key outside below horizontal
plot per using (column('row')):(column('mean_s')):xtic(3) with boxes lc rgb '#6baed6' title 'mean upload time', \
     each using (column('row')):(column('seconds')) with points pt 7 ps 0.6 lc rgb '#08306b' title 'one cycle', \
     per using (column('row')):(column('up_mbps')) axes x1y2 with points pt 2 ps 1.2 lw 2 lc rgb '#d62728' title 'upload bandwidth (right axis)'
