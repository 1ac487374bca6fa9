# plots/loss.gp: (e) loss vs tokens and vs simulated time, one line per run (e.g. per
# compression ratio); lines are training loss (mean over replicas per inner step), open
# circles validation loss.
# Variables: datadir, files (space-separated CSV names: mtokens,time,loss,kind), labels
#   (space-separated, one per file), tunit ('h' or 'min'), title.
if (!exists("scriptdir")) scriptdir = 'plots'
width = 1500
height = 650
load scriptdir.'/common.gp'
set multiplot layout 1, 2 title 'Loss: '.title.' (activation compression ratio in brackets)' font ',13'
set ylabel 'loss (nats/token)'
set key top right
set xlabel 'tokens trained (millions)'
set title 'loss vs tokens'
plot for [i=1:words(files)] datadir.'/'.word(files, i) using (column('kind') == 0 ? column('mtokens') : NaN):(column('loss')) with lines lw 2 lc i title word(labels, i), \
     for [i=1:words(files)] datadir.'/'.word(files, i) using (column('kind') == 1 ? column('mtokens') : NaN):(column('loss')) with points pt 6 ps 1.3 lc i title (i == 1 ? 'validation loss (open circles)' : '')
set xlabel 'simulated time ('.tunit.')'
set title 'loss vs simulated time'
plot for [i=1:words(files)] datadir.'/'.word(files, i) using (column('kind') == 0 ? column('time') : NaN):(column('loss')) with lines lw 2 lc i title word(labels, i), \
     for [i=1:words(files)] datadir.'/'.word(files, i) using (column('kind') == 1 ? column('time') : NaN):(column('loss')) with points pt 6 ps 1.3 lc i title (i == 1 ? 'validation loss (open circles)' : '')
unset multiplot
