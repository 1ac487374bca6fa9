# plots/common.gp: terminal, output and style shared by every figure; each script loads
# it first. Variables (set by `orionsim plot` with -e, or by hand):
#   fmt      'png' or 'svg'                 out      output file
#   pngterm  'pngcairo' (default) or 'png'  width, height   pixels (defaults below)
if (!exists("fmt")) fmt = 'png'
if (!exists("pngterm")) pngterm = 'pngcairo'
if (!exists("width")) width = 1200
if (!exists("height")) height = 700
if (fmt eq 'svg') {
    set terminal svg size width,height dynamic noenhanced font 'Sans,12' background '#ffffff'
} else {
    if (pngterm eq 'pngcairo') {
        set terminal pngcairo size width,height noenhanced font 'Sans,11' background '#ffffff'
    } else {
        set terminal png size width,height noenhanced background '#ffffff'
    }
}
set output out
set datafile separator ','
set datafile columnheaders
set datafile missing 'nan'
set grid back lc rgb '#dddddd'
set border lc rgb '#444444'
set key noautotitle
