# plots/heatmap.gp: (f) a sweep heat map: one cell per point (x: second --vary key, y:
# first), coloured by a summary figure and labelled with its value; failed or pending
# points are grey cells saying so.
# Variables: data (CSV: ix,iy,<col>,<tcol>,...), col, tcol, title, cblabel, xt, yt
#   (gnuplot tic lists), xl, yl (axis labels), nx, ny, lower_better (1: dark green marks
#   the lowest values, for figures such as a loss gap; default 0).
if (!exists("scriptdir")) scriptdir = 'plots'
width = 360 + 130 * nx
if (width < 900) width = 900
height = 300 + 90 * ny
if (height < 500) height = 500
load scriptdir.'/common.gp'
set title title
set xlabel xl
set ylabel yl
set cblabel cblabel
set xrange [-0.5:nx - 0.5]
set yrange [-0.5:ny - 0.5]
eval('set xtics '.xt)
eval('set ytics '.yt)
set grid noxtics noytics
if (!exists("lower_better")) lower_better = 0
if (lower_better) {
    set palette defined (0 '#006837', 0.3 '#41ab5d', 0.65 '#fec44f', 1 '#fff7bc')
} else {
    set palette defined (0 '#fff7bc', 0.35 '#fec44f', 0.7 '#41ab5d', 1 '#006837')
}
set style textbox opaque fc rgb '#ffffff' border lc rgb '#888888'
set style fill solid 1.0 border lc rgb '#ffffff'
plot data using (column('ix')):(column('iy')):(0.5):(0.5) with boxxy lc rgb '#d9d9d9', \
     data using (column('ix')):(column('iy')):(0.5):(0.5):(column(col)) with boxxy lc palette, \
     data using (column('ix')):(column('iy')):(stringcolumn(tcol)) with labels boxed font ',11'
