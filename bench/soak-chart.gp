# Draws a soak's samples (soak.csv, written by bench/soak.sh) as one PNG of four panels sharing the time axis.
#   gnuplot -e "csv='soak.csv'; png='soak.png'; warmup=600; title='...'" bench/soak-chart.gp
set datafile separator ','
set terminal pngcairo size 1200,1000 font 'DejaVu Sans,10'
set output png
set multiplot layout 4,1 title title
set key outside right top
set grid
set xlabel ''
set format x ''
set lmargin 12
set rmargin 28
set arrow 1 from first warmup, graph 0 to first warmup, graph 1 nohead dashtype 2 lc rgb '#888888'
set ylabel 'MB'
set yrange [0:*]
plot csv using ($1/60):2 skip 1 with lines lw 2 title 'RSS', \
     csv using ($1/60):3 skip 1 with lines lw 2 title 'database file', \
     csv using ($1/60):4 skip 1 with lines lw 1 title 'write-ahead log'
set ylabel 'count'
plot csv using ($1/60):5 skip 1 with lines lw 2 title 'open fds', \
     csv using ($1/60):6 skip 1 with lines lw 2 title 'threads'
set ylabel 'ms'
plot csv using ($1/60):7 skip 1 with lines lw 2 title 'lag p50 (stored -> 1st attempt)', \
     csv using ($1/60):8 skip 1 with lines lw 2 title 'lag p99'
set xlabel 'minutes (dashed: end of warm-up)'
set format x '%g'
set ylabel ''
plot csv using ($1/60):9 skip 1 with lines lw 2 title 'acked webhooks/s', \
     csv using ($1/60):($10) skip 1 with lines lw 2 title 'unfinished deliveries', \
     csv using ($1/60):($11/100) skip 1 with lines lw 2 title 'stored webhooks / 100'
unset multiplot
