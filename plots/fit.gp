# plots/fit.gp: a fit file (orionsim fit): the residual of each published figure at the
# best point (left), and the points the fit evaluated in the plane of two free keys, or
# of one key and chi2 (right): grey every point, green the points consistent with every
# fitted figure within its uncertainty, red the best point.
# Variables: figs (CSV figure,z,heldout,lo,hi: z at the best point, 1 for a held-out
#   figure, the z range over the consistent points), pts (CSV a,b,consistent,best),
#   title, xlab, ylab, logx, logy (0/1), nfig (rows of figs).
if (!exists("scriptdir")) scriptdir = 'plots'
load scriptdir.'/common.gp'
set multiplot layout 1,2 title title
# ---- residuals ----
set title 'residual at the best point (z = (replay - published) / uncertainty)'
set style fill solid 0.7 noborder
set boxwidth 0.6
set xrange [-0.7:nfig - 0.3]
set yrange [* < -1.5 : 1.5 < *]
set xtics rotate by 30 right font ',9'
set ylabel 'z'
set object 1 rect from graph 0, first -1 to graph 1, first 1 fc rgb '#c7e9c0' fs solid 0.5 noborder behind
set key top left
plot figs using 0:(column('heldout') > 0 ? NaN : column('z')):xtic(1) with boxes lc rgb '#4292c6' title 'fitted', \
     figs using 0:(column('heldout') > 0 ? column('z') : NaN) with boxes lc rgb '#fd8d3c' title 'held out (predicted)', \
     figs using 0:(column('lo')):(column('lo')):(column('hi')) with yerrorbars pt -1 lc rgb '#238b45' title 'span over consistent points'
unset object 1
# ---- region ----
set title 'evaluated points'
set xtics norotate font ''
set xlabel xlab
set ylabel ylab
set xrange [*:*]
set yrange [*:*]
if (logx > 0) { set logscale x }
if (logy > 0) { set logscale y }
set key top right
plot pts using (column('a')):(column('b')) with points pt 7 ps 0.6 lc rgb '#bbbbbb' title 'evaluated', \
     pts using (column('a')):(column('consistent') > 0 ? column('b') : NaN) with points pt 7 ps 0.9 lc rgb '#238b45' title 'consistent with every fitted figure', \
     pts using (column('a')):(column('best') > 0 ? column('b') : NaN) with points pt 3 ps 2.5 lw 2 lc rgb '#d62728' title 'best'
unset multiplot
