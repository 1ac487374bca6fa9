# plots/utilisation.gp: (a) where the wall-clock went, one stacked bar per run.
# Bars: training / uploading / merging / other shares of the simulated wall-clock (%);
# the training share is printed inside its bar; a black diamond (with its value) marks
# the published utilisation where the trace's /reference group has one.
# Variables: data (CSV: run,training,uploading,merging,other,published, in %), nruns, title.
# By hand: gnuplot -e "out='u.png'; data='results/x/data/utilisation.csv'; nruns=3; title='runs'" plots/utilisation.gp
if (!exists("scriptdir")) scriptdir = 'plots'
if (!exists("width")) width = 300 + 220 * nruns
if (width < 800) width = 800
load scriptdir.'/common.gp'
set title 'Utilisation breakdown: '.title
set style data histograms
set style histogram rowstacked
set style fill solid 0.9 border lc rgb '#333333'
set boxwidth 0.55
set ylabel 'share of simulated wall-clock (%)'
set yrange [0:112]
set ytics 0,10,100
set xrange [-0.6:nruns - 0.4]
set key outside right top vertical
plot data using (column('training')):xtic(1) title 'training' lc rgb '#4c9f38', \
     '' using (column('uploading')) title 'uploading (weights)' lc rgb '#e69f00', \
     '' using (column('merging')) title 'merging' lc rgb '#d55e00', \
     '' using (column('other')) title 'other (start-up, drain)' lc rgb '#999999', \
     '' using 0:(column('published')) with points pt 13 ps 2.2 lc rgb '#000000' title 'published utilisation', \
     '' using 0:(column('training') / 2):(sprintf('%.1f%%', column('training'))) with labels font ',13' tc rgb '#ffffff' notitle, \
     '' using ($0 + 0.06):(column('published')):(sprintf('%.1f%%', column('published'))) with labels left font ',11' notitle
